"""The probes as one zip application, copied over SFTP and run by the host's python3:
the packages the Linux probes import (the agent, the core, netaddr), nothing else."""

from __future__ import annotations

import functools
import importlib
import io
import zipfile
from pathlib import Path

MIN_PYTHON = (3, 10)  # as pyproject's requires-python

# Runs on the host before anything else is imported: a too-old python says so (exit 3) and
# the audit falls back to the shell.
_MAIN = f"""import sys
if sys.version_info < {MIN_PYTHON!r}:
    sys.stderr.write("yte: python %d.%d is older than {MIN_PYTHON[0]}.{MIN_PYTHON[1]}\\n"
                     % sys.version_info[:2])
    sys.exit(3)
from yte_compliance.agent.remote.onhost import main
sys.exit(main(sys.argv[1:]))
"""

_PACKAGES = ("yte_compliance.agent", "yte_compliance.core", "netaddr")
_STAMP = (2026, 1, 1, 0, 0, 0)  # fixed, so the same code gives the same bytes


@functools.lru_cache(maxsize=1)
def build_bundle() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("__main__.py", _STAMP), _MAIN)
        root = importlib.import_module("yte_compliance")
        sources = [("yte_compliance/__init__.py", Path(root.__file__))]
        for name in _PACKAGES:
            folder = Path(importlib.import_module(name).__file__).parent
            prefix = name.replace(".", "/")
            sources += [(f"{prefix}/{path.relative_to(folder).as_posix()}", path)
                        for path in sorted(folder.rglob("*.py"))]
        for arc, path in sources:
            info = zipfile.ZipInfo(arc, _STAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, path.read_bytes())
    return buf.getvalue()
