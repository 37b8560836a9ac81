"""Shared fixtures: a real collector on loopback; the CI rule for skips."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.fleet import Bed, Direct, in_process, make_bed, serving

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need_binary(name: str) -> str:
    """The binary's path; a skip on a laptop without it, a failure in CI."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} not installed (Debian package; scripts/setup.sh --test installs it)"
        if IN_CI:
            pytest.fail(f"CI must have {name}: {message}")
        pytest.skip(message)
    return path


@pytest.fixture
def bed(tmp_path) -> Bed:
    return make_bed(tmp_path / "collector")


@pytest.fixture
def running(bed):
    """The collector of ``bed`` as an app in this process, no server: requests go through
    ``bed.call(method, path, …)``. Tests of the wire itself use ``serving``."""
    with in_process(bed.config) as app:
        bed.call = Direct(app)
        yield bed, app


@pytest.fixture
def served(bed):
    """The collector of ``bed`` serving on loopback (a uvicorn thread): for agents run as
    processes, Prometheus, TLS and the wire itself."""
    with serving(bed.config) as app:
        yield bed, app
