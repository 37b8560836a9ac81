"""A host's stable id: derived from the machine id, never the hostname or an address."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

# An application-specific derivation, as systemd asks (machine-id(5)): the raw machine
# id is not disclosed, and the same machine always gets the same host id.
_APP_KEY = b"yte-compliance host id v1"


def host_id_from_machine_id(machine_id: str) -> str:
    digest = hmac.new(_APP_KEY, machine_id.strip().lower().encode(), hashlib.sha256)
    return "h" + digest.hexdigest()[:15]


def linux_machine_id(root: Path = Path("/")) -> str:
    for candidate in ("etc/machine-id", "var/lib/dbus/machine-id"):
        try:
            text = (root / candidate).read_text().strip()
        except OSError:
            continue
        if text:
            return text
    raise LookupError("no machine id in /etc/machine-id or /var/lib/dbus/machine-id; "
                      "set host_id in the agent configuration")
