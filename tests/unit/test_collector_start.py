"""The collector refuses to start on a half-valid configuration, and says where."""

import socket
import subprocess
import sys

import pytest


def _serve(bed, timeout=30):
    return subprocess.run([sys.executable, "-m", "yte_compliance", "collector", "serve", "--config",
                           str(bed.config)], capture_output=True, text=True, timeout=timeout)


def _port_open(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize(
    ("file", "old", "new", "key"),
    [
        ("targets.yaml", "    required_ratio: 0.5\n", "    required_ration: 0.5\n",
         "targets[0].required_ration"),
        ("targets.yaml", "hardware.os_disk_media, op: eq", "hardware.os_disk_medium, op: eq",
         "targets[0].all_of[1].fact"),
        ("sites.yaml", "    type: hospital\n", "    type: hopsital\n", "sites[0].type"),
    ],
)
def test_typo_stops_the_collector_naming_file_line_and_key(bed, file, old, new, key):
    path = bed.folder / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    line = text[: text.index(old)].count("\n") + 1 + (old.startswith("\n"))
    proc = _serve(bed)
    assert proc.returncode != 0
    assert f"{path}:{line}: {key}:" in proc.stderr, proc.stderr
    assert "not starting" in proc.stderr
    assert not _port_open(bed.port)


def test_collector_check_command(bed):
    proc = subprocess.run([sys.executable, "-m", "yte_compliance", "collector", "check", "--config",
                           str(bed.config)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0 and "OK: 2 sites" in proc.stdout
