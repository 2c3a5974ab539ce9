"""Issue 10, items 6, 10 and 11: whatever green sends is at most a failed request, named and described.

Before: ``charset=undefined`` (or ``idna``) with a body assertion raised UnicodeError, and a
malformed ``Location`` with ``follow_redirects`` raised ValueError: either ended the whole burst
as a check *error*, which ``on_error: pass`` let through. A refused cross-origin redirect counted
as success under ``200-399``. And an assertion failure said only ``assertion:json_path x5``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.adversarial.conftest import Gate, Run
from tests.adversarial.hostile import Exchange, hostile

pytestmark = pytest.mark.integration

LENIENT_PLAN = """\
version: 1
hooks:
  AfterAllowTestTraffic:
    - id: http.test_listener
      requests: 4
      decision: fixed
      concurrency: 1
      on_error: pass            # an error would pass: only a real failure may fail the hook
      {extra}
"""


def charset(name: str) -> Callable[[Exchange], bool]:
    def answer(exchange: Exchange) -> bool:
        return exchange.answer(200, b'{"status": "ok"}', {"Content-Type": f"application/json; charset={name}"})

    return answer


def bad_location(exchange: Exchange) -> bool:
    return exchange.answer(302, b"", {"Location": "http://[::1"})


def run_plan(gate: Gate, tmp_path: Path, behaviour: Callable[[Exchange], bool], extra: str) -> Run:
    plan = tmp_path / "plan.yaml"
    plan.write_text(LENIENT_PLAN.format(extra=extra))
    with hostile(behaviour) as green:
        return gate.run(env={"TRAFFICGATE_TEST_URL": green.url, "TRAFFICGATE_PLAN_FILE": str(plan)})


@pytest.mark.parametrize("name", ["undefined", "idna", "no-such-codec", "utf-7"])
def test_a_charset_that_cannot_decode_is_a_failed_assertion_not_an_error(name: str, gate: Gate, tmp_path: Path) -> None:
    run = run_plan(gate, tmp_path, charset(name), "body_regex: healthy")
    check = run.check("http.test_listener")
    assert check["outcome"] == "fail"
    assert check["details"]["error_counts"] == {"assertion:body_regex": 1}
    assert run.statuses == ["Failed"]


def test_a_malformed_location_is_a_blocked_redirect_not_an_error(gate: Gate, tmp_path: Path) -> None:
    run = run_plan(gate, tmp_path, bad_location, "follow_redirects: true")
    check = run.check("http.test_listener")
    assert check["outcome"] == "fail"
    assert check["details"]["error_counts"] == {"redirect_blocked": 1}
    assert run.statuses == ["Failed"]


def test_a_refused_cross_origin_redirect_is_a_failure_when_following_was_asked(gate: Gate, tmp_path: Path) -> None:
    with hostile(lambda e: e.answer(200, b"elsewhere")) as other:

        def to_other(exchange: Exchange) -> bool:
            return exchange.answer(302, b"", {"Location": f"{other.url}/landing"})

        run = run_plan(gate, tmp_path, to_other, "follow_redirects: true")
        reached = len(other.requests)
    check = run.check("http.test_listener")
    assert check["details"]["error_counts"] == {"redirect_blocked": 1}
    assert "first: status 302 redirects to another origin (not followed)" in run.reason
    assert reached == 0
    assert run.statuses == ["Failed"]


def test_an_assertion_failure_says_what_was_seen_and_what_was_expected(gate: Gate, tmp_path: Path) -> None:
    def slideshow(exchange: Exchange) -> bool:
        body = b'{"slideshow": {"author": "Yours Truly", "title": "Sample"}}'
        return exchange.answer(200, body, {"Content-Type": "application/json"})

    run = run_plan(gate, tmp_path, slideshow, "json_equals: {slideshow.author: Someone Else}")
    assert run.statuses == ["Failed"]
    assert run.reason.endswith(
        "(0/1 ok; assertion:json_path x1); first: slideshow.author is 'Yours Truly', expected 'Someone Else'; "
        "stopped early"
    )
