"""Prometheus recording and alert rules, generated from the targets file so that a
threshold, a severity or a delay lives in one place. `yte exporters rules` writes them."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import yaml

from yte_compliance.checks.targets import Target
from yte_compliance.core.protocol import EXAMPLE_PUBLIC_URL, RUNBOOKS_PATH, UI_PATH

INFO_LABELS = "province, district, site_type, name"
JOIN = f"* on (site) group_left ({INFO_LABELS}) yte_site_info"

# level:metric:operation. site_check:* and province*:* are what a central Prometheus
# federates; per-host series stay in the province.
RECORDING = [
    ("site_check:yte_site_check_pass:info", f"yte_site_check_pass {JOIN}"),
    ("site_check:yte_site_check_unknown:info", f"yte_site_check_unknown {JOIN}"),
    ("site_check:yte_site_check_waived:info", f"yte_site_check_waived {JOIN}"),
    ("site_check:yte_site_check_ratio:info", f"yte_site_check_ratio {JOIN}"),
    ("site_check:yte_site_check_value:info", f"yte_site_check_value {JOIN}"),
    ("site:yte_site_hosts:info", f"yte_site_hosts {JOIN}"),
    ("province_check:yte_site_check_pass:ratio",
     "avg by (province, check) (site_check:yte_site_check_pass:info)"),
    ("province_site_type_check:yte_site_check_pass:ratio",
     "avg by (province, site_type, check) (site_check:yte_site_check_pass:info)"),
    ("province_check:yte_site_check_unknown:sum",
     "sum by (province, check) (site_check:yte_site_check_unknown:info)"),
    ("province:yte_site_hosts:sum", "sum by (province, state) (site:yte_site_hosts:info)"),
]


def _threshold(t: Target) -> tuple[str, str]:
    """The target in words (vi, en) for the alert text: the number lives in targets.yaml."""
    vi, en = _general_threshold(t)
    if t.by_site_type:
        types = ", ".join(site_type for site_type, _ in t.by_site_type)
        vi, en = f"{vi} (riêng cho {types}: xem targets.yaml)", f"{en} (own rule for {types})"
    return vi, en


def _general_threshold(t: Target) -> tuple[str, str]:
    if t.scope == "host":
        pct = f"{t.required_ratio * 100:g} %"
        return f"≥ {pct} số máy", f"≥ {pct} of the site's PCs"
    clause = t.all_of[0]
    ops = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<", "eq": "=", "ne": "≠"}
    if isinstance(clause.value, bool):
        return "có (khai báo)", "yes (declared)"
    op = ops.get(clause.op, clause.op)
    if clause.fact.endswith("_ratio"):
        value = f"{clause.value * 100:g} %"
    elif clause.fact.endswith("_bps"):
        value = f"{clause.value / 1e6:g} Mbps"  # 80000000 → 80 Mbps
    else:
        value = f"{clause.value:g}" if isinstance(clause.value, float) else f"{clause.value}"
    return f"{op} {value}", f"{op} {value}"


# The site's figure now, read by the alert's own template (Prometheus `query`): the share
# of hosts passing for a host-scope check, the site's value for a site-scope one.
_FIGURE = {
    "host": ('{{ with query (printf "yte_site_check_ratio{site=\'%s\',check=\'%s\'}" '
             '$labels.site $labels.check) }}{{ . | first | value | humanizePercentage }}'
             '{{ else }}chưa rõ / unknown{{ end }}'),
    "site": ('{{ with query (printf "yte_site_check_value{site=\'%s\',check=\'%s\'}" '
             '$labels.site $labels.check) }}{{ . | first | value | humanize }}'
             '{{ else }}chưa rõ / unknown{{ end }}'),
}


def _anchor(check: str) -> str:
    return check.replace(".", "-").replace("_", "-")


# From a day up, an alert's `for:` is a window the expression reads, not a timer: a
# timer restarts at one missed scrape or a collector restart, a window does not.
LONG_FOR = 86400
CONFIRM = "10m"


def seconds_of(duration: str) -> int:
    return int(duration[:-1]) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[duration[-1]]


def failing_expr(check: str, duration: str) -> str:
    """The site fails ``check`` now; for a long ``duration``: it has failed at every
    sample over the whole window (a gap, a staleness marker or a restart in it does not
    matter), and the series was there at the window's start (a site that only began to
    report is not judged on a week it was not there)."""
    series = f'yte_site_check_pass{{check="{check}"}}'
    if seconds_of(duration) < LONG_FOR:
        return f"({series} == 0) {JOIN}"
    return (f"(max_over_time({series}[{duration}]) == 0 and on (site, check) "
            f"last_over_time({series}[1h] offset {duration})) {JOIN}")


def check_alert(t: Target, public_url: str) -> dict:
    vi, en = _threshold(t)
    long_window = seconds_of(t.alert_for) >= LONG_FOR
    return {
        "alert": "YteSiteCheckFailing",
        "expr": failing_expr(t.id, t.alert_for),
        "for": CONFIRM if long_window else t.alert_for,
        "labels": {"severity": t.alert_severity, "scope": "site", "check": t.id},
        "annotations": {
            "summary": f"{{{{ $labels.name }}}}: CHƯA ĐẠT — {t.title_vi} / not met — {t.title_en}",
            "description": f"Hiện tại / now: {_FIGURE[t.scope]}. Chỉ tiêu / target {t.id}: "
                           f"{vi} / {en}. Nguồn / source: {t.source}",
            "runbook_url": f"{public_url}{RUNBOOKS_PATH}/YteSiteCheckFailing#{_anchor(t.id)}",
        },
    }


def _fixed_alert(name: str, expr: str, duration: str, severity: str, vi: str, en: str,
                 public_url: str, scope: str, description: str) -> dict:
    return {"alert": name, "expr": expr, "for": duration,
            "labels": {"severity": severity, "scope": scope},
            "annotations": {"summary": f"{vi} / {en}", "description": description,
                            "runbook_url": f"{public_url}{RUNBOOKS_PATH}/{name}"}}


def _query(promql: str, args: str, render: str) -> str:
    """The figure now, read by the alert's own template; 'chưa rõ' when absent."""
    return (f'{{{{ with query (printf "{promql}" {args}) }}}}{{{{ . | first | value | {render} }}}}'
            '{{ else }}chưa rõ / unknown{{ end }}')


