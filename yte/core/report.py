"""Report schema v1: the one contract between agent and collector (JSON on the wire).

Facts are declared once, as dataclasses; the validator reads their type hints, so the
agent's output and the collector's input check can never drift apart. A fact that a
probe could not read is ``None`` and its reason is in ``ProbeResult.unknown``; it is
never a silent ``False`` or ``0``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Union

SCHEMA_VERSION = 1
PROBE_STATUSES = ("ok", "unknown", "error")
SOURCES = ("agent", "ssh", "replay", "script")  # script: Windows 7 PowerShell 2.0 batch
PLATFORMS = ("linux", "windows")
MEDIA = ("ssd", "hdd")
MEMORY_SOURCES = ("smbios", "estimated")
SYSTEM_ROLES = ("workstation", "server")
ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
MAX_TEXT = 512
MAX_LIST = 256


# --- facts, one dataclass per probe ---------------------------------------------------


@dataclass
class HardwareFacts:
    memory_installed_bytes: int | None = None
    memory_installed_source: str | None = field(  # smbios: the sum of the modules
        default=None, metadata={"choices": MEMORY_SOURCES})
    memory_module_count: int | None = None
    memory_usable_bytes: int | None = None
    cpu_model: str | None = None
    cpu_cores: int | None = None
    cpu_threads: int | None = None
    os_family: str | None = None
    os_name: str | None = None
    os_version: str | None = None
    os_build: str | None = None
    # the edition's kind: Windows ProductType (1 workstation; 2, 3 server), Linux's
    # default systemd target (graphical: workstation; multi-user: server)
    system_role: str | None = field(default=None, metadata={"choices": SYSTEM_ROLES})
    system_role_source: str | None = None  # what it was read from, for the auditor
    os_disk_devices: list[str] = field(default_factory=list)
    os_disk_media: str | None = field(  # None = unknown (reason beside)
        default=None, metadata={"choices": MEDIA})
    os_disk_bus: str | None = None
    mac_addresses: list[str] = field(default_factory=list)  # physical NICs: matched to discovery


@dataclass
class FirewallFacts:
    # unsolicited inbound traffic refused by default, on IPv4 and on IPv6 (unless off)
    inbound_filtering: bool | None = None
    filtering_backends: list[str] = field(default_factory=list)  # the chains that refuse
    ipv4_default: str | None = field(  # what unsolicited IPv4 meets (Linux)
        default=None, metadata={"choices": ("refuse", "accept")})
    ipv6_default: str | None = field(  # … and IPv6; off: switched off in the kernel
        default=None, metadata={"choices": ("refuse", "accept", "off")})
    open_ports: list[str] = field(default_factory=list)  # let in before the refusal: tcp/22
    managers_active: list[str] = field(default_factory=list)  # ufw, firewalld, windows
    profiles_off: list[str] = field(default_factory=list)  # Windows profiles switched off


@dataclass
class AntivirusProduct:
    name: str
    running: bool | None = None
    signatures_updated_at: float | None = None  # unix seconds
    signatures_current: bool | None = None
    detail: str | None = None


@dataclass
class AntivirusFacts:
    products: list[AntivirusProduct] = field(default_factory=list)
    any_running: bool | None = None  # False when no product is present: absent, not unknown
    any_current: bool | None = None  # a running product reports current signatures
    signatures_updated_at: float | None = None  # newest among running products


@dataclass
class Ipv6Facts:
    addresses: list[str] = field(default_factory=list)  # "address/class" (global, link-local, …)
    has_global_address: bool | None = None  # a global unicast address (site prefixes: collector)
    default_route: bool | None = None
    endpoint: str | None = None  # what reachability was tested against
    dns_aaaa: bool | None = None  # the configured name has an AAAA record
    tcp_reachable: bool | None = None  # a TCP connection over IPv6 to the endpoint succeeded
    large_response: bool | None = None  # > 1280 bytes arrived over IPv6 (path MTU works)
    dual_stack_family: str | None = field(  # how the name was reached
        default=None, metadata={"choices": ("ipv6", "ipv4")})
    router_advertisement: bool | None = None  # an RA was seen on the LAN (optional probe)


@dataclass
class BandwidthFacts:
    """One measurement of the site's uplink, by the one agent holding the site's lease."""

    download_bps: float | None = None  # goodput after ramp-up, bits per second
    upload_bps: float | None = None
    latency_ms: float | None = None  # median round trip
    jitter_ms: float | None = None  # mean difference between consecutive round trips
    server: str | None = None  # collector | iperf3 | librespeed, and where
    streams: int | None = None
    bytes_down: int | None = None  # moved in all, ramp-up included
    bytes_up: int | None = None
    duration_seconds: float | None = None


@dataclass
class PatchesFacts:
    last_update_at: float | None = None  # unix seconds of the last installed update
    source: str | None = None  # dpkg | rpm | windows-update | …


@dataclass
class TransportFacts:
    """How a Windows 7 script sends (PowerShell 2.0 on .NET 3.5): whether it can use TLS
    1.2, which the collector requires, and what is missing when it cannot."""

    tls12: bool | None = None
    client: str | None = None  # "PowerShell 2.0, .NET CLR 2.0.50727.5485"
    missing: list[str] = field(default_factory=list)  # updates and registry values


FACT_TYPES: dict[str, type] = {
    "hardware": HardwareFacts,
    "firewall": FirewallFacts,
    "antivirus": AntivirusFacts,
    "ipv6": Ipv6Facts,
    "patches": PatchesFacts,
    "bandwidth": BandwidthFacts,
    "transport": TransportFacts,
}


def fact_names() -> frozenset[str]:
    """Every host fact a report can carry, as checks name them ("probe.fact")."""
    return frozenset(f"{probe}.{f.name}" for probe, cls in FACT_TYPES.items()
                     for f in dataclasses.fields(cls))


# --- the report ------------------------------------------------------------------------


@dataclass
class ProbeResult:
    status: str  # ok | unknown | error
    facts: Any = None  # one of the dataclasses above, or None when nothing was read
    reason: str | None = None
    duration_seconds: float = 0.0
    unknown: dict[str, str] = field(default_factory=dict)  # fact -> why it is unknown
    notes: dict[str, str] = field(default_factory=dict)  # fact -> why it is false


@dataclass
class Report:
    report_id: str
    host_id: str
    hostname: str
    site: str
    agent_version: str
    platform: str
    collected_at: float  # unix seconds; RFC 3339 UTC on the wire
    probes: dict[str, ProbeResult]
    source: str = "agent"
    spool_dropped_total: int = 0  # reports this agent's spool has dropped since it began
    schema: int = SCHEMA_VERSION

    def flat_facts(self) -> dict[str, Any]:
        """``{"hardware.memory_installed_bytes": …}``: what checks read. Unknown is None."""
        out: dict[str, Any] = {}
        for name, result in self.probes.items():
            facts = result.facts
            for f in _shape(FACT_TYPES[name])[0]:
                value = getattr(facts, f.name) if facts is not None else None
                if isinstance(value, list) and value and dataclasses.is_dataclass(value[0]):
                    value = [dataclasses.asdict(v) for v in value]
                out[f"{name}.{f.name}"] = value
        out["agent.spool_dropped_total"] = self.spool_dropped_total
        return out

    def to_json_obj(self) -> dict[str, Any]:
        probes = {}
        for name, r in self.probes.items():
            probes[name] = {
                "status": r.status,
                "reason": r.reason,
                "duration_seconds": round(r.duration_seconds, 6),
                "unknown": dict(r.unknown),
                "facts": dataclasses.asdict(r.facts) if r.facts is not None else None,
            }
            if r.notes:
                probes[name]["notes"] = dict(r.notes)
        return {
            "schema": self.schema,
            "report_id": self.report_id,
            "host_id": self.host_id,
            "hostname": self.hostname,
            "site": self.site,
            "agent_version": self.agent_version,
            "source": self.source,
            "platform": self.platform,
            "collected_at": format_time(self.collected_at),
            "spool_dropped_total": self.spool_dropped_total,
            "probes": probes,
        }


# --- validation (collector side; also used on replayed files) ---------------------------


class ReportError(ValueError):
    """A report that does not match schema v1; ``field`` is the dotted path at fault."""

    def __init__(self, field_path: str, message: str):
        field_path, message = _echo(field_path), _echo(message)
        super().__init__(f"{field_path}: {message}")
        self.field = field_path
        self.message = message


def _echo(text: str, limit: int = 200) -> str:
    """Input echoed in an error: valid UTF-8 and bounded, whatever the sender put in it."""
    text = text if len(text) <= limit else text[:limit] + "…"
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def format_time(ts: float) -> str:
    stamp = dt.datetime.fromtimestamp(ts, dt.timezone.utc)
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value: Any, where: str) -> float:
    if not isinstance(value, str) or len(value) > 40:
        raise ReportError(where, "expected an RFC 3339 timestamp string")
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ReportError(where, f"not an RFC 3339 timestamp: {value!r}") from None
    if parsed.tzinfo is None:
        raise ReportError(where, "timestamp needs a time zone (use Z for UTC)")
    return parsed.timestamp()


def _text_ok(value: str, where: str) -> str:
    """Bounded, and encodable as UTF-8: JSON may carry a lone surrogate ("\\ud800") that
    no database or exposition can store; it is refused here, naming the field."""
    if len(value) > MAX_TEXT:
        raise ReportError(where, f"longer than {MAX_TEXT} characters")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ReportError(where, "invalid Unicode (a lone surrogate): not UTF-8 text") from None
    return value


@functools.cache
def _kind(hint: Any) -> tuple[str, Any]:
    """What a schema type asks of a value, worked out once per type."""
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        return "optional", [a for a in typing.get_args(hint) if a is not type(None)][0]
    if origin is list:
        return "list", typing.get_args(hint)[0]
    if dataclasses.is_dataclass(hint):
        return "object", hint
    if hint in (bool, int, float, str):
        return hint.__name__, hint
    raise TypeError(f"unsupported schema type {hint!r}")  # a bug in this module, not input


def _check(value: Any, hint: Any, where: str) -> Any:
    kind, inner = _kind(hint)
    if kind == "optional":
        return None if value is None else _check(value, inner, where)
    if kind == "list":
        if not isinstance(value, list):
            raise ReportError(where, "expected a list")
        if len(value) > MAX_LIST:
            raise ReportError(where, f"more than {MAX_LIST} items")
        return [_check(v, inner, f"{where}[{i}]") for i, v in enumerate(value)]
    if kind == "object":
        return _build(inner, value, where)
    if kind == "bool":
        if not isinstance(value, bool):
            raise ReportError(where, "expected true, false or null")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ReportError(where, "expected an integer")
        if not -(2**63) <= value < 2**63:
            raise ReportError(where, "integer out of range")
        return value
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ReportError(where, "expected a number")
        if not math.isfinite(value):
            raise ReportError(where, "expected a finite number")
        return float(value)
    if not isinstance(value, str):
        raise ReportError(where, "expected a string")
    return _text_ok(value, where)


@dataclasses.dataclass(frozen=True)
class _Field:
    name: str
    hint: Any
    choices: Any
    required: bool


@functools.cache
def _shape(cls: Any) -> tuple[tuple[_Field, ...], frozenset[str]]:
    """A dataclass's fields as the parser needs them, worked out once per class."""
    hints = typing.get_type_hints(cls)
    fields = tuple(_Field(f.name, hints[f.name], f.metadata.get("choices"),
                          f.default is dataclasses.MISSING
                          and f.default_factory is dataclasses.MISSING)
                   for f in dataclasses.fields(cls))
    return fields, frozenset(f.name for f in fields)


