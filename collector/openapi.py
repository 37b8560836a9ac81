"""The OpenAPI description of the collector's HTTP API, generated from the report schema's
dataclasses (one source of truth). `python -m yte_compliance.collector.openapi > docs/openapi.yaml`."""

from __future__ import annotations

import dataclasses
import sys
import types
import typing
from typing import Any, Union

import yaml

from yte_compliance import __version__
from yte_compliance.core.report import (
    FACT_TYPES,
    MAX_LIST,
    MAX_TEXT,
    PLATFORMS,
    PROBE_STATUSES,
    SOURCES,
)

_SCALARS = {str: {"type": "string", "maxLength": MAX_TEXT}, int: {"type": "integer"},
            float: {"type": "number"}, bool: {"type": "boolean"}}


def _schema(hint: Any) -> dict:
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        (inner,) = [a for a in typing.get_args(hint) if a is not type(None)]
        return {**_schema(inner), "nullable": True}
    if origin is list:
        return {"type": "array", "maxItems": MAX_LIST, "items": _schema(typing.get_args(hint)[0])}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return {"$ref": f"#/components/schemas/{hint.__name__}"}
    return dict(_SCALARS[hint])  # type: ignore[call-overload]  # a scalar type, as above


def _object(cls: Any) -> dict:
    hints = typing.get_type_hints(cls)
    fields = dataclasses.fields(cls)
    required = [f.name for f in fields if f.default is dataclasses.MISSING
                and f.default_factory is dataclasses.MISSING]
    properties = {}
    for f in fields:
        properties[f.name] = _schema(hints[f.name])
        if "choices" in f.metadata:  # enumerated facts, as parse_report enforces them
            properties[f.name]["enum"] = [*f.metadata["choices"], None]
    out = {"type": "object", "additionalProperties": False, "properties": properties}
    if required:
        out["required"] = required
    return out


