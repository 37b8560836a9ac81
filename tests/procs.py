"""Ending the real programs tests start (Prometheus, sshd, collectors…)."""

import subprocess


def stop_process(proc: subprocess.Popen | None, grace: float = 15) -> None:
    """Ask ``proc`` to stop, wait ``grace`` seconds, then kill it; None is nothing to end."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
