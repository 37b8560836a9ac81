"""What agent and collector agree on besides the report schema: paths and sizes."""

from __future__ import annotations

REPORTS_PATH = "/api/v1/reports"
ENROLL_PATH = "/api/v1/enroll"  # a site's enrollment secret for a PC's own key
IPV6_LARGE_PATH = "/api/v1/ipv6/large"
# The IPv6 path-MTU check: more than IPv6's 1,280-byte minimum MTU, so a broken path MTU
# (packet-too-big dropped) loses the answer while small packets still pass.
IPV6_LARGE_BYTES = 4000
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # Prometheus text format
# Where readers go: the web pages and the runbooks alerts link to, under the collector's
# public_url (collector config). The shipped rules and dashboards are generated with the
# example config's URL; `yte exporters rules|dashboards --config` writes a province's own.
UI_PATH = "/ui"
RUNBOOKS_PATH = "/runbooks"
EXAMPLE_PUBLIC_URL = "https://yte.soyte.lamdong.example.vn:8746"
