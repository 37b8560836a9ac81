"""The `yte` command: a tiny root group; each group loads only when it is called."""

from __future__ import annotations

import importlib

import click

_GROUPS = {
    "agent": ("agent.cli", "agent"),
    "audit": ("agent.remote.cli", "audit"),
    "collector": ("collector.cli", "collector"),
    "demo": ("yte.demo", "demo"),
    "deploy": ("agent.remote.cli", "deploy"),
    "discover": ("agent.discover_cli", "discover"),
    "exporters": ("exporters.cli", "exporters"),
    "report": ("yte.yearend", "report"),
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_GROUPS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in _GROUPS:
            return None
        module, attr = _GROUPS[name]
        return getattr(importlib.import_module(module), attr)


@click.group(cls=_LazyGroup)
@click.version_option(package_name="yte-compliance")
def main() -> None:
    """yte: đo mức đạt chỉ tiêu CNTT / IT-target compliance for health facilities."""


if __name__ == "__main__":
    main()
