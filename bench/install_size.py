"""Installed size per role: the plain (agent) install of the wheel against [all] (which is
what every station PC received before the extras), and against node_exporter's package.

    .venv/bin/python bench/install_size.py [--wheel dist/yte_compliance-….whl]

Each install goes into a fresh venv; the size is what it adds to site-packages (the
venv's own pip and setuptools subtracted), from pip's cache where it can."""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import save  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ROLES = {"agent (plain install)": "", "collector": "[collector]", "all": "[all]"}


def tree_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def site_packages(env: Path) -> Path:
    return next((env / "lib").glob("python3*/site-packages"))


def installed(wheel: Path, extra: str, workdir: Path) -> dict:
    env = workdir / (extra.strip("[]") or "plain")
    venv.create(env, with_pip=True)
    before = tree_bytes(site_packages(env))
    subprocess.run([str(env / "bin/python"), "-m", "pip", "install", "-q",
                    "--disable-pip-version-check", f"{wheel}{extra}"], check=True, timeout=900)
    listing = subprocess.run([str(env / "bin/python"), "-m", "pip", "list", "--format=freeze",
                              "--exclude", "pip", "--exclude", "setuptools"],
                             capture_output=True, text=True, check=True).stdout.split()
    return {"bytes": tree_bytes(site_packages(env)) - before, "packages": len(listing),
            "names": sorted(n.split("==")[0] for n in listing)}


def node_exporter_bytes() -> int | None:
    done = subprocess.run(["dpkg-query", "-W", "-f=${Installed-Size}",
                           "prometheus-node-exporter"], capture_output=True, text=True)
    return int(done.stdout) * 1024 if done.returncode == 0 and done.stdout.strip() else None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--wheel", type=Path)
    args = ap.parse_args()
    wheel = args.wheel or max((ROOT / "dist").glob("yte_compliance-*.whl"), default=None)
    if wheel is None:
        sys.exit("no wheel: run scripts/setup.sh (it builds dist/yte_compliance-*.whl)")
    results = {"wheel": wheel.name, "wheel_bytes": wheel.stat().st_size, "roles": {}}
    with tempfile.TemporaryDirectory(prefix="yte-size-") as tmp:
        for role, extra in ROLES.items():
            results["roles"][role] = installed(wheel, extra, Path(tmp))
    results["node_exporter_bytes"] = node_exporter_bytes()
    mib = 1 << 20
    agent, everything = results["roles"]["agent (plain install)"], results["roles"]["all"]
    print(f"wheel {wheel.name}: {results['wheel_bytes'] / 1024:.0f} KiB")
    for role, r in results["roles"].items():
        print(f"{role:<24} {r['bytes'] / mib:7.1f} MiB  {r['packages']:3d} packages")
    print(f"agent / all: {agent['bytes'] / everything['bytes']:.2f}×")
    if results["node_exporter_bytes"]:
        print(f"node_exporter package: {results['node_exporter_bytes'] / mib:.1f} MiB; "
              f"agent / node_exporter: {agent['bytes'] / results['node_exporter_bytes']:.2f}×")
    print(f"wrote {save('install_size', results)}")


if __name__ == "__main__":
    main()
