"""Host firewall on Linux: is unsolicited inbound traffic refused by default, on IPv4 and
on IPv6?

That is what "tường lửa trên máy" must mean, for each family the kernel runs: some input
chain that the family's packets cross refuses what it was not told to let in, by its
policy (drop) or by a final catch-all drop or reject. Accepts before that may let in
loopback, established or related traffic, ICMP and explicitly listed ports (those are
reported as open). A bare accept before it lets everything in; a drop of one port, with
the policy accept, refuses only that port. Rules are followed through jumps and gotos.
An input hook that exists, nftables installed or a module loaded proves nothing.

nftables is read from `nft -j list ruleset` (it also shows iptables-nft rules); without
nft, `iptables-save` and `ip6tables-save`, and the legacy backends. ufw and firewalld
are reported as the managers in charge.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from yte_compliance.agent.probe import Context, Observed, Unknown
from yte_compliance.agent.runner import CommandError
from yte_compliance.core.report import FirewallFacts

FAMILIES = ("ipv4", "ipv6")
_COVERS = {"ip": ("ipv4",), "ip6": ("ipv6",), "inet": ("ipv4", "ipv6")}
_ICMP = {"icmp", "ipv6-icmp", "icmpv6", "1", "58"}


@dataclass
class Family:
    """One family's inbound verdict, and why."""

    refused: bool = False  # unsolicited inbound refused by default
    where: list[str] = field(default_factory=list)  # the chains that refuse it
    open: list[str] = field(default_factory=list)  # what they still let in ("tcp/22")


@dataclass(frozen=True)
class Inbound:
    families: dict[str, Family]

    def refused(self, family: str) -> bool:
        return self.families[family].refused


def _new() -> dict[str, Family]:
    return {f: Family() for f in FAMILIES}


# ---- the outcome of one chain, read rule by rule -------------------------------------------

BARE, LIMITED = "bare", "limited"  # an accept that lets everything in, or only some traffic


@dataclass
class _Walk:
    refused: bool | None = None  # decided: True (catch-all refusal), False (bare accept)
    open: list[str] = field(default_factory=list)


def _members(value: Any) -> list[Any]:
    """A match's right side as a list: nft writes a set as {"set": [...]}."""
    if isinstance(value, dict) and "set" in value:
        return list(value["set"])
    return value if isinstance(value, list) else [value]


def _accept_kind(matches: list[tuple[str, Any]], open_ports: list[str]) -> str:
    """A rule's matches, as (key, value): only loopback, conntrack, ICMP and ports (and
    addresses, which narrow it further) make an accept limited."""
    if not matches:
        return BARE
    narrow = False
    for key, value in matches:
        values = [str(v).lower() for v in _members(value)]
        if key == "iif" and values == ["lo"]:
            narrow = True
        elif key == "ct":
            narrow = True
        elif key == "proto" and values and all(v in _ICMP for v in values):
            narrow = True
        elif key == "port":
            open_ports.append(str(value))
            narrow = True
        elif key in ("iif", "proto"):
            continue  # an interface or protocol alone still lets all of it in
        else:
            narrow = True  # a source address, or a condition not modelled: it narrows
    return LIMITED if narrow else BARE


@dataclass(frozen=True)
class Rule:
    """One rule of either backend, as the walk needs it."""

    matches: list[tuple[str, Any]]
    action: str | None  # accept | drop | reject | return | jump | goto | None (counter, log…)
    target: Any = None  # the chain a jump or goto enters


def _decides(chains: dict[Any, list[Rule]], key: Any, state: _Walk, seen: frozenset) -> bool:
    """Follow ``key``'s rules in order; True when a verdict for all traffic was reached
    (``state.refused`` says which), False when the chain falls through or returns."""
    if key in seen:
        return False
    for rule in chains.get(key, []):
        if rule.action in ("jump", "goto"):
            if not rule.matches and _decides(chains, rule.target, state, seen | {key}):
                return True
            if rule.matches:  # a conditional jump: what the chain lets in, it lets in
                sub = _Walk()
                _decides(chains, rule.target, sub, seen | {key})
                state.open.extend(sub.open)
            if rule.action == "goto" and not rule.matches:
                return False  # the rest of this chain is never reached
        elif rule.action == "accept":
            if _accept_kind(rule.matches, state.open) == BARE:
                state.refused = False
                return True
        elif rule.action in ("drop", "reject") and not rule.matches:
            state.refused = True
            return True
        elif rule.action == "return" and not rule.matches:
            return False  # back to the calling chain
    return False


