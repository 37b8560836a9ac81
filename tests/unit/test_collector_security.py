"""No one let in: revoked and rotated tokens, reused ids, rate and clock limits, logs."""

import json
import time

from tests.fleet import calling, make_report
from yte_compliance.collector.tokens import new_token

NOW = time.time()


def post(bed, rep, token):
    return bed.call("POST", "/api/v1/reports", rep, token=token)


def test_revoked_token_is_refused_at_once(running):
    bed, app = running
    store = app.state.store
    plain, stored = new_token()
    store.add_token("tyt-xa-a", stored)
    assert post(bed, make_report("tyt-xa-a", "h1", collected_at=NOW), plain)[0] == 201
    assert store.revoke_token(stored.token_id)
    status, _, body = post(bed, make_report("tyt-xa-a", "h1", collected_at=NOW), plain)
    assert status == 401 and json.loads(body)["reason"] == "unauthorized"


def test_rotated_tokens_work_until_their_grace_ends(running):
    bed, app = running
    store = app.state.store
    old = bed.tokens["tyt-xa-a"]
    new_plain, new_stored = new_token()
    store.add_token("tyt-xa-a", new_stored)
    store.expire_site_tokens("tyt-xa-a", time.time() + 3600, keep=new_stored.token_id)
    assert post(bed, make_report("tyt-xa-a", "h1", collected_at=NOW), old)[0] == 201
    store.expire_site_tokens("tyt-xa-a", time.time() - 1, keep=new_stored.token_id)
    assert post(bed, make_report("tyt-xa-a", "h1", collected_at=NOW), old)[0] == 401
    assert post(bed, make_report("tyt-xa-a", "h1", collected_at=NOW), new_plain)[0] == 201


def test_reused_report_id_with_other_content_is_409_and_the_first_stays(running):
    bed, app = running
    tok = bed.tokens["tyt-xa-a"]
    rid = "11111111-2222-4333-8444-555555555555"
    assert post(bed, make_report("tyt-xa-a", "h1", collected_at=NOW, report_id=rid), tok)[0] == 201
    other = make_report("tyt-xa-a", "h1", collected_at=NOW, report_id=rid, firewall=False)
    status, _, body = post(bed, other, tok)
    assert status == 409 and json.loads(body)["field"] == "report_id"
    assert app.state.store.report_count() == 1
    detail = json.loads(bed.call("GET", "/api/v1/sites/tyt-xa-a", token=bed.viewer)[2])
    assert next(c for c in detail["checks"] if c["check"] == "pc.firewall")["status"] == "pass"


def test_report_from_the_future_is_refused_with_the_reason(running):
    bed, _ = running
    status, _, body = post(bed, make_report("tyt-xa-a", "h1", collected_at=NOW + 3600),
                           bed.tokens["tyt-xa-a"])
    answer = json.loads(body)
    assert status == 400 and answer["reason"] == "clock_skew" and "future" in answer["error"]


def test_rate_limit_per_host_with_retry_after(tmp_path):
    from tests.fleet import make_bed

    bed = make_bed(tmp_path / "c", extra="limits:\n  reports_per_host_per_minute: 1\n"
                                         "  burst_per_host: 3\n")
    with calling(bed):
        tok = bed.tokens["tyt-xa-a"]
        codes = [post(bed, make_report("tyt-xa-a", "h1", collected_at=NOW - i), tok)[0]
                 for i in range(4)]
        assert codes == [201, 201, 201, 429]
        status, headers, body = post(bed, make_report("tyt-xa-a", "h1", collected_at=NOW), tok)
        assert status == 429 and int(headers["retry-after"]) >= 1
        assert json.loads(body)["reason"] == "rate_limited"
        assert post(bed, make_report("tyt-xa-a", "h2", collected_at=NOW), tok)[0] == 201


def test_refusals_are_counted_by_reason_and_no_log_line_holds_a_token(running, capfd):
    bed, app = running
    tok_a, tok_b = bed.tokens["tyt-xa-a"], bed.tokens["bv-tinh"]
    post(bed, make_report("tyt-xa-a", "h1", collected_at=NOW), tok_a)  # stored
    post(bed, make_report("tyt-xa-a", "h1", collected_at=NOW), tok_b)  # forbidden
    post(bed, make_report("tyt-xa-a", "h1", collected_at=NOW), tok_a[:-3] + "AAA")  # 401
    bed.call("POST", "/api/v1/reports", raw=b"{nope", token=tok_a)  # invalid
    bed.call("POST", "/api/v1/reports", make_report("tyt-xa-a", "h1", collected_at=NOW),
         headers={"X-Token": tok_a})  # token in the wrong header
    snap = app.state.counters.snapshot()
    assert snap["results"] == {"accepted": 1}
    assert snap["rejected"] == {"forbidden": 1, "unauthorized": 2, "invalid": 1}
    metrics = bed.call("GET", "/metrics", token=bed.viewer)[2].decode()
    assert 'yte_collector_reports_rejected_total{reason="unauthorized"} 2.0' in metrics
    logged = capfd.readouterr().err
    lines = [json.loads(line) for line in logged.splitlines() if line.startswith("{")]
    assert sum(1 for line in lines if line["event"] == "report_refused") == 4
    for secret in (tok_a, tok_b, tok_a.split("_", 2)[2], tok_b.split("_", 2)[2]):
        assert secret not in logged
