"""The `yte` command: a tiny root group; each group loads only when it is called."""

from __future__ import annotations

import importlib

import click

_GROUPS = {
    "agent": ("yte_compliance.agent.cli", "agent"),
    "audit": ("yte_compliance.agent.remote.cli", "audit"),
    "collector": ("yte_compliance.collector.cli", "collector"),
    "demo": ("yte_compliance.apps.demo", "demo"),
    "deploy": ("yte_compliance.agent.remote.cli", "deploy"),
    "discover": ("yte_compliance.agent.discover_cli", "discover"),
    "exporters": ("yte_compliance.exporters.cli", "exporters"),
    "report": ("yte_compliance.apps.yearend", "report"),
}


# The third-party module a role needs → the extra that installs it (pyproject.toml).
EXTRAS = {"uvicorn": "collector", "starlette": "collector", "prometheus_client": "collector",
          "openpyxl": "report", "jinja2": "report", "weasyprint": "report",
          "paramiko": "ssh", "scapy": "discover"}


def missing_extra(error: ModuleNotFoundError) -> str | None:
    """A bilingual hint for a module that an extra installs; None for any other."""
    top = (error.name or "").partition(".")[0]
    extra = EXTRAS.get(top)
    if extra is None:
        return None
    return (f"lệnh này cần gói bổ sung [{extra}] (thiếu mô-đun {top}) / this command needs "
            f"the [{extra}] extra (no module {top}): pip install 'yte-compliance[{extra}]'")


class _LazyGroup(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ModuleNotFoundError as e:
            hint = missing_extra(e)
            if hint is None:
                raise
            raise click.ClickException(hint) from None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_GROUPS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in _GROUPS:
            return None
        module, attr = _GROUPS[name]
        try:
            return getattr(importlib.import_module(module), attr)
        except ModuleNotFoundError as e:
            hint = missing_extra(e)
            if hint is None:
                raise
            return _unavailable(name, hint)


def _unavailable(name: str, hint: str) -> click.Command:
    """A group whose extra is not installed: listed in --help, says what to install."""
    def fail() -> None:
        raise click.ClickException(hint)

    return click.Command(name, callback=fail, help=hint, short_help=hint.split(" / ")[-1],
                         context_settings={"ignore_unknown_options": True,
                                           "allow_extra_args": True})


@click.group(cls=_LazyGroup)
@click.version_option(package_name="yte-compliance")
def main() -> None:
    """yte: đo mức đạt chỉ tiêu CNTT / IT-target compliance for health facilities."""


if __name__ == "__main__":
    main()
