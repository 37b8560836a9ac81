"""Alert and recording rules: promtool on the shipped files, promtool unit tests for every
alert, generated rules in sync with targets.yaml, runbooks present."""

import dataclasses
import re
import subprocess

import yaml

from tests.conftest import need_binary
from tests.fleet import ROOT
from yte_compliance.checks.targets import load_targets
from yte_compliance.exporters.rules import render_rules

RULES = ROOT / "configs/prometheus/rules"
TARGETS = ROOT / "configs/targets.yaml"
# The series step is also the evaluation interval (no gaps beyond the 5 m lookback): one
# minute for short `for:` windows, one hour for those of a day or more (a week at one
# minute is 10,080 evaluations of every rule; at one hour, 168).
SHORT_STEP, LONG_STEP = 1, 60
INFO = {"site": "s1", "name": "Trạm Y tế xã A", "province": "Lâm Đồng",
        "district": "Đức Trọng", "site_type": "commune_station"}


def _minutes(duration: str) -> int:
    n, unit = int(duration[:-1]), duration[-1]
    return n * {"s": 1 / 60, "m": 1, "h": 60, "d": 1440}[unit]


def _labels(d: dict) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in d.items()) + "}"


_WITH = re.compile(r"\{\{ with query .*?\{\{ end \}\}")


def _annotations(rule: dict, figure: str = "", value: str = "", **values: str) -> dict:
    """The annotations as Prometheus renders them: labels filled in, the site's current
    figure (the `with query` block) as ``figure``, the alert's value as ``value``."""
    out = {}
    for key, text in rule["annotations"].items():
        for name, label in values.items():
            text = text.replace(f"{{{{ $labels.{name} }}}}", label)
        text = re.sub(r"\{\{ \$value \| \w+ \}\}", value, text)
        out[key] = _WITH.sub(figure, text)
    return out


def _window(rule: dict) -> str:
    """How long the condition must hold: the window a long alert's expression reads
    (restart-proof), else its `for:`."""
    found = re.search(r"max_over_time\(\S+\[(\d+[smhd])\]\)", rule["expr"])
    return found.group(1) if found else rule["for"]


def _step(rule: dict) -> int:
    return LONG_STEP if _minutes(_window(rule)) >= 1440 else SHORT_STEP


def _scenario(series: list[tuple[str, str]], rule: dict, labels: dict, delay: int = 0,
              figure: str = "", value: str = "", **template) -> dict:
    """The condition holds from step 1 (+ ``delay`` steps) for (for + 2 steps), then
    clears: silent one step before `for`, firing one step after, silent after recovery."""
    step = _step(rule)
    wait = int(_minutes(_window(rule)))
    assert wait % step == 0, f"{rule['alert']}: {_window(rule)} is not a whole number of steps"
    fail_steps = wait // step + 2 + delay
    start = step * (1 + delay)
    return {
        "interval": f"{step}m",
        # "vxN" is N+1 values, but "_xN" is N missing samples
        "input_series": [{"series": s, "values": v.format(fail=fail_steps - 1, gap=fail_steps + 1,
                                                          long=fail_steps + 400)}
                         for s, v in series],
        "alert_rule_test": [
            {"eval_time": f"{start + wait - step}m", "alertname": rule["alert"],
             "exp_alerts": []},
            {"eval_time": f"{start + wait + step}m", "alertname": rule["alert"],
             "exp_alerts": [{"exp_labels": labels,
                             "exp_annotations": _annotations(rule, figure, value,
                                                             **template)}]},
            {"eval_time": f"{start + (fail_steps + 7) * step}m", "alertname": rule["alert"],
             "exp_alerts": []},
        ],
    }


