"""The probes of each platform: the one place where the platform is chosen."""

from __future__ import annotations

import sys

from yte_compliance.agent.probe import ProbeFn
from yte_compliance.core.errors import YteError


class UnsupportedPlatform(YteError):
    pass


def current_platform() -> str:
    if sys.platform.startswith("linux"):
        return "linux"
    if sys.platform == "win32":
        return "windows"
    raise UnsupportedPlatform(f"no probes for platform {sys.platform!r}")


# Probes that run only when enabled: bandwidth by the agent's configuration, transport
# for the Windows 7 script's batches (the Python agent sends with its own TLS).
OPT_IN = frozenset({"bandwidth", "transport"})


def _bandwidth(ctx):
    from yte_compliance.agent.probes import bandwidth  # loaded only on the PC that measures

    return bandwidth.collect(ctx)


def probes_for(platform: str) -> dict[str, ProbeFn]:
    """Probe name → entry point. Modules load here, so a probe's imports cost nothing
    on a platform that does not use it."""
    if platform == "linux":
        from yte_compliance.agent.probes import (
            antivirus_linux,
            firewall_linux,
            hardware_linux,
            ipv6_linux,
            patches_linux,
        )

        return {
            "hardware": hardware_linux.collect,
            "firewall": firewall_linux.collect,
            "antivirus": antivirus_linux.collect,
            "ipv6": ipv6_linux.collect,
            "patches": patches_linux.collect,
            "bandwidth": _bandwidth,
        }
    if platform == "windows":
        from yte_compliance.agent.probes import (
            antivirus_windows,
            firewall_windows,
            hardware_windows,
            ipv6_windows,
            patches_windows,
            transport_windows,
        )

        return {
            "hardware": hardware_windows.collect,
            "firewall": firewall_windows.collect,
            "antivirus": antivirus_windows.collect,
            "ipv6": ipv6_windows.collect,
            "patches": patches_windows.collect,
            "bandwidth": _bandwidth,
            "transport": transport_windows.collect,
        }
    raise UnsupportedPlatform(f"no probes for platform {platform!r}")
