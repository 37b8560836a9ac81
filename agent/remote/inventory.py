"""The SSH inventory (YAML): hosts with address, port, user, site, platform and groups.

Credentials are a key file or the ssh-agent; a password only from an environment variable
or a prompt, never from the file (an inventory gets copied, mailed and committed)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from yte_compliance.core.report import ID_RE
from yte_compliance.core.yamlconf import ConfigError, Section, load_yaml

PLATFORMS = ("linux", "windows")


@dataclass(frozen=True)
class Host:
    name: str
    address: str
    site: str
    platform: str = "linux"
    port: int = 22
    user: str = "root"
    groups: tuple[str, ...] = ()
    key_file: Path | None = None
    ssh_agent: bool = True
    password_env: str | None = None  # the variable holding the password
    password_prompt: bool = False  # ask once, at the start of the run
    sudo: bool = False  # run the probes with `sudo -n` (root reads SMBIOS and the rule set)
    python: str = "python3"

    @property
    def label(self) -> str:
        return f"{self.name} ({self.address}:{self.port})"


@dataclass(frozen=True)
class Inventory:
    hosts: tuple[Host, ...]
    known_hosts: Path
    connect_timeout: float = 10.0
    command_timeout: float = 120.0
    collector_url: str | None = None
    ca_file: Path | None = None
    tokens_dir: Path | None = None  # <site>.token files, mode 600

    def select(self, limit: tuple[str, ...] = ()) -> list[Host]:
        """Hosts named, or in a group named, by ``limit`` (all when empty); an unknown
        name is an error, not an empty run."""
        if not limit:
            return list(self.hosts)
        names = {h.name for h in self.hosts} | {g for h in self.hosts for g in h.groups}
        missing = [x for x in limit if x not in names]
        if missing:
            raise ValueError(f"--limit: không có máy hay nhóm / no host or group named "
                             f"{', '.join(missing)}")
        return [h for h in self.hosts if h.name in limit or set(h.groups) & set(limit)]


_FIELDS = {"address": str, "port": int, "user": str, "site": str, "platform": str,
           "groups": list, "key_file": str, "ssh_agent": bool, "password_env": str,
           "password_prompt": bool, "sudo": bool, "python": str}


def _read(s: Section, over: dict) -> dict:
    """A host's keys (or the defaults') laid over ``over``; a password is refused."""
    if s.has("password"):
        raise s.error("password", "passwords are never read from the inventory: set "
                                  "password_env: VARIABLE or password_prompt: true")
    out = dict(over)
    for key, kind in _FIELDS.items():
        value = s.get(key, kind, None)
        if value is not None:
            out[key] = value
        elif key == "key_file" and s.has(key):  # key_file: null drops the default key
            out.pop(key, None)
    s.finish()
    return out


def _host(name: str, s: Section, defaults: dict, base: Path) -> Host:
    fields = _read(s, defaults)
    for key in ("address", "site"):
        if key not in fields:
            raise s.error(key, "required key is missing (here or under defaults)")
    if not all(isinstance(g, str) for g in fields.get("groups", [])):
        raise s.error("groups", "a list of group names")
    fields["groups"] = tuple(fields.get("groups", ()))
    if "key_file" in fields:
        fields["key_file"] = base / os.path.expanduser(fields["key_file"])
    host = Host(name=name, **fields)
    if not ID_RE.match(host.site):
        raise s.error("site", f"a site id is lower-case letters, digits, '-', '_', '.' "
                              f"(got {host.site!r})")
    if host.platform not in PLATFORMS:
        raise s.error("platform", f"must be one of: {', '.join(PLATFORMS)}")
    if not 1 <= host.port <= 65535:
        raise s.error("port", "from 1 to 65535")
    return host


def load_inventory(path: str | Path) -> Inventory:
    path = Path(path)
    base = path.parent
    s = Section(load_yaml(path), path, "")
    d = s.section("defaults", None)
    defaults = {} if d is None else _read(d, {})
    hosts_node = s.section("hosts")
    hosts = []
    for name in hosts_node.node:
        if not isinstance(name, str) or not ID_RE.match(name):
            raise hosts_node.error(str(name), "a host name is lower-case letters, digits, "
                                              "'-', '_', '.'")
        hosts.append(_host(name, hosts_node.section(name), defaults, base))
    hosts_node.finish()
    if not hosts:
        raise s.error("hosts", "no hosts listed")
    c = s.section("collector", None)
    url = ca = tokens = None
    if c is not None:
        url = c.get("url", str, None)
        ca, tokens = c.get("ca_file", str, None), c.get("tokens_dir", str, None)
        c.finish()
        if url is not None and not url.startswith(("http://", "https://")):
            raise c.error("url", "must start with https:// (or http:// on a test bed)")
    inv = Inventory(
        hosts=tuple(hosts),
        known_hosts=base / os.path.expanduser(s.get("known_hosts", str, "~/.ssh/known_hosts")),
        connect_timeout=s.get("connect_timeout_seconds", float, 10.0),
        command_timeout=s.get("command_timeout_seconds", float, 120.0),
        collector_url=url,
        ca_file=None if ca is None else base / ca,
        tokens_dir=None if tokens is None else base / os.path.expanduser(tokens),
    )
    s.finish()
    if not 0 < inv.connect_timeout <= 300:
        raise s.error("connect_timeout_seconds", "from 0 to 300 seconds")
    return inv


__all__ = ["ConfigError", "Host", "Inventory", "PLATFORMS", "load_inventory"]