def promtool_tests(rules: list[dict]) -> list[dict]:
    info = (f"yte_site_info{_labels(INFO)}", "1x{long}")
    tests = []
    for rule in rules:
        name = rule["alert"]
        base = {"severity": rule["labels"]["severity"], "scope": rule["labels"]["scope"], **INFO}
        if name == "YteSiteCheckFailing":
            check = rule["labels"]["check"]
            # the site's figure now, which the description reads: 40 % of the hosts, or
            # 40 M for a site's own value (humanize)
            figure_metric = ("yte_site_check_ratio" if "humanizePercentage"
                             in rule["annotations"]["description"] else "yte_site_check_value")
            figure = "40%" if figure_metric == "yte_site_check_ratio" else "40M"
            value = "0.4" if figure == "40%" else "40000000"
            series = [info, (f'yte_site_check_pass{{site="s1",check="{check}"}}',
                             "1 0x{fail} 1x200"),
                      (f'{figure_metric}{{site="s1",check="{check}"}}', f"{value}x{{long}}")]
            tests.append(_scenario(series, rule, {**base, "check": check}, figure=figure,
                                   name=INFO["name"]))
        elif name.startswith("YteHost"):
            metric = {"YteHostStale": ("yte_host_stale", "0 1x{fail} 0x200"),
                      "YteHostAntivirusOff": ("yte_host_antivirus_running", "1 0x{fail} 1x200"),
                      "YteHostFirewallOff": ("yte_host_firewall_enabled", "1 0x{fail} 1x200")}[name]
            series = [info, (f'{metric[0]}{{site="s1",host="h1"}}', metric[1]),
                      ('yte_host_info{site="s1",host="h1",hostname="TYT-PC01"}', "1x{long}")]
            labels = {**base, "host": "h1", "hostname": "TYT-PC01"}
            if "check" in rule["labels"]:
                labels["check"] = rule["labels"]["check"]
                # the description: the site's share of PCs passing this check now
                series.append((f'yte_site_check_ratio{{site="s1",check="{labels["check"]}"}}',
                               "0.4x{long}"))
                figure = "40%"
            else:  # YteHostStale: the site's stale PCs now
                series.append(('yte_site_hosts{site="s1",state="stale"}', "2x{long}"))
                figure = "2"
            tests.append(_scenario(series, rule, labels, figure=figure, name=INFO["name"],
                                   hostname="TYT-PC01", site="s1", host="h1"))
        elif name == "YteSiteHostLimit":
            # one refusal at minute 1: increase over the hour > 0 until minute 61
            series = [info, ('yte_collector_new_hosts_refused_total{site="s1"}', "0 1x{long}"),
                      ('yte_site_hosts{site="s1",state="fresh"}', "3x{long}")]
            scenario = _scenario(series, rule, {**base}, figure="3", value="1",
                                 name=INFO["name"])
            scenario["alert_rule_test"][2]["eval_time"] = "75m"
            tests.append(scenario)
        elif name == "YteSiteEnrollments":
            # one PC enrolled at minute 1 (a stolen secret would show as many)
            series = [info, ('yte_collector_enrollments_total{site="s1"}', "0 1x{long}"),
                      ('yte_site_hosts{site="s1",state="fresh"}', "3x{long}")]
            scenario = _scenario(series, rule, {**base}, figure="3", value="1",
                                 name=INFO["name"])
            scenario["alert_rule_test"][2]["eval_time"] = f"{24 * 60 + 15}m"
            tests.append(scenario)
        elif name in ("YteWaiverExpired", "YteWaiverExpiringSoon"):
            # renewed far ahead, then the expiry is past (or 10 days ahead), then renewed
            soon = {"YteWaiverExpired": "0", "YteWaiverExpiringSoon": str(10 * 86400)}[name]
            labels = {"site": "s1", "check": "site.bandwidth", "host": "pc-1"}
            series = [info, (f"yte_site_waiver_expiry_timestamp_seconds{_labels(labels)}",
                             f"1e12 {soon}x{{fail}} 1e12x200")]
            when = {"YteWaiverExpired": "1970-01-01 00:00:00 +0000 UTC",
                    "YteWaiverExpiringSoon": "1970-01-11 00:00:00 +0000 UTC"}[name]
            tests.append(_scenario(series, rule, {**base, **labels}, value=when,
                                   name=INFO["name"], check="site.bandwidth", host="pc-1"))
        elif name == "YteCollectorDown":
            series = [('up{job="yte",instance="collector:8746"}', "1 0x{fail} 1x200")]
            tests.append(_scenario(series, rule, {"severity": "critical", "scope": "collector",
                                                  "job": "yte", "instance": "collector:8746"},
                                   instance="collector:8746"))
        elif name == "YteCollectorNotScraped":
            series = [('up{job="yte",instance="collector:8746"}', "1 _x{gap} 1x200")]
            # absent() holds only once the last sample leaves the 5 m lookback
            tests.append(_scenario(series, rule, {"severity": "critical", "scope": "collector",
                                                  "job": "yte"}, delay=5))
        else:
            raise AssertionError(f"no promtool scenario for alert {name}: add one")
    return tests


