"""What the department has decided beyond the targets: staff's declarations and budgets,
waivers, the operating-system lifecycle data, and whether PCs without an agent count.
With it, a host's reported facts become the facts the checks judge."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from yte_compliance.checks.declarations import Declarations
from yte_compliance.checks.lifecycle import DERIVED as LIFECYCLE_FACTS
from yte_compliance.checks.lifecycle import Lifecycle, load_lifecycle
from yte_compliance.checks.targets import ROLES
from yte_compliance.checks.waivers import Waivers

JUDGED_FACTS = LIFECYCLE_FACTS | {"host.role", "host.role_source"}


@functools.lru_cache(maxsize=1)
def shipped_lifecycle() -> Lifecycle:
    return load_lifecycle()


@dataclass(frozen=True)
class Policy:
    declarations: Declarations = field(default_factory=Declarations)
    waivers: Waivers = field(default_factory=Waivers)
    lifecycle: Lifecycle | None = None  # None: the data the package ships
    count_unmanaged: bool = True  # PCs seen on the LAN without an agent count as unknown

    def judged(self, facts: Mapping[str, Any], role_override: str | None, today: dt.date
               ) -> tuple[str, dict[str, Any]]:
        """The host's role and its facts with what the checks derive added: the role
        (the sites file, else the edition's kind, else workstation: the plans count every
        PC someone works at, and a PC is not left out on a guess) and its OS lifecycle."""
        reported = facts.get("hardware.system_role")
        if role_override is not None:
            role, source = role_override, "sites file"
        elif reported in ROLES:
            role, source = reported, str(facts.get("hardware.system_role_source") or "reported")
        else:
            role, source = "workstation", "assumed: the edition's kind is unknown"
        out = dict(facts)
        out["host.role"], out["host.role_source"] = role, source
        out.update((self.lifecycle or shipped_lifecycle()).facts(facts, today))
        return role, out
