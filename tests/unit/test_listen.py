"""`listen:` as agents need it: '[::]:PORT' answers IPv4 and IPv6 agents on one socket
(before: only IPv6, asyncio turns IPV6_V6ONLY on), and a list of addresses works."""

import socket

import pytest

from tests.fleet import free_port, http, make_bed, serving
from yte_compliance.collector.config import load_collector_config
from yte_compliance.core.yamlconf import ConfigError


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


pytestmark = pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback here")


def _with_listen(bed, listen: str) -> None:
    text = bed.config.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.startswith("listen:")]
    bed.config.write_text(f"listen: {listen}\n" + "\n".join(lines) + "\n", encoding="utf-8")


def test_unspecified_ipv6_is_dual_stack(tmp_path):
    bed = make_bed(tmp_path / "c")
    port = free_port()
    _with_listen(bed, f"'[::]:{port}'")
    with serving(bed.config):
        for url in (f"http://127.0.0.1:{port}/healthz", f"http://[::1]:{port}/healthz"):
            assert http("GET", url)[0] == 200, url


def test_a_list_of_addresses(tmp_path):
    bed = make_bed(tmp_path / "c")
    v4, v6 = free_port(), free_port()
    _with_listen(bed, f"['127.0.0.1:{v4}', '[::1]:{v6}']")
    assert load_collector_config(bed.config).listen == (("127.0.0.1", v4), ("::1", v6))
    with serving(bed.config):
        assert http("GET", f"http://127.0.0.1:{v4}/healthz")[0] == 200
        assert http("GET", f"http://[::1]:{v6}/healthz")[0] == 200


def test_a_bad_address_names_the_key(tmp_path):
    bed = make_bed(tmp_path / "c")
    _with_listen(bed, "['127.0.0.1:8746', 'localhost']")
    with pytest.raises(ConfigError, match="listen: HOST:PORT"):
        load_collector_config(bed.config)