def _build(cls: Any, obj: Any, where: str) -> Any:
    if not isinstance(obj, dict):
        raise ReportError(where, "expected an object")
    fields, names = _shape(cls)
    for key in obj:
        if key not in names:
            raise ReportError(f"{where}.{key}", "unknown field")
    kwargs = {}
    for f in fields:
        if f.name in obj:
            kwargs[f.name] = value = _check(obj[f.name], f.hint, f"{where}.{f.name}")
            if f.choices is not None and value is not None and value not in f.choices:
                raise ReportError(f"{where}.{f.name}", f"must be one of {', '.join(f.choices)}")
        elif f.required:
            raise ReportError(f"{where}.{f.name}", "required field is missing")
    return cls(**kwargs)


def _text(obj: dict, key: str, *, pattern: re.Pattern | None = None, choices=None) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise ReportError(key, "required string is missing or empty")
    _text_ok(value, key)
    if pattern is not None and not pattern.match(value):
        raise ReportError(key, f"must match {pattern.pattern}")
    if choices is not None and value not in choices:
        raise ReportError(key, f"must be one of {', '.join(choices)}")
    return value


_TOP = {
    "schema", "report_id", "host_id", "hostname", "site", "agent_version",
    "source", "platform", "collected_at", "spool_dropped_total", "probes",
}
REPORT_ID_RE = re.compile(r"^[A-Za-z0-9-]{8,64}$")


