"""`yte package windows`: one site's Windows Installer package, built here with msitools'
wixl (Debian package `wixl`), nothing built on Windows.

It holds the PowerShell agent (agent/windows/collect-ps2.ps1, PowerShell 2.0 and later, so
Windows 7 to 11 and Server), its configuration (the site and the collector), the site's
enrollment secret, the collector's CA when it has a private one, the scheduled task and
install.ps1, which the MSI runs as SYSTEM after copying the files (-Install) and before
removing them (-Uninstall). Install silently (`msiexec /i yte-….msi /qn`), by double-click
or by Group Policy; a newer package of any site replaces the old one and keeps the spool
and the PC's key; uninstalling leaves nothing running."""

from __future__ import annotations

import shutil
import tempfile
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from xml.sax.saxutils import quoteattr

from yte_compliance import __version__
from yte_compliance.agent.install import task_xml
from yte_compliance.agent.runner import CommandNotFound, CommandResult, run
from yte_compliance.core.errors import UsageError, YteError
from yte_compliance.core.report import ID_RE

# one product for every site: a PC moved to another site takes the new site's package
UPGRADE_CODE = "6a1d8e36-2f0b-4a5e-9d7a-1f4f3b2c9e10"
_NAMESPACE = uuid.UUID(UPGRADE_CODE)
POWERSHELL = r"%SystemRoot%\System32\WindowsPowerShell\v1.0\powershell.exe"
SCRIPT = "yte-agent.ps1"
CONFIG = "agent.cfg"


@dataclass(frozen=True)
class WindowsPackage:
    site: str
    collector_url: str
    enrollment_secret: str
    ca_pem: bytes | None = None
    interval_seconds: float = 900
    jitter_seconds: float = 300


def check(p: WindowsPackage) -> None:
    if not ID_RE.match(p.site):
        raise UsageError(f"--site: not a site id: {p.site!r}")
    url = urllib.parse.urlsplit(p.collector_url)
    if url.scheme != "https" or not url.hostname:
        raise UsageError("--collector: an https:// URL (the PowerShell agent sends over TLS "
                         f"1.2 only), got {p.collector_url!r}")
    if p.ca_pem is not None and b"-----BEGIN CERTIFICATE-----" not in p.ca_pem:
        raise UsageError("--ca: a PEM certificate (-----BEGIN CERTIFICATE-----)")


def files(p: WindowsPackage) -> dict[str, bytes]:
    """Every file the package installs, by name, as it is installed."""
    check(p)
    scripts = resources.files("yte_compliance.agent").joinpath("windows")
    arguments = (f'-NoProfile -NonInteractive -ExecutionPolicy Bypass -File '
                 f'"{{install_dir}}\\{SCRIPT}" -ConfigFile "{{install_dir}}\\{CONFIG}"')
    out = {
        SCRIPT: scripts.joinpath("collect-ps2.ps1").read_bytes(),
        "install.ps1": scripts.joinpath("install.ps1").read_bytes(),
        CONFIG: (f"# yte-compliance: written by `yte package windows`\r\nsite={p.site}\r\n"
                 f"collector={p.collector_url.rstrip('/')}\r\n").encode(),
        "enroll.secret": p.enrollment_secret.encode("ascii"),
        # UTF-16 as the XML declaration says; install.ps1 fills in {install_dir}
        "yte-agent-task.xml": task_xml(POWERSHELL, arguments, p.interval_seconds,
                                       p.jitter_seconds).encode("utf-16"),
    }
    if p.ca_pem is not None:
        out["collector-ca.crt"] = p.ca_pem
    return out


def msi_version() -> str:
    """The package's ProductVersion: the project's version, numeric parts only."""
    parts = [int("".join(c for c in x if c.isdigit()) or 0) for x in __version__.split(".")]
    return ".".join(str(n) for n in (parts + [0, 0, 0])[:3])


