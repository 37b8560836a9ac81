"""Host firewall on Windows: the effective profiles (Get-NetFirewallProfile -PolicyStore
ActiveStore, i.e. after Group Policy) for the categories of the active networks;
fallback `netsh advfirewall show allprofiles state`, English or Vietnamese."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from yte_compliance.agent.probe import Context, Observed, Unknown
from yte_compliance.agent.probes.windows import NETSH_FIREWALL, SourceFailed, enum_name, source
from yte_compliance.agent.runner import CommandError
from yte_compliance.core.report import FirewallFacts

PROFILES = ("Domain", "Private", "Public")  # netsh prints them in this order in every language
CATEGORY_PROFILE = {"Public": "Public", "Private": "Private", "DomainAuthenticated": "Domain",
                    0: "Public", 1: "Private", 2: "Domain"}
# GpoBoolean / Action as numbers, when a raw CIM object is read instead of collect.ps1's names
_ENABLED = {0: "False", 1: "True", 2: "NotConfigured"}
_ACTION = {0: "NotConfigured", 2: "Allow", 4: "Block"}
_ON = {"on", "bật", "bat", "ein", "actif", "activé"}
_OFF = {"off", "tắt", "tat", "aus", "inactif", "désactivé"}


@dataclass(frozen=True)
class Profile:
    enabled: bool | None  # switched on
    filters: bool | None  # on, and its default inbound action is not Allow


def profile_states(rows: list[dict[str, Any]]) -> dict[str, Profile]:
    """A profile that is on but whose default inbound action is Allow does not filter.
    Enabled NotConfigured (neither Group Policy nor the local store says) is not read as
    on: its state is unknown here and comes from the effective policy (netsh); an inbound
    action NotConfigured is Windows' default, Block."""
    out = {}
    for r in rows:
        state = enum_name(r.get("Enabled"), _ENABLED)
        enabled = True if state == "True" else False if state == "False" else None
        inbound = enum_name(r.get("DefaultInboundAction"), _ACTION)
        filters = None if enabled is None else enabled and inbound != "Allow"
        out[str(r["Name"])] = Profile(enabled, filters)
    return out


def parse_netsh_state(text: str) -> dict[str, Profile]:
    """The three state lines, by position: language-independent for the order, and the
    on/off words of English and Vietnamese (and a few others); anything else is unknown.
    `state` shows no inbound action: an enabled profile is taken to block inbound, which
    is Windows' default (a Group Policy 'Allow' is seen only by the primary source)."""
    values: list[bool | None] = []
    text = unicodedata.normalize("NFC", text)  # code page 1258 sends "BẬT" decomposed
    for line in text.splitlines():
        m = re.match(r"^\S.*?\s{2,}(\S+)\s*$", line.strip())
        if not m or set(line.strip()) <= {"-"}:
            continue
        word = m.group(1).lower()
        if word in _ON:
            values.append(True)
        elif word in _OFF:
            values.append(False)
        elif len(values) < 3 and not line.strip().endswith(":"):
            values.append(None)
    if len(values) < 3:
        raise ValueError(f"expected 3 profile states in netsh output, found {len(values)}")
    return {name: Profile(v, v) for name, v in zip(PROFILES, values[:3], strict=True)}


def judge(states: dict[str, Profile], active: list[str]) -> FirewallFacts:
    """Compliant when every profile that applies to an active network filters inbound
    traffic (all three when the active networks are not known)."""
    applicable = active or list(PROFILES)
    unread = Profile(None, None)
    facts = FirewallFacts(
        profiles_off=[p for p in PROFILES if states.get(p, unread).enabled is False],
        managers_active=["windows-firewall"] if any(s.enabled for s in states.values()) else [],
        filtering_backends=[f"windows-firewall: {p}" for p in applicable
                            if states.get(p, unread).filters],
    )
    filters = [states.get(p, unread).filters for p in applicable]
    if False in filters:
        facts.inbound_filtering = False
    elif all(f is True for f in filters):
        facts.inbound_filtering = True
    return facts


def collect(ctx: Context) -> Observed:
    try:
        active = sorted({CATEGORY_PROFILE.get(r.get("NetworkCategory"), "Public")
                         for r in source(ctx, "net_profiles")})
    except SourceFailed:
        active = []
    why = "a profile's state could not be read"
    try:
        states = profile_states(source(ctx, "firewall"))
    except (SourceFailed, KeyError) as e:
        try:
            states = netsh_states(ctx)
        except (CommandError, ValueError) as e2:
            raise Unknown(f"Get-NetFirewallProfile failed ({e}); netsh: {e2}") from None
    else:
        unset = [name for name, p in states.items() if p.enabled is None]
        if unset:  # NotConfigured: the effective state is netsh's
            try:
                effective = netsh_states(ctx)
                states.update({name: effective[name] for name in unset if name in effective})
            except (CommandError, ValueError) as e2:
                why = f"{', '.join(unset)}: Enabled NotConfigured, and netsh: {e2}"
    facts = judge(states, active)
    unknown = {}
    if facts.inbound_filtering is None:
        unknown["inbound_filtering"] = why
    return Observed(facts, unknown)


def netsh_states(ctx: Context) -> dict[str, Profile]:
    result = ctx.run(list(NETSH_FIREWALL))
    if not result.ok:
        raise ValueError(f"netsh failed: {result.stderr.strip()[:200]}")
    return parse_netsh_state(result.stdout)
