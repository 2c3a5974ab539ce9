"""Issue 10, item 2: a body pattern can no longer freeze the hook: patterns run in linear time (RE2).

Python's ``re`` backtracks, and holds the GIL while it does: ``.*healthy`` over a 300 KB one-line
body cost seconds per response, ``^(a|a)*$`` forever, and the deadline guard never got to run, so
the function was killed with nothing reported. Now each is a failed assertion, reported in time;
a pattern RE2 cannot run in linear time is refused when the configuration is read.
"""

from __future__ import annotations

import pytest

from tests.adversarial.conftest import Gate
from tests.adversarial.hostile import Exchange, hostile

pytestmark = pytest.mark.integration

MINIFIED = b'{"items":[' + b'{"id":1,"name":"widget","price":9.99},' * 8000 + b'{"id":0}]}'  # ~300 KB, one line


def minified_json(exchange: Exchange) -> bool:
    return exchange.answer(200, MINIFIED, {"Content-Type": "application/json"})


def almost_as(exchange: Exchange) -> bool:
    return exchange.answer(200, b"a" * 40 + b"b")


@pytest.mark.parametrize(
    ("pattern", "behaviour"),
    [(".*healthy", minified_json), ("^(a|a)*$", almost_as)],
    ids=["dot-star-over-300KB", "nested-alternation"],
)
def test_a_costly_pattern_is_a_failed_assertion_reported_in_time(pattern: str, behaviour: object, gate: Gate) -> None:
    assert len(MINIFIED) > 300_000
    with hostile(behaviour) as green:  # type: ignore[arg-type]
        run = gate.run(
            env={
                "TRAFFICGATE_TEST_URL": green.url,
                "TRAFFICGATE_BODY_REGEX": pattern,
                "TRAFFICGATE_PROBE_REQUESTS": "5",
                "TRAFFICGATE_PROBE_DECISION": "fixed",
                "TRAFFICGATE_PROBE_CONCURRENCY": "5",
            },
            timeout_s=10,
        )

    assert not run.result.timed_out, run.output[-2000:]
    assert run.statuses == ["Failed"]  # one report, from the hook, before its timeout
    assert "assertion:body_regex" in run.reason
    assert f"first: body does not match {pattern!r}" in run.reason


def test_a_pattern_re2_cannot_run_is_refused_naming_the_variable(gate: Gate) -> None:
    run = gate.run(env={"TRAFFICGATE_TEST_URL": "http://127.0.0.1:9", "TRAFFICGATE_BODY_REGEX": r"(ok)\1"})
    assert run.statuses == ["Failed"]
    assert run.reason.startswith("trafficgate.config: invalid configuration: TRAFFICGATE_BODY_REGEX='(ok)\\\\1': ")
    assert "no backreferences or lookarounds" in run.reason
