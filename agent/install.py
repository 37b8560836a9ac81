"""Register the agent to run at boot and every interval: a systemd unit on Linux, a
scheduled task running as SYSTEM on Windows. A plan first, then (unless dry) its steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath

from yte_compliance.agent.runner import CommandError, Runner
from yte_compliance.core.assets import config_text

UNIT_PATH = "/etc/systemd/system/yte-agent.service"
TASK_NAME = "yte-agent"
WINDOWS_CONFIG = r"C:\ProgramData\yte\agent.yaml"
WINDOWS_EXE = r"C:\Program Files\yte\yte.exe"


@dataclass
class Plan:
    platform: str
    files: dict[str, str] = field(default_factory=dict)  # path → content
    commands: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        out = []
        for path, content in self.files.items():
            out += [f"# ---- {path} ----", content.rstrip(), ""]
        out += [" ".join(c) for c in self.commands]
        return "\n".join(out + self.notes)


def task_xml(exe: str, arguments: str, interval_seconds: float, jitter_seconds: float) -> str:
    """The scheduled task (runs as SYSTEM at boot and every interval, randomly delayed)."""
    from xml.sax.saxutils import escape

    return config_text("windows/yte-agent-task.xml").format(
        exe=escape(exe), arguments=escape(arguments),
        interval_minutes=max(1, round(interval_seconds / 60)),
        jitter_minutes=max(1, round(jitter_seconds / 60)))


def install_plan(platform: str, *, config: str, exe: str, interval_seconds: float,
                 jitter_seconds: float, state_dir: str = "/var/lib/yte") -> Plan:
    if platform == "linux":
        unit = config_text("systemd/yte-agent.service")
        unit = unit.format(exe=exe, config=config, state_dir=state_dir)
        return Plan("linux", {UNIT_PATH: unit},
                    [["systemctl", "daemon-reload"],
                     ["systemctl", "enable", "--now", "yte-agent.service"]])
    if platform == "windows":
        xml = task_xml(exe, f'agent run --once --config "{config}"', interval_seconds,
                       jitter_seconds)
        task_file = str(PureWindowsPath(config).parent / "yte-agent-task.xml")
        return Plan("windows", {task_file: xml},
                    [["schtasks", "/Create", "/TN", TASK_NAME, "/XML", task_file, "/F"],
                     ["schtasks", "/Run", "/TN", TASK_NAME]])
    raise ValueError(f"no installer for {platform!r}")


def uninstall_plan(platform: str) -> Plan:
    if platform == "linux":
        return Plan("linux", commands=[["systemctl", "disable", "--now", "yte-agent.service"],
                                       ["rm", "-f", UNIT_PATH], ["systemctl", "daemon-reload"]])
    if platform == "windows":
        return Plan("windows", commands=[["schtasks", "/Delete", "/TN", TASK_NAME, "/F"]])
    raise ValueError(f"no installer for {platform!r}")


def execute(plan: Plan, run: Runner, root: Path = Path("/")) -> list[str]:
    """Write the files, run the commands; what could not be done is said, not hidden.
    Without a running service manager (a container, a chroot) the files are written and
    the manager's steps reported as skipped."""
    said = []
    for path, content in plan.files.items():
        target = root / path.lstrip("/") if plan.platform == "linux" else Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        if plan.platform == "windows":
            target.write_text(content, encoding="utf-16")
        else:
            target.write_text(content, encoding="utf-8")
        said.append(f"wrote {target}")
    systemd_up = (root / "run/systemd/system").is_dir()
    for argv in plan.commands:
        if argv[0] == "systemctl" and not systemd_up:
            said.append(f"skipped (no running systemd here): {' '.join(argv)}")
            continue
        try:
            result = run(argv, timeout=60)
        except CommandError as e:
            said.append(f"failed: {' '.join(argv)}: {e}")
            continue
        state = "ok" if result.ok else f"failed ({result.returncode}): {result.stderr.strip()}"
        said.append(f"{state}: {' '.join(argv)}")
    return said
