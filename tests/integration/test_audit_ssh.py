"""`yte audit ssh` and `yte deploy ssh` against real OpenSSH servers started here: three
hosts in network namespaces (each its own machine id, addresses and rule set), host-key
checking, failures that stay alone, the shell fallback, and an idempotent deploy."""

from __future__ import annotations

import ipaddress
import json
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.fleet import ROOT, make_bed, serving
from tests.netns import need_root, sh
from tests.sshd import Sshd, keygen

pytestmark = pytest.mark.integration
YTE = [sys.executable, "-m", "yte_compliance"]


def yte(*args: str, timeout: float = 300, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*YTE, *args], capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT, env={**os.environ, **(env or {})}, check=False)


def probe_facts(report: dict) -> dict:
    """What the probes found (status, facts, unknown and why), durations aside."""
    return {name: {k: v for k, v in r.items() if k != "duration_seconds"}
            for name, r in report["probes"].items()}


def tokens_dir(folder: Path, tokens: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for site, token in tokens.items():
        (folder / f"{site}.token").write_text(token)
        (folder / f"{site}.token").chmod(0o600)
    return folder


def inventory(path: Path, hosts: dict[str, dict], **top) -> Path:
    lines = [f"{k}: {json.dumps(str(v) if isinstance(v, Path) else v)}" for k, v in top.items()]
    lines.append("hosts:")
    for name, h in hosts.items():
        lines.append(f"  {name}:")
        lines += [f"    {k}: {json.dumps(str(v) if isinstance(v, Path) else v)}"
                  for k, v in h.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


class NsHost:
    """A namespace joined to this one by a veth pair (198.18.50.0/24, fd00:50::/48), with
    its own machine id (ip netns exec binds /etc/netns/<ns>/machine-id) and an sshd."""

    def __init__(self, index: int, folder: Path, client_key: Path, extra: str = ""):
        tag = uuid.uuid4().hex[:6]
        self.ns = f"yte-ssh{index}-{tag}"
        self.outer, self.inner = f"ys{index}o{tag}", f"ys{index}i{tag}"
        self.address = f"198.18.50.{4 * index + 2}"
        self.etc = Path("/etc/netns") / self.ns
        self.etc.mkdir(parents=True)
        (self.etc / "machine-id").write_text(uuid.uuid4().hex + "\n")
        sh("ip", "netns", "add", self.ns)
        sh("ip", "link", "add", self.outer, "type", "veth", "peer", "name", self.inner)
        sh("ip", "link", "set", self.inner, "netns", self.ns)
        sh("ip", "addr", "add", f"198.18.50.{4 * index + 1}/30", "dev", self.outer)
        sh("ip", "link", "set", self.outer, "up")
        for argv in (["ip", "link", "set", "lo", "up"],
                     ["ip", "addr", "add", f"{self.address}/30", "dev", self.inner],
                     ["ip", "-6", "addr", "add", f"fd00:50:{index}::2/64", "dev", self.inner,
                      "nodad"],
                     ["ip", "link", "set", self.inner, "up"]):
            sh("ip", "netns", "exec", self.ns, *argv)
        self.sshd = Sshd(folder, address=self.address, port=22, netns=self.ns,
                         client_key=client_key, extra=extra).start()

    def local_collect(self) -> dict:
        """`yte agent collect` run by hand inside the same namespace: the reference."""
        out = subprocess.run(["ip", "netns", "exec", self.ns, *YTE, "agent", "collect",
                              "--json"], capture_output=True, text=True, timeout=120,
                             cwd=ROOT, check=True)
        return json.loads(out.stdout)

    def close(self) -> None:
        self.sshd.stop()
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True, timeout=30)
        subprocess.run(["ip", "link", "del", self.outer], capture_output=True, timeout=30)
        for f in self.etc.iterdir():
            f.unlink()
        self.etc.rmdir()


def no_python_bin(folder: Path) -> Path:
    """A PATH holding every command of this machine but python: a host without python3."""
    folder.mkdir(parents=True, exist_ok=True)
    for d in ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"):
        if not Path(d).is_dir():
            continue
        for entry in Path(d).iterdir():
            link = folder / entry.name
            if not entry.name.startswith("python") and not link.exists():
                link.symlink_to(entry)
    return folder


@pytest.fixture
def ns_hosts(tmp_path):
    need_root()
    key = keygen(tmp_path / "client_key")
    nopy = no_python_bin(tmp_path / "nopython-bin")
    hosts = []
    try:
        # HOME elsewhere too: root's shell start-up files here put pyenv's python on PATH
        home = tmp_path / "home"
        home.mkdir()
        for i, extra in enumerate(("", "", f"SetEnv PATH={nopy} HOME={home}")):
            hosts.append(NsHost(i, tmp_path / f"sshd{i}", key, extra))
        yield hosts, key
    finally:
        for h in hosts:
            h.close()


def test_audit_three_namespaces_reports_reach_collector_with_local_facts(tmp_path, ns_hosts):
    hosts, key = ns_hosts
    known = tmp_path / "known_hosts"
    known.write_text("".join(h.sshd.known_hosts_line() for h in hosts))
    bed = make_bed(tmp_path / "collector")
    sites = ("bv-tinh", "tyt-xa-a", "tyt-xa-a")
    inv = inventory(tmp_path / "inventory.yaml", {
        f"host{i}": {"address": h.address, "site": sites[i], "key_file": key,
                     "ssh_agent": False, "groups": ["all"]} for i, h in enumerate(hosts)},
        known_hosts=known, connect_timeout_seconds=10)
    unsent = tmp_path / "unsent"
    with serving(bed.config):
        # no site tokens yet: audited, not sent, kept; then sent by `yte audit send`
        out = yte("audit", "ssh", "-i", str(inv), "--collector", bed.url, "--workers", "3",
                  "--unsent-dir", str(unsent))
        assert out.returncode == 1, out.stdout + out.stderr
        assert "# Lỗi / failures: 3" in out.stdout and "not sent: no tokens_dir" in out.stdout
        assert len(list(unsent.glob("*.json"))) == 3
        tokens = tokens_dir(tmp_path / "tokens", bed.tokens)
        inv.write_text(inv.read_text() + f"collector:\n  url: {bed.url}\n"
                                         f"  tokens_dir: {tokens}\n")
        sent = yte("audit", "send", str(unsent), "-i", str(inv))
        assert sent.returncode == 0, sent.stdout + sent.stderr
        assert not list(unsent.glob("*.json"))
        out = yte("audit", "ssh", "-i", str(inv), "--output", str(tmp_path / "reports"),
                  "--workers", "3", "--unsent-dir", str(unsent))
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("OK (python3") == 2 and out.stdout.count("OK (shell") == 1
    assert "no usable python3, shell fallback" in out.stdout

    db = sqlite3.connect(bed.folder / "collector.db")
    assert db.execute("SELECT count(*) FROM log").fetchone()[0] == 6
    rows = db.execute("SELECT hostname, site, source, host_id FROM hosts").fetchall()
    assert sorted(r[1] for r in rows) == sorted(sites)
    assert {r[2] for r in rows} == {"ssh"}
    assert len({r[3] for r in rows}) == 3  # three machines, three host ids

    for i, h in enumerate(hosts):
        sent = json.loads((tmp_path / "reports" / f"{sites[i]}--host{i}.json").read_text())
        local = h.local_collect()
        assert sent["host_id"] == local["host_id"] and sent["source"] == "ssh"
        assert probe_facts(sent) == probe_facts(local), f"host{i}"
        addresses = sent["probes"]["ipv6"]["facts"]["addresses"]
        mine = str(ipaddress.IPv6Address(f"fd00:50:{i}::2"))
        assert any(a.startswith(f"{mine}/") for a in addresses), addresses


# ---- host keys ---------------------------------------------------------------------------


def _one_host_inventory(tmp_path: Path, server: Sshd, known: Path, **extra) -> Path:
    return inventory(tmp_path / "inventory.yaml", {"pc1": {
        "address": "127.0.0.1", "port": server.port, "site": "bv-tinh",
        "key_file": server.client_key, "ssh_agent": False}}, known_hosts=known, **extra)


def test_unknown_key_refused_then_trusted_on_first_use_then_changed_key_refused(tmp_path):
    server = Sshd(tmp_path / "sshd").start()
    try:
        known = tmp_path / "known_hosts"
        inv = _one_host_inventory(tmp_path, server, known)
        args = ["audit", "ssh", "-i", str(inv), "--no-send", "-o", str(tmp_path / "out")]

        refused = yte(*args)
        assert refused.returncode == 1
        assert "unknown host key, refused" in refused.stdout
        assert f"[127.0.0.1]:{server.port}" in refused.stdout
        assert server.fingerprint in refused.stdout  # as `ssh-keygen -l` prints it
        assert not known.exists()

        accepted = yte(*args, "--trust-on-first-use")
        assert accepted.returncode == 0, accepted.stdout + accepted.stderr
        assert "recorded host key" in accepted.stderr and server.fingerprint in accepted.stderr
        assert known.read_text() == server.known_hosts_line()
        assert yte(*args).returncode == 0  # now known: no flag needed

        server.new_host_key()
        changed = yte(*args, "--trust-on-first-use")  # the flag never accepts a changed key
        assert changed.returncode == 1
        assert "HOST KEY CHANGED, refused" in changed.stdout
        assert server.fingerprint in changed.stdout
        assert len(known.read_text().splitlines()) == 1  # the old key stays; nothing added
    finally:
        server.stop()


# ---- failures stay alone ------------------------------------------------------------------


def test_unreachable_silent_and_refusing_hosts_fail_alone_within_timeout(tmp_path):
    import socket

    good = Sshd(tmp_path / "good").start()
    other_key = keygen(tmp_path / "not_authorized")
    silent = socket.socket()  # accepts TCP, never says a word of SSH
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    closed = socket.socket()  # a port nobody listens on
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    try:
        known = tmp_path / "known_hosts"
        known.write_text(good.known_hosts_line())
        hosts = {
            "good": {"address": "127.0.0.1", "port": good.port, "key_file": good.client_key},
            "silent": {"address": "127.0.0.1", "port": silent.getsockname()[1],
                       "key_file": good.client_key},
            "closed": {"address": "127.0.0.1", "port": closed_port,
                       "key_file": good.client_key},
            "refuses-key": {"address": "127.0.0.1", "port": good.port, "key_file": other_key},
        }
        for h in hosts.values():
            h.update(site="bv-tinh", ssh_agent=False)
        inv = inventory(tmp_path / "inventory.yaml", hosts, known_hosts=known,
                        connect_timeout_seconds=3)
        start = time.monotonic()
        out = yte("audit", "ssh", "-i", str(inv), "--no-send", "-o", str(tmp_path / "out"),
                  "--workers", "4")
        elapsed = time.monotonic() - start
    finally:
        good.stop()
        silent.close()
    assert out.returncode == 1
    lines = {line.split()[0]: line for line in out.stdout.splitlines() if " linux " in line}
    assert "OK (python3" in lines["good"]
    assert "unreachable" in lines["silent"] and "within 3 s" in lines["silent"]
    assert "unreachable" in lines["closed"] and "refused" in lines["closed"].lower()
    assert "authentication refused for user root" in lines["refuses-key"]
    assert "# Lỗi / failures: 3" in out.stdout
    assert [p.name for p in (tmp_path / "out").glob("*.json")] == ["bv-tinh--good.json"]
    assert elapsed < 60, elapsed  # bounded by the 3 s timeouts, not by a hang


# ---- deploy -------------------------------------------------------------------------------


def deploy_twice(tmp_path, bed, tokens: Path, *, dry_run_first: bool = False):
    """`yte deploy ssh` to one host (a real sshd; its / is a folder here) twice: the first
    and second runs' outputs, and that root."""
    server = Sshd(tmp_path / "sshd").start()
    root = tmp_path / "host-root"  # the host's / for this test: nothing outside is touched
    try:
        known = tmp_path / "known_hosts"
        known.write_text(server.known_hosts_line())
        inv = _one_host_inventory(tmp_path, server, known)
        inv.write_text(inv.read_text() + f"collector:\n  url: {bed.url}\n  tokens_dir: {tokens}\n")
        args = ["deploy", "ssh", "-i", str(inv), "--root", str(root)]
        with serving(bed.config):
            if dry_run_first:
                plan = yte(*args, "--dry-run")
                assert plan.returncode == 0, plan.stdout + plan.stderr
                assert "would change" in plan.stdout and not root.exists()
            first = yte(*args)
            assert first.returncode == 0, first.stdout + first.stderr
            second = yte(*args)
    finally:
        server.stop()
    return first, second, root


def test_deploy_installs_reports_and_changes_nothing_the_second_time(tmp_path):
    bed = make_bed(tmp_path / "collector")
    tokens = tokens_dir(tmp_path / "tokens", bed.tokens)
    first, second, root = deploy_twice(tmp_path, bed, tokens, dry_run_first=True)
    assert "changed" in first.stdout
    assert "no service manager running" in first.stdout or "not enabled" in first.stdout
    assert "first report received by the collector" in first.stdout
    assert (root / "opt/yte/venv/bin/yte").exists()
    assert (root / "etc/yte/token").read_text().strip() == bed.tokens["bv-tinh"]
    assert (root / "etc/yte/token").stat().st_mode & 0o777 == 0o600
    unit = (root / "etc/systemd/system/yte-agent.service").read_text()
    assert f"ExecStart={root}/opt/yte/venv/bin/yte agent run --config {root}/etc/yte/agent.yaml" in unit
    config = (root / "etc/yte/agent.yaml").read_text()
    assert "site: bv-tinh" in config and f"collector_url: {bed.url}" in config

    db = sqlite3.connect(bed.folder / "collector.db")
    assert db.execute("SELECT site, source FROM hosts").fetchall() == [("bv-tinh", "agent")]
    assert "nothing to change" in second.stdout, second.stdout
    assert second.returncode == 0
    assert db.execute("SELECT count(*) FROM log").fetchone()[0] == 1  # nothing re-sent


def test_deploy_with_the_site_enrollment_secret_gives_the_host_its_own_key(tmp_path):
    """`<site>.enroll` in the tokens folder: the host enrolls on its first report, keeps
    its key (0600) and drops the secret; the second deploy leaves both alone."""
    from click.testing import CliRunner

    from yte_compliance.cli import main as yte_cli

    bed = make_bed(tmp_path / "collector")
    added = CliRunner().invoke(yte_cli, ["collector", "enrollment", "add", "bv-tinh", "-c",
                                         str(bed.config)])
    assert added.exit_code == 0, added.output
    tokens = tmp_path / "tokens"
    tokens.mkdir()
    (tokens / "bv-tinh.enroll").write_text(added.stdout.strip())
    (tokens / "bv-tinh.enroll").chmod(0o600)
    first, second, root = deploy_twice(tmp_path, bed, tokens)
    assert "first report received by the collector" in first.stdout
    config = (root / "etc/yte/agent.yaml").read_text()
    assert f"enrollment_secret_file: {root}/etc/yte/token" in config
    assert f"key_file: {root}/var/lib/yte/host.key" in config and "token_file" not in config
    key = root / "var/lib/yte/host.key"
    assert key.stat().st_mode & 0o777 == 0o600 and not (root / "etc/yte/token").exists()
    db = sqlite3.connect(bed.folder / "collector.db")
    (host,) = db.execute("SELECT host_id FROM host_keys WHERE revoked_at IS NULL").fetchone()
    assert db.execute("SELECT host_id, site FROM hosts").fetchall() == [(host, "bv-tinh")]
    assert "nothing to change" in second.stdout, second.stdout