SITE_HOSTS = "yte_site_hosts{site='%s',state='%s'}"


# a PC is named by its hostname, not its opaque id
HOST_JOIN = "* on (site, host) group_left (hostname) yte_host_info"


def _host_check_alert(name: str, metric: str, check: str, vi: str, en: str,
                      public_url: str) -> dict:
    """A PC failing a check; labelled with the check so that Alertmanager holds it back
    while the site's own alert for that check fires (configs/alertmanager: one message
    per cause, the site's, which carries the verdict). The description gives the site's
    share now and the PC's to-do page."""
    share = _query("yte_site_check_ratio{site='%s',check='%s'}", f'$labels.site "{check}"',
                   "humanizePercentage")
    description = (f"Cơ sở hiện đạt / the site now: {share} số máy / of its PCs. Việc cần làm "
                   f"/ to do: {public_url}{UI_PATH}/site/{{{{ $labels.site }}}}/pc/"
                   "{{ $labels.host }}")
    rule = _fixed_alert(name, f"({metric} == 0) {HOST_JOIN} {JOIN}", "2h", "critical", vi, en,
                        public_url, "host", description)
    rule["labels"]["check"] = check
    return rule


def alert_rules(targets: Iterable[Target], public_url: str = EXAMPLE_PUBLIC_URL,
                collector_job: str = "yte") -> list[dict]:
    rules = [check_alert(t, public_url) for t in sorted(targets, key=lambda t: t.id)
             if t.enabled]
    host = "{{ $labels.name }} — {{ $labels.hostname }}"
    rules += [
        _fixed_alert("YteHostStale", f"(yte_host_stale == 1) {HOST_JOIN} {JOIN}", "1h", "warning",
                     f"{host}: máy không báo cáo", f"{host}: host stopped reporting",
                     public_url, "host",
                     "Máy đã ra khỏi số đếm của cơ sở / the PC left its site's counts. "
                     "Máy quá hạn của cơ sở hiện nay / stale PCs at the site now: "
                     + _query(SITE_HOSTS, '$labels.site "stale"', "humanize")),
        _host_check_alert("YteHostAntivirusOff", "yte_host_antivirus_running", "pc.antivirus",
                          f"{host}: không có phần mềm diệt virus đang chạy",
                          f"{host}: no antivirus running", public_url),
        _host_check_alert("YteHostFirewallOff", "yte_host_firewall_enabled", "pc.firewall",
                          f"{host}: tường lửa tắt", f"{host}: host firewall off", public_url),
        _fixed_alert("YteSiteHostLimit",
                     f"(increase(yte_collector_new_hosts_refused_total[1h]) > 0) {JOIN}", "5m",
                     "warning", "{{ $labels.name }}: máy mới bị từ chối, cơ sở đã đủ số máy",
                     "{{ $labels.name }}: new PCs refused, the site is at its host limit",
                     public_url, "site",
                     "Máy đang báo cáo / PCs reporting now: "
                     + _query(SITE_HOSTS, '$labels.site "fresh"', "humanize")
                     + "; báo cáo từ máy mới bị từ chối trong 1 giờ / new-PC reports refused "
                       "in the last hour: {{ $value | humanize }}"),
        _fixed_alert("YteSiteEnrollments",
                     f"(increase(yte_collector_enrollments_total[1d]) > 0) {JOIN}", "5m",
                     "info", "{{ $labels.name }}: có máy mới đăng ký",
                     "{{ $labels.name }}: new PCs enrolled", public_url, "site",
                     "Máy mới đăng ký trong 24 giờ / PCs enrolled in the last day: "
                     "{{ $value | humanize }}; máy đang báo cáo / PCs reporting now: "
                     + _query(SITE_HOSTS, '$labels.site "fresh"', "humanize")),
        _fixed_alert("YteWaiverExpired",
                     f"(yte_site_waiver_expiry_timestamp_seconds < time()) {JOIN}", "10m",
                     "warning", "{{ $labels.name }}: miễn trừ {{ $labels.check }} "
                     "{{ $labels.host }} đã hết hạn, chỉ tiêu được đánh giá lại",
                     "{{ $labels.name }}: the waiver for {{ $labels.check }} {{ $labels.host }} "
                     "expired; the target is judged again", public_url, "site",
                     "Hết hạn / expired on {{ $value | humanizeTimestamp }}"),
        _fixed_alert("YteWaiverExpiringSoon",
                     "(yte_site_waiver_expiry_timestamp_seconds > time() and "
                     f"yte_site_waiver_expiry_timestamp_seconds < time() + 30 * 86400) {JOIN}",
                     "1h", "info", "{{ $labels.name }}: miễn trừ {{ $labels.check }} "
                     "{{ $labels.host }} hết hạn trong 30 ngày",
                     "{{ $labels.name }}: the waiver for {{ $labels.check }} {{ $labels.host }} "
                     "ends within 30 days", public_url, "site",
                     "Hết hạn / expires on {{ $value | humanizeTimestamp }}"),
        _fixed_alert("YteCollectorDown", f'up{{job="{collector_job}"}} == 0', "5m", "critical",
                     "Máy thu thập không trả lời", "the collector does not answer scrapes",
                     public_url, "collector",
                     "{{ $labels.instance }} không trả lời Prometheus; cảnh báo cơ sở và máy "
                     "được giữ lại, tác tử giữ báo cáo chờ gửi / does not answer; site and host "
                     "alerts are held back, agents keep their reports until it is back"),
        _fixed_alert("YteCollectorNotScraped", f'absent(up{{job="{collector_job}"}})', "10m",
                     "critical", "Prometheus không thu thập từ máy thu thập",
                     "Prometheus is not scraping the collector", public_url, "collector",
                     'Không có chuỗi up{job="yte"}: kiểm tra prometheus.yml / no up{job="yte"} '
                     "series: check the scrape job in prometheus.yml"),
    ]
    return rules


def render_rules(targets: Iterable[Target], public_url: str = EXAMPLE_PUBLIC_URL,
                 for_override: str | None = None) -> dict[str, str]:
    """File name → content for configs/prometheus/rules/."""
    header = ("# Generated by `yte exporters rules` from configs/targets.yaml: edit the "
              "targets, then regenerate.\n")
    alerts = alert_rules(targets, public_url)
    if for_override is not None:  # tests only: fire at once
        for rule in alerts:
            rule["for"] = for_override
    recording = {"groups": [{"name": "yte-recording", "rules": [
        {"record": name, "expr": expr} for name, expr in RECORDING]}]}
    alerting = {"groups": [{"name": "yte-alerts", "rules": alerts}]}
    dump = {"width": 200, "sort_keys": False, "allow_unicode": True}
    return {"yte-recording.yml": header + yaml.safe_dump(recording, **dump),
            "yte-alerts.yml": header + yaml.safe_dump(alerting, **dump)}


def write_rules(folder: Path, files: dict[str, str]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, content in files.items():
        (folder / name).write_text(content, encoding="utf-8")
        out.append(folder / name)
    return out
