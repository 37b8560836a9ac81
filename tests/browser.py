"""Debian's Chromium driven by Playwright for Python (never `playwright install`), and the
folder where browser tests keep their screenshots for a reviewer."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI, need_binary
from tests.fleet import ROOT

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
# kept after the run (CI keeps the checkout's folder); YTE_ARTIFACTS moves it
ARTIFACTS = Path(os.environ.get("YTE_ARTIFACTS", ROOT / "test-artifacts"))


def screenshots(name: str) -> Path:
    folder = ARTIFACTS / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium (the Playwright Browser); closed after."""
    path = need_binary("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        message = "playwright not installed (the [test] extra installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
