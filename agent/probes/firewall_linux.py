"""Host firewall on Linux: does a filtering policy apply to inbound traffic?

'Enabled' means an input hook whose policy drops, or whose rules (followed through jumps)
drop or reject: not that nftables is installed or a module is loaded. nftables is read
from `nft -j list ruleset` (it also shows iptables-nft rules), legacy iptables from
`iptables-legacy-save`; ufw and firewalld are reported as the managers in charge.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from yte_compliance.agent.probe import Context, Observed, Unknown
from yte_compliance.agent.runner import CommandError
from yte_compliance.core.report import FirewallFacts

_VERDICT_KEYS = {"drop", "reject"}


@dataclass(frozen=True)
class Filtering:
    filters: bool
    where: list[str]  # "inet filter input" per chain that filters


def parse_nft_ruleset(text: str) -> Filtering:
    items = json.loads(text).get("nftables", [])
    chains: dict[tuple[str, str, str], dict] = {}
    rules: dict[tuple[str, str, str], list[list]] = {}
    for item in items:
        if "chain" in item:
            c = item["chain"]
            chains[(c["family"], c["table"], c["name"])] = c
        elif "rule" in item:
            r = item["rule"]
            rules.setdefault((r["family"], r["table"], r["chain"]), []).append(r.get("expr", []))

    def chain_filters(key: tuple[str, str, str], seen: set) -> bool:
        if key in seen:
            return False
        seen.add(key)
        for expr in rules.get(key, []):
            for stmt in expr:
                if not isinstance(stmt, dict):
                    continue
                if _VERDICT_KEYS & stmt.keys():
                    return True
                xt = stmt.get("xt")  # iptables-nft extension targets shown opaquely
                if isinstance(xt, dict) and str(xt.get("name", "")).upper() in ("REJECT", "DROP"):
                    return True
                for jump in ("jump", "goto"):
                    if jump in stmt and isinstance(stmt[jump], dict):
                        target = (key[0], key[1], stmt[jump].get("target", ""))
                        if chain_filters(target, seen):
                            return True
        return False

    where = []
    for key, c in chains.items():
        if c.get("hook") != "input" or c.get("type", "filter") != "filter":
            continue
        if c.get("policy") == "drop" or chain_filters(key, set()):
            where.append(f"{key[0]} {key[1]} {key[2]}")
    return Filtering(bool(where), sorted(where))


def parse_iptables_save(text: str, family: str = "ip") -> Filtering:
    """`iptables-save` output: the filter table's INPUT policy and rules, through jumps."""
    policies: dict[str, str] = {}
    rules: dict[str, list[str]] = {}
    table = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("*"):
            table = line[1:]
        elif table != "filter":
            continue
        elif line.startswith(":"):
            name, policy = line[1:].split()[:2]
            policies[name] = policy
        elif line.startswith("-A "):
            parts = line.split()
            target = None
            for flag in ("-j", "-g"):
                if flag in parts and parts.index(flag) + 1 < len(parts):
                    target = parts[parts.index(flag) + 1]
            if target:
                rules.setdefault(parts[1], []).append(target)

    def filters(chain: str, seen: set) -> bool:
        if chain in seen:
            return False
        seen.add(chain)
        for target in rules.get(chain, []):
            if target in ("DROP", "REJECT") or (target in policies and filters(target, seen)):
                return True
        return False

    if policies.get("INPUT") == "DROP" or filters("INPUT", set()):
        return Filtering(True, [f"{family} filter INPUT"])
    return Filtering(False, [])


def parse_ufw_status(text: str) -> bool | None:
    for line in text.splitlines():
        if line.lower().startswith("status:"):
            return line.split(":", 1)[1].strip().lower() == "active"
    return None


def collect(ctx: Context) -> Observed:
    facts = FirewallFacts()
    read: list[str] = []
    problems: list[str] = []

    sources = [
        ("nftables", ["nft", "-j", "list", "ruleset"], parse_nft_ruleset),
        # iptables-nft rules live in nftables: read them here only when nft itself is missing
        ("iptables", ["iptables-save"], parse_iptables_save),
        ("iptables-legacy", ["iptables-legacy-save"], parse_iptables_save),
        ("ip6tables-legacy", ["ip6tables-legacy-save"],
         lambda t: parse_iptables_save(t, "ip6")),
    ]
    for name, argv, parse in sources:
        if name == "iptables" and "nftables" in read:
            continue
        try:
            result = ctx.run(argv)
        except CommandError:
            continue  # not installed: nothing to read there
        if not result.ok:
            problems.append(f"{argv[0]}: {(result.stderr or result.stdout).strip()[:200]}")
            continue
        try:
            found = parse(result.stdout)
        except (ValueError, KeyError, TypeError) as e:
            problems.append(f"{argv[0]}: unreadable output ({e})")
            continue
        read.append(name)
        if found.filters:
            facts.filtering_backends.extend(f"{name}: {w}" for w in found.where)

    for manager, argv in (("ufw", ["ufw", "status"]), ("firewalld", ["firewall-cmd", "--state"])):
        try:
            result = ctx.run(argv)
        except CommandError:
            continue
        active = (parse_ufw_status(result.stdout) if manager == "ufw"
                  else result.stdout.strip() == "running")
        if active:
            facts.managers_active.append(manager)

    if not read:
        raise Unknown("no firewall rule set could be read: " +
                      ("; ".join(problems) or "neither nft nor iptables is installed"))
    facts.inbound_filtering = bool(facts.filtering_backends)
    return Observed(facts)
