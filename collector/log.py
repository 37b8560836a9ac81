"""Structured logs: one JSON object per line on stderr. Callers pass fields, never headers:
no token can reach a log line."""

from __future__ import annotations

import json
import logging
import sys

_LOGGER = logging.getLogger("yte.collector")


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"ts": round(record.created, 3), "level": record.levelname.lower(),
                "event": record.getMessage()}
        line.update(getattr(record, "fields", {}))
        return json.dumps(line, ensure_ascii=False, default=str)


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a line is emitted."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def setup(level: str = "info") -> None:
    handler = _Stderr()
    handler.setFormatter(_JsonFormatter())
    _LOGGER.handlers[:] = [handler]
    _LOGGER.setLevel(level.upper())
    _LOGGER.propagate = False


def event(name: str, level: int = logging.INFO, **fields: object) -> None:
    if _LOGGER.isEnabledFor(level):
        _LOGGER.log(level, name, extra={"fields": fields})
