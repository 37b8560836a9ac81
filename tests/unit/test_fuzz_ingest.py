"""Hostile reports against the running collector: never a 5xx, never a partial report."""

import copy
import json
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fleet import make_report
from yte_compliance.core.report import ReportError, parse_report

BASE = make_report("tyt-xa-a", "h-fuzz", collected_at=time.time() - 60)

json_scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
                | st.floats() | st.text(max_size=40) | st.just("x" * 600))
json_values = st.recursive(json_scalars, lambda v: st.lists(v, max_size=5)
                           | st.dictionaries(st.text(max_size=10), v, max_size=5), max_leaves=20)


def paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from paths(v, (*prefix, i))


ALL_PATHS = [p for p in paths(BASE) if p]


@st.composite
def mutated(draw):
    obj = copy.deepcopy(BASE)
    obj["report_id"] = draw(st.uuids()).hex
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(ALL_PATHS))
        target = obj
        try:
            for key in path[:-1]:
                target = target[key]
            if draw(st.booleans()) and isinstance(target, dict):
                target.pop(path[-1], None)
            else:
                target[path[-1]] = draw(json_values)
        except (KeyError, IndexError, TypeError):
            continue
    return obj


@settings(max_examples=250, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.one_of(mutated(), json_values.map(lambda v: {"probes": v}), json_values))
def test_no_5xx_no_partial_store(running, obj):
    bed, app = running
    before = app.state.store.report_count()
    body = json.dumps(obj, allow_nan=True).encode()
    status, _, answer = bed.call("POST", "/api/v1/reports", raw=body,
                             token=bed.tokens["tyt-xa-a"])
    assert status < 500, answer
    after = app.state.store.report_count()
    if status == 201:
        assert after == before + 1
        parse_report(json.loads(body))  # what was stored is a whole, valid report
    elif status == 200:  # the same report again (same id, same content): nothing new
        assert after == before and json.loads(answer)["status"] == "duplicate"
    else:
        assert after == before
        assert 400 <= status < 500 and json.loads(answer)["reason"]
        if status == 400 and isinstance(obj, dict) and "probes" in obj:
            try:
                parse_report(json.loads(body))
            except (ReportError, ValueError):
                pass


def test_deep_nesting_and_huge_bodies(running):
    bed, app = running
    tok = bed.tokens["tyt-xa-a"]
    deep = b"[" * 200_000 + b"]" * 200_000
    status, _, _ = bed.call("POST", "/api/v1/reports", raw=deep[: 1 << 20], token=tok)
    assert status in (400, 413)
    status, _, _ = bed.call("POST", "/api/v1/reports", raw=b'{"a":' * 50_000, token=tok)
    assert status == 400
    assert app.state.store.report_count() == 0
