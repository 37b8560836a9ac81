"""The probes of each platform: the one place where the platform is chosen."""

from __future__ import annotations

import sys

from agent.probe import ProbeFn


class UnsupportedPlatform(Exception):
    pass


def current_platform() -> str:
    if sys.platform.startswith("linux"):
        return "linux"
    if sys.platform == "win32":
        return "windows"
    raise UnsupportedPlatform(f"no probes for platform {sys.platform!r}")


# Probes that run only when the agent's configuration enables them.
OPT_IN = frozenset({"bandwidth"})


def probes_for(platform: str) -> dict[str, ProbeFn]:
    """Probe name → entry point. Modules load here, so a probe's imports cost nothing
    on a platform that does not use it."""
    if platform == "linux":
        from agent.probes import (
            antivirus_linux,
            bandwidth,
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
            "bandwidth": bandwidth.collect,
        }
    if platform == "windows":
        from agent.probes import (
            antivirus_windows,
            bandwidth,
            firewall_windows,
            hardware_windows,
            ipv6_windows,
            patches_windows,
        )

        return {
            "hardware": hardware_windows.collect,
            "firewall": firewall_windows.collect,
            "antivirus": antivirus_windows.collect,
            "ipv6": ipv6_windows.collect,
            "patches": patches_windows.collect,
            "bandwidth": bandwidth.collect,
        }
    raise UnsupportedPlatform(f"no probes for platform {platform!r}")
