"""Runs external commands: an argument list and a timeout, never a shell string."""

from __future__ import annotations

import locale
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


class CommandError(Exception):
    """The command could not give an answer (missing, timed out)."""


class CommandNotFound(CommandError):
    pass


class CommandTimeout(CommandError):
    pass


class Runner(Protocol):
    def __call__(self, argv: Sequence[str], timeout: float = 10.0) -> CommandResult: ...


def run(argv: Sequence[str], timeout: float = 10.0) -> CommandResult:
    """Run argv with the C locale (stable, untranslated output) and capture its output."""
    env = dict(os.environ, LC_ALL="C", LANG="C")
    try:
        proc = subprocess.run(  # noqa: S603 - argv list, no shell
            list(argv), capture_output=True, timeout=timeout, env=env,
            stdin=subprocess.DEVNULL, check=False,
        )
    except FileNotFoundError:
        raise CommandNotFound(f"{argv[0]}: command not found") from None
    except subprocess.TimeoutExpired:
        raise CommandTimeout(f"{argv[0]}: no answer within {timeout:g} s") from None
    return CommandResult(tuple(argv), proc.returncode, decode_output(proc.stdout),
                         decode_output(proc.stderr))


def decode_output(data: bytes, fallback: str | None = None) -> str:
    """A command's output as text: UTF-8, which our PowerShell scripts set explicitly
    (and Linux tools print under the C locale); else the system's code page, with
    undecodable bytes replaced rather than a failure."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode(fallback or locale.getpreferredencoding(False), errors="replace")


def none_under(root: str) -> Runner:
    """The runner of a recorded tree: it runs nothing. A command would read the machine
    the agent runs on, not the one recorded under ``root``."""
    def refuse(argv: Sequence[str], timeout: float = 10.0) -> CommandResult:
        raise CommandNotFound(f"{argv[0]}: not run (the root is the recorded tree {root}, "
                              "a command would read this machine)")
    return refuse


class RecordedRunner:
    """Replays recorded outputs: ``commands`` maps a command line (joined by spaces) to
    (returncode, stdout, stderr). A command that was not recorded behaves as not installed."""

    def __init__(self, commands: dict[str, tuple[int, str, str]]):
        self.commands = commands
        self.calls: list[str] = []

    def __call__(self, argv: Sequence[str], timeout: float = 10.0) -> CommandResult:
        line = " ".join(argv)
        self.calls.append(line)
        if line not in self.commands:
            raise CommandNotFound(f"{argv[0]}: command not found (not recorded)")
        rc, out, err = self.commands[line]
        return CommandResult(tuple(argv), rc, out, err)
