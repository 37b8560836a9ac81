"""Inbound filtering from recorded nft / iptables-save / ufw outputs."""

import json
from pathlib import Path

import pytest

from yte_compliance.agent.probe import Context, run_probe
from yte_compliance.agent.probes.firewall_linux import (
    collect,
    parse_iptables_save,
    parse_nft_ruleset,
    parse_ufw_status,
)
from yte_compliance.agent.runner import RecordedRunner

DIR = Path(__file__).parent.parent / "fixtures/linux/firewall"
CASES = json.loads((DIR / "cases.json").read_text())


@pytest.mark.parametrize("name", sorted(CASES["nft"]))
def test_nft(name):
    found = parse_nft_ruleset((DIR / f"{name}.nft.json").read_text())
    assert found.filters is CASES["nft"][name]["filters"], CASES["nft"][name]["note"]
    assert bool(found.where) is found.filters


@pytest.mark.parametrize("name", sorted(CASES["iptables"]))
def test_iptables_save(name):
    found = parse_iptables_save((DIR / f"{name}.iptables-save.txt").read_text())
    assert found.filters is CASES["iptables"][name]["filters"]


def test_iptables_accept_only_does_not_filter():
    text = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n"
    assert parse_iptables_save(text).filters is False
    nat_only = "*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j DROP\nCOMMIT\n"
    assert parse_iptables_save(nat_only).filters is False


@pytest.mark.parametrize(("text", "active"), list(CASES["ufw"].items()))
def test_ufw(text, active):
    assert parse_ufw_status(text) is active


def _runner(nft_case=None, ufw=None, nft_rc=0, nft_err=""):
    cmds = {}
    if nft_case is not None:
        cmds["nft -j list ruleset"] = (nft_rc, (DIR / f"{nft_case}.nft.json").read_text(), nft_err)
    elif nft_rc:
        cmds["nft -j list ruleset"] = (nft_rc, "", nft_err)
    if ufw is not None:
        cmds["ufw status"] = (0, ufw, "")
    return RecordedRunner(cmds)


def test_probe_filtering_with_ufw_active():
    result = run_probe(collect, Context(run=_runner("iptables-nft-ufw-style-reject",
                                                    "Status: active\n")))
    assert result.status == "ok"
    assert result.facts.inbound_filtering is True
    assert result.facts.managers_active == ["ufw"]
    assert result.facts.filtering_backends == ["nftables: ip filter INPUT"]


def test_probe_default_debian_is_not_filtering():
    result = run_probe(collect, Context(run=_runner("nft-debian-default-accept")))
    assert (result.status, result.facts.inbound_filtering) == ("ok", False)


def test_probe_without_permission_is_unknown_not_off():
    runner = _runner(nft_rc=1, nft_err="Operation not permitted (you must be root)")
    result = run_probe(collect, Context(run=runner))
    assert result.status == "unknown"
    assert "Operation not permitted" in result.reason


def test_probe_without_any_tool_is_unknown():
    result = run_probe(collect, Context(run=RecordedRunner({})))
    assert result.status == "unknown" and "neither nft nor iptables" in result.reason