def wxs(names: list[str], site: str) -> str:
    """The WiX source: the files in Program Files\\yte (component GUIDs fixed per file
    name, so an upgrade shares them), install.ps1 run after InstallFiles and before
    RemoveFiles, any earlier package replaced."""
    def guid(name: str) -> str:
        return str(uuid.uuid5(_NAMESPACE, name))

    def ident(name: str) -> str:
        return "f_" + "".join(c if c.isalnum() else "_" for c in name)

    components = "\n".join(
        f'          <Component Id={quoteattr(ident(n))} Guid="{guid(n)}" Win64="yes">\n'
        f'            <File Id={quoteattr(ident(n))} Name={quoteattr(n)} Source={quoteattr(n)}'
        ' KeyPath="yes"/>\n          </Component>' for n in names)
    refs = "\n".join(f"      <ComponentRef Id={quoteattr(ident(n))}/>" for n in names)
    run_ps = ('-NoProfile -NonInteractive -ExecutionPolicy Bypass -File '
              '&quot;[INSTALLDIR]install.ps1&quot;')
    return f"""<?xml version="1.0" encoding="utf-8"?>
<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi">
  <Product Id="*" Name={quoteattr(f"yte-compliance agent ({site})")} Manufacturer="yte-compliance"
           Version="{msi_version()}" Language="1033" Codepage="65001" UpgradeCode="{UPGRADE_CODE}">
    <Package InstallerVersion="200" Compressed="yes" InstallScope="perMachine"
             Description="yte-compliance agent: IT compliance reports to the department"/>
    <Upgrade Id="{UPGRADE_CODE}">
      <UpgradeVersion Minimum="0.0.0" IncludeMinimum="yes" Maximum="255.255.65535"
                      IncludeMaximum="yes" Property="YTEPREVIOUS"/>
    </Upgrade>
    <Media Id="1" Cabinet="yte.cab" EmbedCab="yes"/>
    <Property Id="POWERSHELLEXE" Value="powershell.exe"/>
    <Directory Id="TARGETDIR" Name="SourceDir">
      <Directory Id="ProgramFiles64Folder">
        <Directory Id="INSTALLDIR" Name="yte">
{components}
        </Directory>
      </Directory>
    </Directory>
    <Feature Id="Agent" Level="1">
{refs}
    </Feature>
    <CustomAction Id="YteInstall" Property="POWERSHELLEXE" ExeCommand="{run_ps} -Install"
                  Execute="deferred" Impersonate="no" Return="check"/>
    <CustomAction Id="YteUninstall" Property="POWERSHELLEXE" ExeCommand="{run_ps} -Uninstall"
                  Execute="deferred" Impersonate="no" Return="ignore"/>
    <!-- explicit numbers: InstallFiles is 4000, RemoveFiles 3500, InstallFinalize 6600 -->
    <InstallExecuteSequence>
      <Custom Action="YteInstall" Sequence="4010">NOT REMOVE</Custom>
      <Custom Action="YteUninstall" Sequence="3490">REMOVE="ALL" AND NOT UPGRADINGPRODUCTCODE</Custom>
      <RemoveExistingProducts Sequence="6610"/>
    </InstallExecuteSequence>
  </Product>
</Wix>
"""


def build_msi(p: WindowsPackage, out: Path,
              runner: Callable[..., CommandResult] = run) -> Path:
    """Write ``out`` (an .msi) with wixl; YteError saying what is missing or went wrong."""
    content = files(p)
    with tempfile.TemporaryDirectory(prefix="yte-package-") as tmp:
        folder = Path(tmp)
        for name, data in content.items():
            (folder / name).write_bytes(data)
        # wixl reads each Source relative to the .wxs file's folder
        (folder / "yte.wxs").write_text(wxs(sorted(content), p.site), encoding="utf-8")
        target = folder / "out.msi"
        try:
            done = runner(["wixl", "-a", "x64", "-o", str(target), str(folder / "yte.wxs")],
                          timeout=120)
        except CommandNotFound:
            raise YteError("cần wixl để đóng gói / wixl is needed to build the package: "
                           "apt install wixl (msitools)") from None
        if done.returncode != 0 or not target.exists():
            raise YteError(f"wixl failed ({done.returncode}): {done.stderr.strip()[-500:]}")
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(target, out)
    return out