def _error(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


REFUSALS = {
    "400": _error("Malformed: invalid JSON, a field against the schema (`field` names it), or "
                  "`collected_at` too far in the future (reason `clock_skew`)"),
    "401": _error("No bearer token, or an unknown, revoked or expired one"),
    "403": _error("The token belongs to another site than the report's"),
    "409": _error("This report id was stored before with other content (reason `conflict`)"),
    "413": _error("Body larger than limits.max_body_bytes"),
    "429": _error("More reports from this host than its rate allows; see Retry-After"),
    "503": _error("Too many reports waiting to be written; see Retry-After"),
}
ACCEPTED = {
    "201": {"description": "Stored, on disk before this answer",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Ack"}}}},
    "200": {"description": "Stored before (the same report id and content): nothing changed",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Ack"}}}},
}


def spec() -> dict:
    schemas: dict[str, Any] = {}
    for cls in (*FACT_TYPES.values(), *(t for t in _nested())):
        schemas[cls.__name__] = _object(cls)
    for name, cls in FACT_TYPES.items():
        schemas[f"{name.capitalize()}Result"] = {
            "type": "object", "additionalProperties": False, "required": ["status"],
            "properties": {
                "status": {"type": "string", "enum": list(PROBE_STATUSES)},
                "reason": {"type": "string", "nullable": True, "maxLength": MAX_TEXT},
                "duration_seconds": {"type": "number"},
                "unknown": {"type": "object", "additionalProperties": {"type": "string"}},
                "facts": {"allOf": [{"$ref": f"#/components/schemas/{cls.__name__}"}],
                          "nullable": True},
            }}
    schemas["Report"] = {
        "type": "object", "additionalProperties": False,
        "required": ["schema", "report_id", "host_id", "hostname", "site", "agent_version",
                     "source", "platform", "collected_at", "probes"],
        "properties": {
            "schema": {"type": "integer", "enum": [1]},
            "report_id": {"type": "string", "pattern": "^[A-Za-z0-9-]{8,64}$"},
            "host_id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_.-]{0,62}$"},
            "hostname": {"type": "string", "minLength": 1, "maxLength": MAX_TEXT},
            "site": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_.-]{0,62}$"},
            "agent_version": {"type": "string", "minLength": 1, "maxLength": MAX_TEXT},
            "source": {"type": "string", "enum": list(SOURCES)},
            "platform": {"type": "string", "enum": list(PLATFORMS)},
            "collected_at": {"type": "string", "format": "date-time"},
            "spool_dropped_total": {"type": "integer", "minimum": 0},
            "probes": {"type": "object", "additionalProperties": False, "properties": {
                name: {"$ref": f"#/components/schemas/{name.capitalize()}Result"}
                for name in FACT_TYPES}},
        }}
    schemas["WindowsBatch"] = {
        "type": "object", "additionalProperties": False,
        "required": ["schema", "report_id", "site", "host_id", "hostname", "collected_at",
                     "agent_version", "batch"],
        "properties": {
            "schema": {"type": "integer", "enum": [1]},
            "report_id": {"type": "string"}, "site": {"type": "string"},
            "host_id": {"type": "string"}, "hostname": {"type": "string"},
            "collected_at": {"type": "string", "format": "date-time"},
            "agent_version": {"type": "string"},
            "batch": {"type": "object", "description": "source name (agent/windows/collect.ps1) "
                      "→ {ok: true, data} or {ok: false, error}",
                      "additionalProperties": {"type": "object"}},
        }}
    schemas["Ack"] = {"type": "object", "properties": {
        "status": {"type": "string", "enum": ["stored", "duplicate"]},
        "report_id": {"type": "string"}}}
    schemas["Error"] = {"type": "object", "required": ["error", "reason"], "properties": {
        "error": {"type": "string", "description": "Vietnamese / English"},
        "reason": {"type": "string", "enum": [
            "unauthorized", "forbidden", "host_of_other_site", "host_limit", "out_of_scope",
            "invalid", "too_large", "body_timeout", "clock_skew", "too_old", "rate_limited",
            "conflict", "busy", "store_error", "not_found"]},
        "field": {"type": "string", "description": "the dotted field at fault"}}}
    bearer: list[dict[str, list[str]]] = [{"siteToken": []}]
    viewer: list[dict[str, list[str]]] = [{"viewerToken": []}]
    unread = {"401": _error("no viewer token, or an unknown or revoked one")}
    scoped = {**unread, "403": _error("the site is outside the viewer's scope"),
              "404": _error("no such site")}
    return {
        "openapi": "3.0.3",
        "info": {"title": "yte-compliance collector", "version": __version__,
                 "description": "Nhận báo cáo của tác tử và phục vụ mức đạt chỉ tiêu / "
                                "receives agents' reports and serves compliance."},
        "components": {"securitySchemes": {
            "siteToken": {"type": "http", "scheme": "bearer",
                          "description": "a site's token, or an enrolled PC's own host key "
                                         "(which writes that PC's reports only)"},
            "enrollmentSecret": {"type": "http", "scheme": "bearer",
                                 "description": "a site's enrollment secret: only enrolls new "
                                                "PCs; yte collector enrollment add"},
            "viewerToken": {"type": "http", "scheme": "bearer",
                            "description": "a viewer's token: reads its scope (province, "
                                           "district or site); yte collector viewer add"}},
                       "schemas": schemas},
        "paths": {
            "/api/v1/reports": {"post": {
                "summary": "Submit one report (schema v1)", "security": bearer,
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Report"}}}},
                "responses": {**ACCEPTED, **REFUSALS}}},
            "/api/v1/windows-batches": {"post": {
                "summary": "Submit a Windows 7 batch (collect-ps2.ps1), parsed by the collector",
                "security": bearer,
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/WindowsBatch"}}}},
                "responses": {**ACCEPTED, **REFUSALS}}},
            "/api/v1/enroll": {"post": {
                "summary": "A new PC trades its site's enrollment secret for its own host key "
                           "(then its reports need that key)",
                "security": [{"enrollmentSecret": []}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["host_id", "hostname"],
                    "properties": {"host_id": {"type": "string"},
                                   "hostname": {"type": "string", "maxLength": 255}}}}}},
                "responses": {
                    "201": {"description": "enrolled: {status, site, host_id, host_key}, the "
                                           "key shown once"},
                    "400": _error("malformed request, naming the field"),
                    "401": _error("unknown or revoked enrollment secret"),
                    "403": _error("the site is at its host limit"),
                    "409": _error("the host is enrolled already, or has reported before: an "
                                  "operator allows it (yte collector key allow)"),
                    "429": _error("too many enrollments for the site this minute")}}},
            "/api/v1/sites": {"get": {"summary": "Every site of the viewer's scope with its "
                                                 "result counts", "security": viewer,
                                      "responses": {"200": {"description": "sites"}, **unread}}},
            "/api/v1/sites/{site}": {"get": {
                "summary": "One site: each check with failing and unknown hosts",
                "security": viewer,
                "parameters": [{"name": "site", "in": "path", "required": True,
                                "schema": {"type": "string"}}],
                "responses": {"200": {"description": "the site"}, **scoped}}},
            "/api/v1/sites/{site}/history": {"get": {
                "summary": "One site month by month: each target's verdict and figure at "
                           "each month's end (kept), this month's live",
                "security": viewer,
                "parameters": [{"name": "site", "in": "path", "required": True,
                                "schema": {"type": "string"}},
                               {"name": "year", "in": "query", "required": False,
                                "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "{site, year, titles, months: "
                                                     "[{month, checks}]}"}, **scoped}}},
            "/metrics": {"get": {"summary": "Prometheus exposition of the viewer's sites",
                                 "security": viewer, "responses": {
                                     "200": {"description": "text format 0.0.4"}, **unread}}},
            "/healthz": {"get": {"summary": "Health", "responses": {"200": {"description": "ok"}}}},
        },
    }


def _nested() -> list[type]:
    out = []
    for cls in FACT_TYPES.values():
        for hint in typing.get_type_hints(cls).values():
            for arg in typing.get_args(hint):
                if isinstance(arg, type) and dataclasses.is_dataclass(arg) and arg not in out:
                    out.append(arg)
    return out


def render() -> str:
    header = "# Generated by `python -m yte_compliance.collector.openapi`; do not edit by hand.\n"
    return header + yaml.safe_dump(spec(), sort_keys=False, allow_unicode=True, width=100)


if __name__ == "__main__":
    sys.stdout.write(render())
