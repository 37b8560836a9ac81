"""POST a report to the collector (stdlib HTTP: ssl and urllib load only when sending)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from yte_compliance.agent.spool import SendError
from yte_compliance.core.protocol import REPORTS_PATH


def post_report(url: str, token: str, body: bytes, *, timeout: float = 15.0,
                ca_file: Path | None = None) -> dict:
    import ssl
    import urllib.error
    import urllib.request

    context = None
    if url.startswith("https://"):
        context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    request = urllib.request.Request(  # noqa: S310 - scheme checked by the config loader
        url.rstrip("/") + REPORTS_PATH, data=body, method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}",
                 "User-Agent": "yte-agent"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as resp:  # noqa: S310
            return json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as e:
        detail = e.read().decode(errors="replace")[:500]
        try:
            detail = json.loads(detail).get("error", detail)
        except (ValueError, AttributeError):
            pass
        # 4xx: this report will never be accepted as it is (bad token, bad schema) —
        # except 408/429, which ask to come back later.
        retry = e.code >= 500 or e.code in (408, 429)
        raise SendError(f"collector answered {e.code}: {detail}", retry=retry) from None
    except (urllib.error.URLError, OSError, TimeoutError) as e:
        reason = getattr(e, "reason", e)
        raise SendError(f"collector unreachable: {reason}", retry=True) from None


def read_token(path: Path) -> str:
    """The site token, from a file only the agent's account may read (checked on POSIX;
    on Windows the folder's ACL does it, see docs/deploy-windows.md)."""
    try:
        if os.name == "posix" and path.stat().st_mode & 0o077:
            mode = oct(path.stat().st_mode & 0o777)
            raise SendError(f"token file {path} is readable by others (mode {mode}): "
                            f"chmod 600 {path}", retry=True)
        token = path.read_text().strip()
    except OSError as e:
        raise SendError(f"cannot read token file {path}: {e.strerror}", retry=True) from None
    if not token:
        raise SendError(f"token file {path} is empty", retry=False)
    return token


def call_collector(url: str, token: str, method: str, path: str, body: dict | None = None,
                   *, ca_file: str | None = None, timeout: float = 15.0) -> dict:
    """An authenticated JSON request to the collector (leases, discovery). A 4xx/5xx is a
    SendError saying the status and the collector's reason."""
    import http.client
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https":
        import ssl

        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=timeout,
            context=ssl.create_default_context(cafile=ca_file))
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, parts.path.rstrip("/") + path, body=data,
                     headers={"Authorization": f"Bearer {token}",
                              "Content-Type": "application/json"})
        resp = conn.getresponse()
        raw = resp.read()
    except OSError as e:
        raise SendError(f"collector unreachable: {e}", retry=True) from None
    finally:
        conn.close()
    if resp.status >= 400:
        raise SendError(f"collector answered {resp.status}: {raw[:300].decode(errors='replace')}",
                        retry=resp.status >= 500 or resp.status in (408, 429))
    return json.loads(raw) if raw else {}


def credential(cfg, host_id: str, hostname: str) -> str:
    """What this agent authenticates with: its own key (``key_file``), enrolling for one
    first when it has only its site's enrollment secret; else the site token."""
    from yte_compliance.core.protocol import ENROLL_PATH

    key_file, secret_file = cfg.key_file, cfg.enrollment_secret_file
    if key_file is not None and key_file.exists():
        return read_token(key_file)
    if secret_file is None or key_file is None:
        if cfg.token_file is None:
            raise SendError("no token_file, key_file or enrollment_secret_file", retry=False)
        return read_token(cfg.token_file)
    key_file.parent.mkdir(parents=True, exist_ok=True)  # before the key exists to lose
    answer = call_collector(cfg.collector_url, read_token(secret_file), "POST", ENROLL_PATH,
                            {"host_id": host_id, "hostname": hostname},
                            ca_file=str(cfg.ca_file) if cfg.ca_file else None,
                            timeout=cfg.timeout_seconds)
    key = str(answer.get("host_key", ""))
    if not key:
        raise SendError("the collector's enrollment answer has no host_key", retry=True)
    tmp = key_file.with_name(key_file.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, key_file)
    try:
        secret_file.unlink()  # enrolled: the secret is of no more use here
    except OSError:
        pass
    return key
