"""Strict YAML configuration: every error names the file, the line and the key."""

from __future__ import annotations

import datetime as dt
import difflib
from pathlib import Path
from typing import Any

import yaml

from yte_compliance.core.errors import YteError


class ConfigError(YteError):
    """A configuration file that cannot be used as written."""

    def __init__(self, file: str | Path, line: int | None, key: str, message: str):
        self.file, self.line, self.key, self.message = str(file), line, key, message
        where = f"{self.file}:{line}" if line else self.file
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")


class LineDict(dict):
    """A mapping that remembers the line (1-based) of itself and of each key."""

    line: int = 0
    key_lines: dict[str, int]


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml's parser where PyYAML has it (a 500-site file: 0.03 s instead of 0.4 s),
    with the constructors below: the same marks, so the same lines in every error."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    out = LineDict()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in out:
            raise ConfigError(loader.name, key_node.start_mark.line + 1, str(key), "duplicate key")
        try:
            out[key] = loader.construct_object(value_node, deep=True)
        except ValueError as e:  # e.g. a date 2026-13-01 that YAML recognises but cannot build
            raise ConfigError(loader.name, value_node.start_mark.line + 1, str(key),
                              f"invalid value: {e}") from None
        out.key_lines[key] = key_node.start_mark.line + 1
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(path: str | Path) -> Any:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(path, None, "", f"cannot read: {e.strerror}") from None
    return parse_yaml(text, path)


def parse_yaml(text: str, name: str | Path) -> Any:
    """``text`` as YAML; errors name ``name`` (a file, or a file shipped in the package)."""
    loader = _Loader(text)
    loader.name = str(name)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        raise ConfigError(name, mark.line + 1 if mark else None, "", f"YAML: {e.problem}") from None
    finally:
        loader.dispose()


_MISSING = object()
Key = str | int  # YAML keys: names, and years in declarations


class Section:
    """Reads one mapping of a config file; ``finish()`` refuses keys nobody read."""

    def __init__(self, node: Any, file: str | Path, where: str):
        self.file, self.where = str(file), where
        if not isinstance(node, dict):
            line = getattr(node, "line", None)
            raise ConfigError(file, line, where, "expected a mapping (key: value)")
        self.node = node
        self.line = getattr(node, "line", None)
        self._seen: set[Key] = set()

    def line_of(self, key: Key | None) -> int | None:
        """The line of ``key`` (of this mapping when absent), where the loader kept it."""
        return self.node.key_lines.get(key, self.line) if hasattr(self.node, "key_lines") else None

    def error(self, key: Key | None, message: str) -> ConfigError:
        line = self.line_of(key)
        name = f"{self.where}.{key}" if key and self.where else str(key or self.where)
        return ConfigError(self.file, line, name, message)

    def has(self, key: Key) -> bool:
        return key in self.node

    def get(self, key: Key, kind: type | tuple[type, ...], default: Any = _MISSING) -> Any:
        self._seen.add(key)
        if key not in self.node or self.node[key] is None:
            if default is _MISSING:
                raise self.error(key, "required key is missing")
            return default
        value = self.node[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if bool not in kinds and isinstance(value, bool):
            raise self.error(key, f"expected {_names(kinds)}, got a boolean")
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kinds):
            raise self.error(key, f"expected {_names(kinds)}, got {type(value).__name__}")
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: Any = _MISSING) -> Any:
        value = self.get(key, str, default)
        if value is not default and value not in choices:
            raise self.error(key, f"must be one of: {', '.join(choices)} (got {value!r})")
        return value

    def ratio(self, key: str, default: Any = _MISSING) -> Any:
        value = self.get(key, float, default)
        if value is not default and not 0.0 <= value <= 1.0:
            raise self.error(key, f"a share from 0 to 1 (got {value})")
        return value

    def date(self, key: str, default: Any = _MISSING) -> Any:
        value = self.get(key, (dt.date, str), default)
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                raise self.error(key, f"expected a date YYYY-MM-DD (got {value!r})") from None
        return value

    def section(self, key: Key, default: Any = _MISSING) -> Section | Any:
        value = self.get(key, dict, default)
        if value is default:
            return value
        return Section(value, self.file, f"{self.where}.{key}" if self.where else str(key))

    def items(self, key: str, default: Any = _MISSING) -> list[tuple[str, Any]] | Any:
        """A list value, each entry with its dotted location for nested errors."""
        value = self.get(key, list, default)
        if value is default:
            return value
        base = f"{self.where}.{key}" if self.where else key
        return [(f"{base}[{i}]", v) for i, v in enumerate(value)]

    def finish(self) -> None:
        for key in self.node:
            if key not in self._seen:
                hint = difflib.get_close_matches(str(key), sorted(map(str, self._seen)), n=1)
                extra = f" (did you mean {hint[0]!r}?)" if hint else ""
                raise self.error(key, f"unknown key{extra}")


def _names(kinds: tuple[type, ...]) -> str:
    words = {str: "text", int: "an integer", float: "a number", bool: "true/false",
             list: "a list", dict: "a mapping", dt.date: "a date"}
    return " or ".join(words.get(k, k.__name__) for k in kinds)
