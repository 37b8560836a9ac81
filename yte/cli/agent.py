"""`yte agent …`: collect facts, print them, send them (yte_compliance.agent.service)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from yte_compliance.agent import service
from yte_compliance.cli import options


@click.group()
def agent() -> None:
    """Tác tử trên máy trạm / the agent on a PC."""


@agent.command()
@click.option("--config", "-c", type=click.Path(dir_okay=False), help="agent YAML file")
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
@click.option("--root", type=click.Path(file_okay=False), default="/", show_default=True,
              help="read /proc, /sys and /etc under this root (recorded Linux machines)")
@click.option("--replay", type=click.Path(file_okay=False, exists=True),
              help="run the Windows probes on a recorded case folder (tests/fixtures/windows/…)")
def collect(config: str | None, as_json: bool, root: str, replay: str | None) -> None:
    """Thu thập và in báo cáo / collect and print this machine's report."""
    cfg = service.load(config)
    if replay:
        from yte_compliance.agent.replay import replay_windows

        report = replay_windows(Path(replay), cfg.site if cfg else "unassigned", time.time())
    else:
        report = service.build_report(cfg, Path(root))
    if as_json:
        click.echo(json.dumps(report.to_json_obj(), ensure_ascii=False, indent=2))
    else:
        from yte_compliance.agent.show import format_report

        click.echo(format_report(report))


@agent.command()
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="the case folder to write (e.g. tests/fixtures/windows/<case>)")
@click.option("--from-ps2", "from_ps2", type=click.Path(file_okay=False, exists=True),
              help="a Windows 7 PC: the folder collect-ps2.ps1 -Capture wrote")
def capture(out: str, from_ps2: str | None) -> None:
    """Ghi lại máy Windows này làm ca kiểm thử / capture this Windows PC as a test case.

    Tên máy, MachineGuid, địa chỉ MAC và IPv6 được thay bằng bí danh cố định /
    names, MachineGuid, MAC and IPv6 addresses are replaced by stable pseudonyms."""
    from yte_compliance.agent import capture as cap
    from yte_compliance.agent.probes import current_platform
    from yte_compliance.agent.runner import run

    target = Path(out)
    if target.exists() and any(target.iterdir()):
        raise click.UsageError(f"{out}: thư mục không trống / the folder is not empty")
    if from_ps2:
        folder = cap.capture_from_ps2(Path(from_ps2), target)
    elif current_platform() != "windows":
        raise click.UsageError("chạy trên máy Windows, hoặc --from-ps2 với thư mục của "
                               "collect-ps2.ps1 -Capture / run it on the Windows PC, or give "
                               "--from-ps2 with the Windows 7 script's -Capture folder")
    else:
        folder = cap.capture_here(run, target)
    click.echo(f"đã ghi / written: {folder} — gửi thư mục này cho nhóm phát triển / send "
               "this folder to the developers (docs/deploy-windows.md)")


@agent.command()
@options.agent_config
def bandwidth(config: str) -> None:
    """Đo băng thông của cơ sở một lần / measure the site's bandwidth once (JSON)."""
    cfg = service.load(config)
    assert cfg is not None
    out = service.measure_bandwidth(cfg)
    click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    sys.exit(0 if out["status"] == "ok" else 1)


def _say(message: str) -> None:
    click.echo(f"yte agent: {message}", err=True)


@agent.command()
@options.agent_config
@click.option("--once", is_flag=True, help="send one report and exit (non-zero on failure)")
@click.option("--root", type=click.Path(file_okay=False), default="/", hidden=True)
def run(config: str, once: bool, root: str) -> None:
    """Thu thập định kỳ và gửi / collect every interval and send to the collector."""
    cfg = service.load(config)
    assert cfg is not None
    if not once:
        service.run_forever(cfg, Path(root), _say)
        return
    result = service.send_once(cfg, Path(root), _say)
    if result.error:
        _say(f"chưa gửi được / not sent: {result.error} ({result.pending} báo cáo trong hàng "
             f"đợi / report(s) kept in the spool)")
    else:
        _say(f"đã gửi / sent {result.sent} report(s)")
    sys.exit(1 if result.error else 0)


def _platform(name: str | None) -> str:
    from yte_compliance.agent.probes import current_platform

    return name or current_platform()


@agent.command()
@click.option("--config", "-c", type=click.Path(dir_okay=False),
              help="agent YAML (default /etc/yte/agent.yaml, C:\\ProgramData\\yte\\agent.yaml)")
@click.option("--exe", help="the yte executable the service runs (default: this one)")
@click.option("--dry-run", is_flag=True, help="print the definition and commands, change nothing")
@options.platform
def install(config: str | None, exe: str | None, dry_run: bool, platform_name: str | None) -> None:
    """Cài dịch vụ / run the agent at boot and every interval (systemd unit, scheduled task)."""
    from yte_compliance.agent.install import WINDOWS_CONFIG, WINDOWS_EXE, execute, install_plan
    from yte_compliance.agent.runner import run as run_command

    platform = _platform(platform_name)
    default_config = WINDOWS_CONFIG if platform == "windows" else "/etc/yte/agent.yaml"
    cfg = service.load(config) if config and Path(config).exists() else None
    default_exe = WINDOWS_EXE if platform == "windows" else f"{sys.executable} -m yte_compliance"
    plan = install_plan(platform, config=config or default_config, exe=exe or default_exe,
                        interval_seconds=cfg.interval_seconds if cfg else 900.0,
                        jitter_seconds=cfg.jitter_seconds if cfg else 120.0,
                        state_dir=str(cfg.spool_dir.parent) if cfg else "/var/lib/yte")
    if dry_run:
        click.echo(plan.describe())
        return
    for line in execute(plan, run_command):
        click.echo(line)


@agent.command()
@click.option("--dry-run", is_flag=True)
@options.platform
def uninstall(dry_run: bool, platform_name: str | None) -> None:
    """Gỡ dịch vụ / remove the service or scheduled task."""
    from yte_compliance.agent.install import execute, uninstall_plan
    from yte_compliance.agent.runner import run as run_command

    plan = uninstall_plan(_platform(platform_name))
    if dry_run:
        click.echo(plan.describe())
        return
    for line in execute(plan, run_command):
        click.echo(line)