def _refused(chains: dict[Any, list[Rule]], key: Any, policy_drops: bool) -> _Walk:
    state = _Walk()
    if not _decides(chains, key, state, frozenset()):
        state.refused = policy_drops
    return state


# ---- nftables ------------------------------------------------------------------------------


def _nft_matches(expr: list[Any]) -> tuple[list[tuple[str, Any]], str | None, dict | None]:
    """(matches, verdict: accept | drop | reject | None, jump/goto statement)."""
    matches: list[tuple[str, Any]] = []
    verdict, jump = None, None
    proto = None
    for stmt in expr:
        if not isinstance(stmt, dict):
            continue
        if "match" in stmt:
            left, right = stmt["match"].get("left", {}), stmt["match"].get("right")
            if isinstance(left, dict) and "meta" in left:
                key = left["meta"].get("key")
                if key in ("iif", "iifname"):
                    matches.append(("iif", right))
                elif key in ("l4proto", "nfproto", "protocol"):
                    matches.append(("proto", right))
                else:
                    matches.append((f"meta.{key}", right))
            elif isinstance(left, dict) and "ct" in left:
                matches.append(("ct", right))
            elif isinstance(left, dict) and "payload" in left:
                p = left["payload"]
                if p.get("field") == "dport":
                    proto = p.get("protocol")
                    for port in _members(right):
                        if isinstance(port, dict) and "range" in port:
                            port = "-".join(str(x) for x in port["range"])
                        matches.append(("port", f"{proto}/{port}"))
                elif p.get("field") in ("saddr",):
                    matches.append(("saddr", right))
                elif p.get("field") in ("protocol", "nexthdr"):
                    matches.append(("proto", right))
                else:
                    matches.append((f"payload.{p.get('field')}", right))
            else:
                matches.append(("other", right))
        elif "accept" in stmt:
            verdict = "accept"
        elif "drop" in stmt:
            verdict = "drop"
        elif "reject" in stmt:
            verdict = "reject"
        elif "return" in stmt:
            verdict = "return"
        elif "jump" in stmt or "goto" in stmt:
            jump = stmt
        elif isinstance(stmt.get("xt"), dict):  # iptables-nft extensions, shown opaquely
            xt = stmt["xt"]
            name = str(xt.get("name", "")).upper()
            if xt.get("type") == "target" and name in ("REJECT", "DROP"):
                verdict = name.lower()
            elif xt.get("type") == "target" and name == "ACCEPT":
                verdict = "accept"
            elif xt.get("type") == "match":
                matches.append(("other", name))
    return matches, verdict, jump


def parse_nft_ruleset(text: str) -> Inbound:
    items = json.loads(text).get("nftables", [])
    chains: dict[tuple[str, str, str], dict] = {}
    rules: dict[Any, list[Rule]] = {}
    for item in items:
        if "chain" in item:
            c = item["chain"]
            chains[(c["family"], c["table"], c["name"])] = c
        elif "rule" in item:
            r = item["rule"]
            matches, verdict, jump = _nft_matches(r.get("expr", []))
            action, target = verdict, None
            if jump is not None:
                action = "goto" if "goto" in jump else "jump"
                target = (r["family"], r["table"], str(jump[action].get("target", "")))
            rules.setdefault((r["family"], r["table"], r["chain"]), []).append(
                Rule(matches, action, target))

    out = _new()
    for key, c in chains.items():
        if c.get("hook") != "input" or c.get("type", "filter") != "filter":
            continue
        state = _refused(rules, key, c.get("policy") == "drop")
        if state.refused:
            for family in _COVERS.get(key[0], ()):
                f = out[family]
                f.refused = True
                f.where.append(f"{key[0]} {key[1]} {key[2]}")
                f.open.extend(p for p in state.open if p not in f.open)
    return Inbound(out)


# ---- iptables-save ---------------------------------------------------------------------------