def _reasons(raw: dict, key: str, where: str, fact_names: frozenset[str]) -> dict[str, str]:
    """``unknown`` (why a fact is unknown) or ``notes`` (why it is false): fact → text."""
    value = raw.get(key) or {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ReportError(f"{where}.{key}", "expected an object of fact name to reason")
    for fact, why in value.items():
        if fact not in fact_names:
            raise ReportError(f"{where}.{key}.{fact}", "not a fact of this probe")
        _text_ok(why, f"{where}.{key}.{fact}")
    return dict(value)


def parse_report(obj: Any) -> Report:
    """Validate a decoded JSON object against schema v1; raise ReportError naming the field."""
    if not isinstance(obj, dict):
        raise ReportError("$", "a report is a JSON object")
    for key in obj:
        if key not in _TOP:
            raise ReportError(key, "unknown field")
    if obj.get("schema") != SCHEMA_VERSION:
        raise ReportError("schema", f"unsupported schema version {obj.get('schema')!r}; "
                          f"this collector reads version {SCHEMA_VERSION}")
    probes_obj = obj.get("probes")
    if not isinstance(probes_obj, dict):
        raise ReportError("probes", "expected an object of probe results")
    probes: dict[str, ProbeResult] = {}
    for name, raw in probes_obj.items():
        where = f"probes.{name}"
        if name not in FACT_TYPES:
            raise ReportError(where, f"unknown probe (known: {', '.join(FACT_TYPES)})")
        if not isinstance(raw, dict):
            raise ReportError(where, "expected an object")
        for key in raw:
            if key not in ("status", "reason", "duration_seconds", "unknown", "notes", "facts"):
                raise ReportError(f"{where}.{key}", "unknown field")
        status = raw.get("status")
        if status not in PROBE_STATUSES:
            raise ReportError(f"{where}.status", f"must be one of {', '.join(PROBE_STATUSES)}")
        reason = _check(raw.get("reason"), str | None, f"{where}.reason")
        if status != "ok" and not reason:
            raise ReportError(f"{where}.reason", f"a probe with status {status} needs a reason")
        duration = _check(raw.get("duration_seconds", 0.0), float, f"{where}.duration_seconds")
        fact_names = _shape(FACT_TYPES[name])[1]
        unknown, notes = (_reasons(raw, key, where, fact_names) for key in ("unknown", "notes"))
        facts_raw = raw.get("facts")
        facts = None if facts_raw is None else _build(FACT_TYPES[name], facts_raw, f"{where}.facts")
        if status == "ok" and facts is None:
            raise ReportError(f"{where}.facts", "a probe with status ok needs facts")
        probes[name] = ProbeResult(status, facts, reason, duration, unknown, notes)
    return Report(
        schema=SCHEMA_VERSION,
        report_id=_text(obj, "report_id", pattern=REPORT_ID_RE),
        host_id=_text(obj, "host_id", pattern=ID_RE),
        hostname=_text(obj, "hostname"),
        site=_text(obj, "site", pattern=ID_RE),
        agent_version=_text(obj, "agent_version"),
        source=_text(obj, "source", choices=SOURCES),
        platform=_text(obj, "platform", choices=PLATFORMS),
        collected_at=parse_time(obj.get("collected_at"), "collected_at"),
        probes=probes,
        spool_dropped_total=_dropped(obj.get("spool_dropped_total", 0)),
    )


def _dropped(value: Any) -> int:
    count = _check(value, int, "spool_dropped_total")
    if count < 0:
        raise ReportError("spool_dropped_total", "a count, 0 or more")
    return count
