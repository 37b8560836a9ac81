"""Files shipped inside the package (default targets, unit and task templates, scripts,
generated rules and dashboards), read the same way from a wheel, a zip or a checkout."""

from __future__ import annotations

from importlib.resources import files


def asset_bytes(package: str, relative: str) -> bytes:
    """``relative`` ("systemd/yte-agent.service") inside ``package``, as bytes."""
    return files(package).joinpath(*relative.split("/")).read_bytes()


def asset_text(package: str, relative: str) -> str:
    return asset_bytes(package, relative).decode("utf-8")


def config_text(relative: str) -> str:
    """A file of the shipped ``configs/`` folder (the defaults users copy from)."""
    return asset_text(CONFIGS, relative)


CONFIGS = "yte_compliance.configs"
