"""The project's own errors: what a user can act on, said Vietnamese first with English
beside. Library code raises these; the CLI alone maps them to exit statuses and messages
(yte_compliance.cli), so no library imports the CLI framework."""

from __future__ import annotations


class YteError(Exception):
    """A failure the user can act on (exit status 1)."""


class UsageError(YteError):
    """The command's arguments cannot be used as given (exit status 2)."""