def _iptables_matches(parts: list[str]) -> list[tuple[str, Any]]:
    matches: list[tuple[str, Any]] = []
    proto = None
    i = 2
    while i < len(parts):
        opt = parts[i]
        value = parts[i + 1] if i + 1 < len(parts) else ""
        if opt in ("-j", "-g"):
            break  # what follows belongs to the target (--reject-with …), not the match
        if opt == "-m":  # a module name: what follows it is the condition
            i += 2
            continue
        if opt in ("-i", "--in-interface"):
            matches.append(("iif", value))
        elif opt in ("-p", "--protocol"):
            proto = value
            matches.append(("proto", value))
        elif opt in ("--dport", "--dports", "--destination-port"):
            for port in value.split(","):
                matches.append(("port", f"{proto}/{port}"))
        elif opt in ("--ctstate", "--state"):
            matches.append(("ct", value))
        elif opt in ("-s", "--source"):
            matches.append(("saddr", value))
        elif opt == "!":
            matches.append(("other", "!"))
            i += 1
            continue
        elif opt.startswith("-"):
            matches.append(("other", opt))
        else:
            i += 1
            continue
        i += 2
    return matches


def parse_iptables_save(text: str, family: str = "ipv4") -> Inbound:
    """`iptables-save` (or `ip6tables-save` with family ipv6): the filter table's INPUT."""
    policies: dict[str, str] = {}
    raw: list[tuple[str, list[str], str, str]] = []  # chain, parts, target, -j or -g
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
            for flag in ("-j", "-g"):
                if flag in parts and parts.index(flag) + 1 < len(parts):
                    raw.append((parts[1], parts, parts[parts.index(flag) + 1], flag))
    rules: dict[Any, list[Rule]] = {}
    for chain, parts, target, flag in raw:
        if target in policies and target not in ("INPUT", "OUTPUT", "FORWARD"):
            action = "goto" if flag == "-g" else "jump"
        else:
            action = target.lower() if target in ("ACCEPT", "DROP", "REJECT", "RETURN") else None
        rules.setdefault(chain, []).append(Rule(_iptables_matches(parts), action, target))

    out = _new()
    if "INPUT" in policies:
        state = _refused(rules, "INPUT", policies["INPUT"] == "DROP")
        if state.refused:
            f = out[family]
            f.refused, f.open = True, state.open
            f.where = [f"{'ip' if family == 'ipv4' else 'ip6'} filter INPUT"]
    return Inbound(out)


def parse_ufw_status(text: str) -> bool | None:
    for line in text.splitlines():
        if line.lower().startswith("status:"):
            return line.split(":", 1)[1].strip().lower() == "active"
    return None


def ipv6_off(ctx: Context) -> bool:
    """IPv6 switched off in the kernel (disable_ipv6, or not built): it needs no filter."""
    try:
        return ctx.read_text("/proc/sys/net/ipv6/conf/all/disable_ipv6").strip() == "1"
    except FileNotFoundError:
        return not ctx.path("/proc/net/if_inet6").exists()
    except OSError:
        return False


def collect(ctx: Context) -> Observed:
    facts = FirewallFacts()
    read: list[str] = []
    problems: list[str] = []
    families = _new()

    sources = [
        ("nftables", ["nft", "-j", "list", "ruleset"], parse_nft_ruleset),
        # iptables-nft rules live in nftables: read them here only when nft itself is missing
        ("iptables", ["iptables-save"], parse_iptables_save),
        ("ip6tables", ["ip6tables-save"], lambda t: parse_iptables_save(t, "ipv6")),
        ("iptables-legacy", ["iptables-legacy-save"], parse_iptables_save),
        ("ip6tables-legacy", ["ip6tables-legacy-save"],
         lambda t: parse_iptables_save(t, "ipv6")),
    ]
    for name, argv, parse in sources:
        if name in ("iptables", "ip6tables") and "nftables" in read:
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
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            problems.append(f"{argv[0]}: unreadable output ({e})")
            continue
        read.append(name)
        for family, f in found.families.items():
            if f.refused:
                families[family].refused = True
                families[family].where.extend(f"{name}: {w}" for w in f.where)
                families[family].open.extend(p for p in f.open
                                             if p not in families[family].open)

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
    v6_off = ipv6_off(ctx)
    facts.ipv4_default = "refuse" if families["ipv4"].refused else "accept"
    facts.ipv6_default = ("off" if v6_off else
                          "refuse" if families["ipv6"].refused else "accept")
    facts.filtering_backends = sorted({w for f in families.values() for w in f.where})
    facts.open_ports = sorted({p for f in families.values() if f.refused for p in f.open})
    facts.inbound_filtering = families["ipv4"].refused and (families["ipv6"].refused or v6_off)
    return Observed(facts)
