"""What "tường lửa trên máy" means, on real rule sets: each one loaded into a fresh network
namespace with nft (or iptables/ip6tables on the nf_tables backend), then the whole
firewall probe runs its commands inside that namespace."""

from __future__ import annotations

import subprocess
import uuid

import pytest

from tests.conftest import need_binary
from tests.netns import need_root
from yte_compliance.agent.probe import Context, run_probe
from yte_compliance.agent.probes.firewall_linux import collect
from yte_compliance.agent.runner import run

pytestmark = pytest.mark.integration

BASE = "type filter hook input priority 0"


def table(family: str, *chains: str) -> str:
    """An nft table of ``chains``, each "name: statement; statement; …"."""
    body = []
    for chain in chains:
        name, _, statements = chain.partition(":")
        lines = "".join(f"    {s.strip()}\n" for s in statements.split(";") if s.strip())
        body.append(f"  chain {name} {{\n{lines}  }}\n")
    return f"table {family} t {{\n{''.join(body)}}}\n"


# name → (rule set, IPv4 refused, IPv6 refused, open ports)
NFT = {
    "policy drop, but a bare accept first": (
        table("inet", f"input: {BASE}; policy drop; accept"), False, False, []),
    "an ip6 table only: IPv4 wide open": (
        table("ip6", f"input: {BASE}; policy drop; ct state established,related accept; "
                     "iif lo accept"), False, True, []),
    "an ip table only: IPv6 wide open": (
        table("ip", f"input: {BASE}; policy drop; ct state established,related accept"),
        True, False, []),
    "policy accept and one port dropped": (
        table("inet", f"input: {BASE}; policy accept; tcp dport 22 drop"), False, False, []),
    "a workstation done right": (
        table("inet", f"input: {BASE}; policy drop; iif lo accept; "
                      "ct state established,related accept; "
                      "meta l4proto { icmp, ipv6-icmp } accept; tcp dport { 22, 3389 } accept"),
        True, True, ["tcp/22", "tcp/3389"]),
    "firewalld: zones, then the default zone": (
        table("inet", "public: tcp dport 22 accept; reject",
              'zones: iifname "eth0" goto public; goto public',
              f"input: {BASE}; policy accept; ct state established,related accept; jump zones"),
        True, True, ["tcp/22"]),
}
IPTABLES = {  # iptables-restore / ip6tables-restore input, both families
    "iptables: INPUT DROP for IPv4 and IPv6": (
        "*filter\n:INPUT DROP [0:0]\n-A INPUT -i lo -j ACCEPT\n"
        "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\nCOMMIT\n",
        True, True),
}


@pytest.fixture
def netns():
    need_root()
    need_binary("nft")
    need_binary("ip")
    name = f"yte-fw-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True, timeout=30)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30)


def _probe(ns: str, tmp_path):
    def inside(argv, timeout: float = 10.0):
        return run(["ip", "netns", "exec", ns, *argv], timeout)

    proc = tmp_path / "proc/sys/net/ipv6/conf/all"  # this test's machine runs IPv6
    proc.mkdir(parents=True)
    (proc / "disable_ipv6").write_text("0\n")
    return run_probe(collect, Context(root=tmp_path, run=inside))


def _load(ns: str, argv: list[str], text: str) -> None:
    done = subprocess.run(["ip", "netns", "exec", ns, *argv], input=text, text=True,
                          capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("name", sorted(NFT))
def test_nft_rule_sets(netns, tmp_path, name):
    rules, v4, v6, open_ports = NFT[name]
    _load(netns, ["nft", "-f", "-"], rules)
    result = _probe(netns, tmp_path)
    f = result.facts
    assert result.status == "ok", result.reason
    assert (f.ipv4_default, f.ipv6_default) == (
        "refuse" if v4 else "accept", "refuse" if v6 else "accept"), name
    assert f.inbound_filtering is (v4 and v6), name
    assert f.open_ports == open_ports, name


@pytest.mark.parametrize("name", sorted(IPTABLES))
def test_iptables_rule_sets(netns, tmp_path, name):
    need_binary("iptables-restore")
    rules, v4, v6 = IPTABLES[name]
    _load(netns, ["iptables-restore"], rules)
    _load(netns, ["ip6tables-restore"], rules)
    f = _probe(netns, tmp_path).facts
    assert (f.ipv4_default, f.ipv6_default, f.inbound_filtering) == (
        "refuse" if v4 else "accept", "refuse" if v6 else "accept", v4 and v6)


def test_an_empty_namespace_filters_nothing(netns, tmp_path):
    f = _probe(netns, tmp_path).facts
    assert (f.ipv4_default, f.ipv6_default, f.inbound_filtering) == ("accept", "accept", False)
