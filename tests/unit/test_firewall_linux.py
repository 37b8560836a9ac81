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
    case = CASES["nft"][name]
    for family in ("ipv4", "ipv6"):
        assert found.refused(family) is case[family], (family, case["note"])
        assert bool(found.families[family].where) is case[family]


@pytest.mark.parametrize("name", sorted(CASES["iptables"]))
def test_iptables_save(name):
    found = parse_iptables_save((DIR / f"{name}.iptables-save.txt").read_text())
    assert found.refused("ipv4") is CASES["iptables"][name]["ipv4"]
    assert found.families["ipv4"].open == ["tcp/22"]


@pytest.mark.parametrize(("rules", "refused", "open_ports"), [
    # policy drop, but a bare accept first: everything let in
    (":INPUT DROP [0:0]\n-A INPUT -j ACCEPT\n", False, []),
    # policy accept with one port dropped: every other port open
    (":INPUT ACCEPT [0:0]\n-A INPUT -p tcp -m tcp --dport 22 -j DROP\n", False, []),
    # the usual good one: loopback, established, ICMP and one port, then drop
    (":INPUT DROP [0:0]\n-A INPUT -i lo -j ACCEPT\n"
     "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"
     "-A INPUT -p icmp -j ACCEPT\n-A INPUT -p tcp -m tcp --dport 3389 -j ACCEPT\n",
     True, ["tcp/3389"]),
    # an accept of a whole interface lets all of it in
    (":INPUT DROP [0:0]\n-A INPUT -i eth0 -j ACCEPT\n", False, []),
    # accept only, no refusal
    (":INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\n", False, []),
])
def test_iptables_what_refused_by_default_means(rules, refused, open_ports):
    found = parse_iptables_save(f"*filter\n{rules}COMMIT\n")
    assert found.refused("ipv4") is refused
    assert found.families["ipv4"].open == open_ports  # reported only where it is refused
    nat_only = "*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j DROP\nCOMMIT\n"
    assert parse_iptables_save(nat_only).refused("ipv4") is False


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


def test_probe_ufw_filters_ipv4_and_ipv6_is_open_unless_off(tmp_path):
    """An ip-only table leaves IPv6 wide open: not a firewall on the PC, unless the
    kernel runs no IPv6 at all."""
    proc = tmp_path / "proc/sys/net/ipv6/conf/all"
    proc.mkdir(parents=True)
    (proc / "disable_ipv6").write_text("0\n")  # a recorded machine, whatever this one runs
    result = run_probe(collect, Context(root=tmp_path, run=_runner(
        "iptables-nft-ufw-style-reject", "Status: active\n")))
    assert result.status == "ok"
    f = result.facts
    assert (f.ipv4_default, f.ipv6_default, f.inbound_filtering) == ("refuse", "accept", False)
    assert f.managers_active == ["ufw"] and f.open_ports == ["tcp/22"]
    assert f.filtering_backends == ["nftables: ip filter INPUT"]
    (proc / "disable_ipv6").write_text("1\n")
    result = run_probe(collect, Context(root=tmp_path, run=_runner(
        "iptables-nft-ufw-style-reject")))
    assert (result.facts.ipv6_default, result.facts.inbound_filtering) == ("off", True)


def test_probe_inet_policy_drop_filters_both_families(tmp_path):
    proc = tmp_path / "proc/sys/net/ipv6/conf/all"
    proc.mkdir(parents=True)
    (proc / "disable_ipv6").write_text("0\n")
    result = run_probe(collect, Context(root=tmp_path, run=_runner("nft-input-policy-drop")))
    f = result.facts
    assert (f.ipv4_default, f.ipv6_default, f.inbound_filtering) == ("refuse", "refuse", True)


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
