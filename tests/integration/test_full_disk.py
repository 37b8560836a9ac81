"""The agent on a full disk, for real: its spool on a 64 KiB tmpfs mounted in a private
mount namespace (`unshare -m`), so nothing outside the test sees the mount."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import need_binary
from tests.fleet import make_bed, make_report, serving
from tests.netns import need_root

pytestmark = pytest.mark.integration

# Runs inside the namespace: mount, put what the case needs in the spool, fill the disk,
# then run the agent once (or twice) and write what happened outside the mount.
DRIVER = textwrap.dedent("""
    import json, os, subprocess, sys
    from pathlib import Path
    from yte_compliance.agent.spool import Spool
    spool_dir, bodies, config, out = map(Path, sys.argv[1:5])
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=700", "tmpfs",
                    str(spool_dir)], check=True)
    spool = Spool(spool_dir)
    spool._ready()  # an agent that ran before: its counter file exists
    for body in sorted(bodies.glob("*.json")):
        rep = json.loads(body.read_text())
        spool.put(float(body.stem), rep["report_id"], body.read_bytes())
    filler = spool_dir / "filler"
    with open(filler, "wb", buffering=0) as f:
        for _ in range(64):  # at most the tmpfs's size
            try:
                f.write(b"x" * 4096)
            except OSError:
                break
    runs = []
    for i in range(int(sys.argv[5])):
        done = subprocess.run([sys.executable, "-m", "yte_compliance", "agent", "run", "--once",
                               "--config", str(config)], capture_output=True, text=True,
                              timeout=60)
        runs.append({"rc": done.returncode, "stderr": done.stderr,
                     "left": sorted(p.name for p in spool_dir.iterdir()),
                     "dropped": spool.dropped_total()})
        filler.unlink(missing_ok=True)  # the disk frees before the next run
    out.write_text(json.dumps(runs))
""")


def _run(tmp_path: Path, bed, pending: int, runs: int) -> list[dict]:
    need_root()
    need_binary("unshare")
    bodies = tmp_path / "bodies"
    bodies.mkdir()
    now = time.time()
    for i in range(pending):
        at = now - 600 + i
        rep = make_report("tyt-xa-a", "disk-pc", collected_at=at)
        (bodies / f"{at:.3f}.json").write_text(json.dumps(rep))
    (tmp_path / "token").write_text(bed.tokens["tyt-xa-a"])
    (tmp_path / "token").chmod(0o600)
    spool = tmp_path / "spool"
    spool.mkdir()
    config = tmp_path / "agent.yaml"
    config.write_text(f"site: tyt-xa-a\ncollector_url: {bed.url}\ntoken_file: token\n"
                      "spool_dir: spool\nhost_id: disk-pc\n")
    (tmp_path / "driver.py").write_text(DRIVER)
    out = tmp_path / "runs.json"
    done = subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable,
                           str(tmp_path / "driver.py"), str(spool), str(bodies), str(config),
                           str(out), str(runs)], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text())


def _stored(bed, what: str = "bodies") -> list:
    """The test PC's reports in the store: its report ids (``ids``), or each distinct
    state's first body as received (``bodies``)."""
    from yte_compliance.collector.store import Store

    store = Store(bed.folder / "collector.db")
    try:
        if what == "ids":
            return store.report_ids("disk-pc")
        return [json.loads(b) for b in store.bodies("disk-pc")]
    finally:
        store.close()


def test_full_disk_sends_what_is_spooled_first_then_collects(tmp_path):
    bed = make_bed(tmp_path / "collector")
    with serving(bed.config):
        (run,) = _run(tmp_path, bed, pending=3, runs=1)
    assert "Traceback" not in run["stderr"], run["stderr"]
    assert run["rc"] == 0, run["stderr"]
    # the three waiting reports went first, which made room for the new one
    assert len(_stored(bed, "ids")) == 4
    assert not [n for n in run["left"] if n.endswith((".json", ".tmp"))], run["left"]


def test_a_report_that_cannot_be_written_is_said_counted_and_sent_later(tmp_path):
    bed = make_bed(tmp_path / "collector")
    with serving(bed.config):
        full, freed = _run(tmp_path, bed, pending=0, runs=2)
    assert "Traceback" not in full["stderr"], full["stderr"]
    assert full["rc"] == 1
    lines = [line for line in full["stderr"].splitlines() if "không ghi được" in line]
    assert len(lines) == 1 and "could not write the report" in lines[0], full["stderr"]
    assert not [n for n in full["left"] if n.endswith(".tmp")], full["left"]  # no leftovers
    assert full["dropped"] == 1
    # the disk freed: the next report goes, carrying the count of the one lost
    assert freed["rc"] == 0, freed["stderr"]
    assert len(_stored(bed, "ids")) == 1
    (stored,) = _stored(bed)
    assert stored["spool_dropped_total"] == 1