def test_shipped_files_pass_promtool_and_amtool():
    promtool, amtool = need_binary("promtool"), need_binary("amtool")
    # --syntax-only: the files it names (the viewer token, the CA) live on the server
    for args in (["check", "config", "--syntax-only",
                  str(ROOT / "configs/prometheus/prometheus.yml")],
                 ["check", "rules", *map(str, sorted(RULES.glob("*.yml")))]):
        done = subprocess.run([promtool, *args], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
    done = subprocess.run([amtool, "check-config", str(ROOT / "configs/alertmanager/alertmanager.yml")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_promtool_unit_tests_cover_every_alert(tmp_path):
    promtool = need_binary("promtool")
    rules = yaml.safe_load((RULES / "yte-alerts.yml").read_text())["groups"][0]["rules"]
    tests = promtool_tests(rules)
    assert len(tests) == len(rules)  # every alert rule has its scenario
    files = []
    for step in (SHORT_STEP, LONG_STEP):  # the evaluation interval is per file
        chosen = [t for t in tests if t["interval"] == f"{step}m"]
        assert chosen, f"no scenario at a {step} m step"
        files.append(tmp_path / f"alerts_{step}m_test.yml")
        files[-1].write_text(yaml.safe_dump({
            "rule_files": [str(RULES / "yte-alerts.yml"), str(RULES / "yte-recording.yml")],
            "evaluation_interval": f"{step}m", "tests": chosen},
            allow_unicode=True, sort_keys=False))
    done = subprocess.run([promtool, "test", "rules", *map(str, files)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert done.stdout.count("SUCCESS") == len(files), done.stdout


def test_generated_rules_and_dashboards_are_in_sync():
    targets = load_targets([TARGETS])
    for name, content in render_rules(targets.values()).items():
        assert (RULES / name).read_text() == content, f"regenerate: yte exporters rules ({name})"
    from yte_compliance.exporters.grafana import render_dashboards

    for name, content in render_dashboards().items():
        on_disk = (ROOT / "configs/grafana/dashboards" / name).read_text()
        assert on_disk == content, f"regenerate: yte exporters dashboards ({name})"


def test_changing_a_threshold_changes_the_alert_rule():
    targets = load_targets([TARGETS])
    before = render_rules(targets.values())["yte-alerts.yml"]
    targets["pc.ram_ssd"] = dataclasses.replace(targets["pc.ram_ssd"], required_ratio=0.7,
                                                alert_for="3d")
    budget = targets["unit.security_budget"]
    clause = dataclasses.replace(budget.all_of[0], value=0.15)
    targets["unit.security_budget"] = dataclasses.replace(budget, all_of=(clause,))
    after = render_rules(targets.values())["yte-alerts.yml"]
    assert before != after
    assert "≥ 70 % số máy" in after and "≥ 50 % số máy" not in after
    # three days: a window the expression reads (restart-proof), not a `for:` timer
    assert "≥ 15 %" in after and "[3d]) == 0" in after and "offset 3d" in after


def test_every_runbook_link_is_absolute_and_served_by_the_collector(running):
    """One setting: every runbook URL is under the collector's public_url (the shipped
    rules: the example config's), and the collector serves each page with its anchor."""
    from yte_compliance.collector.config import load_collector_config
    from yte_compliance.core.protocol import EXAMPLE_PUBLIC_URL

    bed, _ = running
    example = load_collector_config(ROOT / "configs/collector.example.yaml")
    assert example.public_url == EXAMPLE_PUBLIC_URL
    rules = yaml.safe_load((RULES / "yte-alerts.yml").read_text())["groups"][0]["rules"]
    for rule in rules:
        url = rule["annotations"]["runbook_url"]
        assert url.startswith(EXAMPLE_PUBLIC_URL + "/runbooks/"), url
        path, _, anchor = url[len(EXAMPLE_PUBLIC_URL):].partition("#")
        status, headers, body = bed.call("GET", path)
        assert status == 200 and headers["content-type"].startswith("text/html"), url
        if anchor:
            assert f'<a id="{anchor}"></a>' in body.decode(), url
    # a province's own URL, from its collector config: one setting for every link
    own = render_rules(load_targets([TARGETS]).values(), "https://yte.soyte.example.vn")
    assert own["yte-alerts.yml"].count("https://yte.soyte.example.vn/runbooks/") == len(rules)


def test_critical_reaches_every_channel_and_info_only_e_mail():
    """Before: Lâm Đồng's critical alerts reached only Telegram (no continue), so e-mail and
    the ticket webhook missed them."""
    amtool = need_binary("amtool")
    config = ROOT / "configs/alertmanager/alertmanager.yml"

    def receivers(*labels: str) -> str:
        done = subprocess.run([amtool, "config", "routes", "test", f"--config.file={config}",
                               *labels], capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout.strip()

    assert receivers('province=Lâm Đồng', "severity=critical") == "lam-dong-truc,lam-dong-cntt"
    assert receivers('province=Lâm Đồng', "severity=info") == "lam-dong-cntt"


def test_host_alerts_are_held_back_while_their_site_fails_the_same_check():
    """One message per cause: the host alerts carry the check, and Alertmanager inhibits
    them by site and check while YteSiteCheckFailing fires."""
    config = yaml.safe_load((ROOT / "configs/alertmanager/alertmanager.yml").read_text())
    rule = next(r for r in config["inhibit_rules"]
                if r["source_matchers"] == ['alertname="YteSiteCheckFailing"'])
    assert rule["target_matchers"] == ['scope="host"'] and rule["equal"] == ["site", "check"]
    alerts = yaml.safe_load((RULES / "yte-alerts.yml").read_text())["groups"][0]["rules"]
    labels = {r["alert"]: r["labels"] for r in alerts}
    assert labels["YteHostAntivirusOff"]["check"] == "pc.antivirus"
    assert labels["YteHostFirewallOff"]["check"] == "pc.firewall"
    assert all("hostname" in r["annotations"]["summary"] for r in alerts
               if r["alert"].startswith("YteHost"))


VIETNAMESE = set("ăâđêôơưáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ")


def test_runbooks_say_it_in_vietnamese_first():
    """Every runbook, and every section of one, opens in Vietnamese; English follows."""
    folder = ROOT / "exporters/runbooks"
    assert sorted(p.stem for p in folder.glob("*.md")) == sorted(
        {r["alert"] for r in yaml.safe_load((RULES / "yte-alerts.yml").read_text())
         ["groups"][0]["rules"]})
    for page in folder.glob("*.md"):
        for section in re.split(r"^#+ .*$", page.read_text(encoding="utf-8"), flags=re.M)[1:]:
            first = next(line for line in section.splitlines()
                         if line.strip() and not line.startswith("<a id"))
            assert VIETNAMESE & set(first.lower()), f"{page.name}: {first!r}"


def test_every_alert_describes_what_it_sees():
    rules = yaml.safe_load((RULES / "yte-alerts.yml").read_text())["groups"][0]["rules"]
    for rule in rules:
        assert rule["annotations"].get("description"), rule["alert"]


def test_a_week_long_alert_survives_a_staleness_marker_and_a_restart(tmp_path):
    """site.wifi failing for eight days: once with a staleness marker on day 3, once with
    the collector down for a scrape (a restart). The shipped rule fires after its week;
    the same alert as a plain `for: 7d` timer (the rule before) restarts at the gap and
    is still silent on day 8."""
    promtool = need_binary("promtool")
    rules = yaml.safe_load((RULES / "yte-alerts.yml").read_text())["groups"][0]["rules"]
    wifi = next(r for r in rules if r["labels"].get("check") == "site.wifi")
    assert "[7d]" in wifi["expr"] and wifi["for"] == "10m"
    timer = dict(wifi, alert="YteTimerBefore",
                 expr='(yte_site_check_pass{check="site.wifi"} == 0) * on (site) '
                      'group_left (name) yte_site_info', **{"for": "7d"})
    before = tmp_path / "before.yml"
    before.write_text(yaml.safe_dump({"groups": [{"name": "before", "rules": [timer]}]},
                                     allow_unicode=True))
    sites = {"s1": "0x70 stale 0x130", "s2": "0x70 _ 0x130"}  # hourly samples
    series = [{"series": f'yte_site_info{{site="{s}",name="{s}",province="P",district="D",'
                         f'site_type="commune_station"}}', "values": "1x210"} for s in sites]
    series += [{"series": f'yte_site_check_pass{{site="{s}",check="site.wifi"}}',
                "values": f"1 {v}"} for s, v in sites.items()]
    labels = [{**{k: v for k, v in wifi["labels"].items()}, "site": s, "name": s,
               "province": "P", "district": "D", "site_type": "commune_station"}
              for s in sites]
    test = {"rule_files": [str(RULES / "yte-alerts.yml"), str(before)],
            "evaluation_interval": "1h",
            "tests": [{"interval": "1h", "input_series": series, "alert_rule_test": [
                {"eval_time": "192h", "alertname": "YteSiteCheckFailing",
                 "exp_alerts": [{"exp_labels": lab, "exp_annotations": _annotations(
                     wifi, "chưa rõ / unknown", name=lab["site"])} for lab in labels]},
                {"eval_time": "192h", "alertname": "YteTimerBefore", "exp_alerts": []}]}]}
    path = tmp_path / "gap_test.yml"
    path.write_text(yaml.safe_dump(test, allow_unicode=True, sort_keys=False))
    done = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
