"""Site tokens: shown once, stored as a salted hash, compared in constant time.

A token reads ``yte_<id>_<secret>``: the id (public) finds the stored hash without trying
every site's; only the secret's salted SHA-256 is kept. Tokens are 256-bit random, so a
fast hash is sound (a slow KDF protects guessable passwords, and would cap ingest rate).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

_TOKEN_RE = re.compile(r"^yte_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
_HASH_RE = re.compile(r"^v1\$([0-9a-f]{12})\$([0-9a-f]{32})\$([0-9a-f]{64})$")


@dataclass(frozen=True)
class StoredToken:
    token_id: str
    salt: str
    digest: str

    def encoded(self) -> str:
        return f"v1${self.token_id}${self.salt}${self.digest}"


def _digest(salt: str, secret: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + secret.encode()).hexdigest()


def new_token() -> tuple[str, StoredToken]:
    """(the token to hand to the site once, what the collector stores)."""
    token_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)
    return f"yte_{token_id}_{secret}", StoredToken(token_id, salt, _digest(salt, secret))


def parse_stored(text: str) -> StoredToken:
    m = _HASH_RE.match(text)
    if not m:
        raise ValueError("a token hash reads v1$<id>$<salt>$<sha256>")
    return StoredToken(*m.groups())


def token_id_of(token: str) -> str | None:
    m = _TOKEN_RE.match(token)
    return m.group(1) if m else None


def verify(token: str, stored: StoredToken) -> bool:
    m = _TOKEN_RE.match(token)
    if not m or m.group(1) != stored.token_id:
        return False
    return hmac.compare_digest(_digest(stored.salt, m.group(2)), stored.digest)


def bearer(authorization: str) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, else None."""
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None
