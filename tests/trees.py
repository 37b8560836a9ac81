"""Build recorded machine trees (files and relative symlinks) under a temporary root."""

from __future__ import annotations

import os
from pathlib import Path


def materialize(root: Path, files: dict[str, str], links: dict[str, str]) -> Path:
    """``files``: absolute path → content (a name '.keep' only makes its folder);
    ``links``: absolute path → absolute target, written as relative links like sysfs."""
    for path, content in files.items():
        p = root / path.lstrip("/")
        p.parent.mkdir(parents=True, exist_ok=True)
        if p.name != ".keep":
            p.write_text(content)
    for path, target in links.items():
        link = root / path.lstrip("/")
        dest = root / target.lstrip("/")
        link.parent.mkdir(parents=True, exist_ok=True)
        dest.mkdir(parents=True, exist_ok=True)
        os.symlink(os.path.relpath(dest, link.parent), link)
    return root
