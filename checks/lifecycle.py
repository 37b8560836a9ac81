"""Operating-system lifecycle: until when a host's release gets security updates from its
vendor (configs/os_lifecycle.yaml), and the host facts the checks derive from it. Pure:
the data is loaded once and passed in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yte_compliance.core.assets import CONFIGS, config_text
from yte_compliance.core.yamlconf import Section, load_yaml, parse_yaml

CHANNELS = ("home_pro", "enterprise", "ltsc", "iot_ltsc")
PRODUCTS = ("client", "server")
DERIVED = frozenset({"os.release", "os.support_ends_on", "os.supported", "os.lifecycle_source"})


@dataclass(frozen=True)
class Release:
    release: str  # the name a reader knows: "Windows 10 22H2", "Debian 12 bookworm"
    ends: dt.date  # the last day of security updates
    source: str  # where the date comes from


@dataclass(frozen=True)
class Lifecycle:
    windows: Mapping[tuple[str, int, str], Release]  # (product, build, channel)
    linux: Mapping[tuple[str, str], Release]  # (os-release NAME, version)

    def release_of(self, facts: Mapping[str, Any]) -> Release | None:
        """The host's release from its reported OS facts; None when not listed."""
        family, name = facts.get("hardware.os_family"), facts.get("hardware.os_name")
        if not isinstance(name, str):
            return None
        if family == "windows":
            try:
                build = int(str(facts.get("hardware.os_build") or ""))
            except ValueError:
                return None
            product = "server" if "Server" in name else "client"
            return self.windows.get((product, build, windows_channel(name)))
        if family == "linux":
            version = str(facts.get("hardware.os_version") or "")
            if not version:
                return None
            return (self.linux.get((name, version))
                    or self.linux.get((name, version.split(".", 1)[0])))
        return None

    def facts(self, facts: Mapping[str, Any], today: dt.date) -> dict[str, Any]:
        """os.release, os.support_ends_on, os.supported (None: release not listed)."""
        r = self.release_of(facts)
        if r is None:
            return dict.fromkeys(DERIVED)
        return {"os.release": r.release, "os.support_ends_on": r.ends.isoformat(),
                "os.supported": today <= r.ends, "os.lifecycle_source": r.source}


def windows_channel(caption: str) -> str:
    """The servicing channel an edition's caption names (see os_lifecycle.yaml)."""
    if "LTSC" in caption or "LTSB" in caption:
        return "iot_ltsc" if "IoT" in caption else "ltsc"
    if "Enterprise" in caption or "Education" in caption:
        return "home_pro" if "Pro Education" in caption else "enterprise"
    return "home_pro"


def parse_lifecycle(data: Any, file: str | Path) -> Lifecycle:
    top = Section(data, file, "")
    if top.get("version", int) != 1:
        raise top.error("version", "this release reads lifecycle version 1")
    sources = top.section("sources")
    cited = {str(k): sources.get(k, str) for k in list(sources.node)}
    sources.finish()

    def release(e: Section) -> Release:
        key = e.get("source", str)
        if key not in cited:
            raise e.error("source", f"not one of sources: {', '.join(sorted(cited))}")
        return Release(e.get("release", str), e.date("ends"), cited[key])

    windows: dict[tuple[str, int, str], Release] = {}
    for where, raw in top.items("windows", []):
        e = Section(raw, file, where)
        product, build = e.choice("product", PRODUCTS), e.get("build", int)
        channels = e.get("channels", list, list(CHANNELS))
        for c in channels:
            if c not in CHANNELS:
                raise e.error("channels", f"unknown channel {c!r} (known: {', '.join(CHANNELS)})")
        r = release(e)
        e.finish()
        for c in channels:  # the first entry for a (product, build, channel) wins
            windows.setdefault((product, build, c), r)
    linux: dict[tuple[str, str], Release] = {}
    for where, raw in top.items("linux", []):
        e = Section(raw, file, where)
        key = (e.get("name", str), e.get("version", str))
        if key in linux:
            raise e.error("version", f"{key[0]} {key[1]} listed twice")
        linux[key] = release(e)
        e.finish()
    top.finish()
    return Lifecycle(windows, linux)


DEFAULT_LIFECYCLE = "os_lifecycle.yaml"


def load_lifecycle(path: str | Path | None = None) -> Lifecycle:
    """A province's file, or the one the package ships."""
    if path is not None:
        return parse_lifecycle(load_yaml(path), path)
    name = f"<{CONFIGS}>/{DEFAULT_LIFECYCLE}"
    return parse_lifecycle(parse_yaml(config_text(DEFAULT_LIFECYCLE), name), name)
