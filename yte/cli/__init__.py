"""The `yte` command: a tiny root group; each group loads only when it is called, and a
group whose extra is not installed says which one to install instead of a traceback.
The one place where the project's errors become messages and exit statuses: a UsageError
exits 2, any other YteError (ConfigError included) 1, each with its bilingual text. This
package is the only one that imports click."""

from __future__ import annotations

import importlib
import importlib.util

import click

from yte_compliance.core.errors import UsageError, YteError

# name → (module, attribute, the extra its role needs: None for the plain agent install)
_GROUPS = {
    "agent": ("yte_compliance.cli.agent", "agent", None),
    "audit": ("yte_compliance.cli.remote", "audit", "ssh"),
    "collector": ("yte_compliance.cli.collector", "collector", "collector"),
    "demo": ("yte_compliance.cli.demo", "demo", "collector"),
    "deploy": ("yte_compliance.cli.remote", "deploy", "ssh"),
    "discover": ("yte_compliance.cli.discover", "discover", "discover"),
    "exporters": ("yte_compliance.cli.exporters", "exporters", None),
    "package": ("yte_compliance.cli.package", "package", None),
    "report": ("yte_compliance.cli.report", "report", "report"),
}
# Each extra of pyproject.toml → the third-party modules it installs.
EXTRAS = {"collector": ("uvicorn", "starlette", "prometheus_client", "openpyxl", "jinja2",
                        "markdown_it"),
          "report": ("jinja2", "weasyprint", "openpyxl"),
          "ssh": ("paramiko",),
          "discover": ("scapy",)}


def extra_hint(extra: str, module: str) -> str:
    return (f"lệnh này cần gói bổ sung [{extra}] (thiếu mô-đun {module}) / this command needs "
            f"the [{extra}] extra (no module {module}): pip install 'yte-compliance[{extra}]'")


def missing_module(extra: str) -> str | None:
    """The first module of ``extra`` that is not installed, else None."""
    return next((m for m in EXTRAS[extra] if importlib.util.find_spec(m) is None), None)


def hint_for(error: ModuleNotFoundError) -> str | None:
    """A module an extra installs, missing deeper down: the same hint; else None."""
    top = (error.name or "").partition(".")[0]
    extra = next((e for e, modules in EXTRAS.items() if top in modules), None)
    return None if extra is None else extra_hint(extra, top)


class _LazyGroup(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except UsageError as e:
            raise click.UsageError(str(e)) from None
        except YteError as e:
            raise click.ClickException(str(e)) from None
        except ModuleNotFoundError as e:
            hint = hint_for(e)
            if hint is None:
                raise
            raise click.ClickException(hint) from None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_GROUPS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in _GROUPS:
            return None
        module, attr, extra = _GROUPS[name]
        missing = missing_module(extra) if extra else None
        if missing is not None:
            return _unavailable(name, extra_hint(extra, missing))
        return getattr(importlib.import_module(module), attr)


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
