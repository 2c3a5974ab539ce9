"""The sequential success-rate decision of a burst: SuccessRateTest, and run_burst/evaluate with it.

The bursts here answer from memory (a requests adapter), so the order of answers is known; the
engine's threads and sockets are exercised by the integration tests.
"""

from __future__ import annotations

import io
import random
import threading
from typing import Any

import pytest
import requests

from trafficgate.checks.base import Outcome
from trafficgate.probe import ProbeSpec, evaluate, run_burst
from trafficgate.probe.exceptions import ProbeConfigError
from trafficgate.probe.sequential import SuccessRateTest
from trafficgate.stats import clean_run_to_pass


class Scripted(requests.adapters.BaseAdapter):
    """Answers request number ``i`` (in the order sent) with ``status(i)``; no socket is opened."""

    def __init__(self, status: Any) -> None:
        super().__init__()
        self.status = status
        self.sent = 0
        self._lock = threading.Lock()

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        with self._lock:
            index = self.sent
            self.sent += 1
        response = requests.Response()
        response.status_code = self.status(index)
        response.raw = io.BytesIO(b"{}")
        response.request = request
        return response

    def close(self) -> None:
        pass


def burst(status: Any, **spec_fields: Any) -> tuple[ProbeSpec, Any, Scripted]:
    session = requests.Session()
    adapter = Scripted(status)
    session.mount("http://", adapter)
    spec = ProbeSpec(**{"concurrency": 1, **spec_fields})
    return spec, run_burst(spec, "http://green.internal", session=session), adapter


# --- the test itself ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("min_success_rate", "clean"), [(0.9, 32), (0.95, 65), (0.98, 163), (0.99, 327), (0.995, 654), (0.999, 3272)]
)
def test_clean_requests_to_pass_are_a_little_above_the_rule_of_three(min_success_rate: float, clean: int) -> None:
    test = SuccessRateTest(min_success_rate, alpha=0.01)
    assert test.clean_requests_to_pass() == clean == clean_run_to_pass(1 - min_success_rate, 0.05)
    rule_of_three = 2.9957 / (1 - min_success_rate)  # ln(20) / rate: the fixed-sample count at 95 %
    assert rule_of_three < clean < 1.1 * rule_of_three


def test_a_clean_run_passes_exactly_when_the_count_is_reached() -> None:
    test = SuccessRateTest(0.99, alpha=0.01)
    for n in range(1, 327):
        assert test.add(False) is None, n
    assert test.add(False) == "pass" and test.decided_at == 327
    assert test.to_dict()["evidence_pass"] >= 20
    assert test.add(True) == "pass"  # the first decision stays, whatever comes after
    assert test.to_dict()["evidence_pass"] >= 20  # and so does the evidence that showed it


def test_every_request_failing_fails_within_a_few() -> None:
    test = SuccessRateTest(0.99, alpha=0.01)
    while test.add(True) is None:
        assert test.n < 20
    assert test.decision == "fail" and test.to_dict()["evidence_fail"] >= 100


def test_the_edges_need_no_statistics() -> None:
    strict = SuccessRateTest(1.0, alpha=0.01)
    assert strict.add(False) is None and strict.clean_requests_to_pass() is None
    assert strict.add(True) == "fail" and strict.decided_at == 2
    anything = SuccessRateTest(0.0, alpha=0.01)
    assert anything.decision == "pass" and anything.add(True) == "pass"
    assert anything.clean_requests_to_pass() == 0


@pytest.mark.parametrize("error_rate", [0.0, 0.005, 0.01])
def test_a_green_meeting_the_threshold_is_failed_at_most_alpha_of_the_time(error_rate: float) -> None:
    """Ville's inequality, checked by simulation: at the threshold itself, fails stay under alpha=0.05."""
    fails = 0
    runs = 400
    for seed in range(runs):
        rng = random.Random(seed)
        test = SuccessRateTest(0.99, alpha=0.05)
        for _ in range(1000):
            if test.add(rng.random() < error_rate) is not None:
                break
        fails += test.decision == "fail"
    assert fails / runs <= 0.05


def test_a_green_far_below_the_threshold_is_failed_nearly_always() -> None:
    fails = 0
    for seed in range(200):
        rng = random.Random(seed)
        test = SuccessRateTest(0.99, alpha=0.01)
        for _ in range(400):
            if test.add(rng.random() < 0.10) is not None:
                break
        fails += test.decision == "fail"
    assert fails >= 198


# --- bursts -------------------------------------------------------------------------------------


def test_a_cap_too_small_to_ever_pass_is_refused_naming_the_field() -> None:
    # Such a burst could only fail or stay inconclusive, which the built-in entries let pass.
    with pytest.raises(ProbeConfigError) as caught:
        ProbeSpec(requests=50)
    assert caught.value.field == "requests"
    assert str(caught.value) == (
        "requests 50 is too few for the sequential decision at min_success_rate=0.99: a pass needs 327 requests "
        "in a row without an error; send at least that many, lower min_success_rate, or use decision 'fixed'"
    )
    assert ProbeSpec(requests=327).requests == 327 and ProbeSpec(requests=50, min_success_rate=0.9).requests == 50
    assert ProbeSpec(requests=1, decision="fixed").requests == 1
    assert ProbeSpec(requests=1, min_success_rate=1.0).requests == 1  # the edges need no evidence
    assert ProbeSpec(requests=1, min_success_rate=0.0).requests == 1


@pytest.mark.parametrize("floor", [0.99999, 0.999999])
def test_a_floor_no_burst_can_show_is_refused_at_once_naming_it(floor: float) -> None:
    # Bounded work: the search for the clean run stops past MAX_REQUESTS, it does not loop for seconds.
    with pytest.raises(ProbeConfigError) as caught:
        ProbeSpec(min_success_rate=floor)
    assert caught.value.field == "min_success_rate"
    assert "cannot be shown by a sequential burst of at most 10000 requests" in str(caught.value)


def test_a_clean_burst_stops_with_a_pass_once_shown() -> None:
    spec, result, adapter = burst(lambda i: 200)
    assert adapter.sent == 327 and result.requests_sent == 327
    assert result.sequential is not None and result.sequential["decision"] == "pass"
    verdict = evaluate(spec, result)
    assert verdict.outcome is Outcome.PASS
    assert verdict.reason.startswith(
        "success rate 1.00 (327/327 ok); shown above 0.99 at 95% at request 327 (evidence 20"
    ), verdict.reason


def test_a_dead_green_fails_within_a_few_requests() -> None:
    spec, result, adapter = burst(lambda i: 503)
    assert adapter.sent == 2 and result.stopped_early
    verdict = evaluate(spec, result)
    assert verdict.outcome is Outcome.FAIL
    assert verdict.reason == (
        "success rate 0.00 (0/2 ok; status 503 x2); shown below 0.99 at request 2 (evidence 1486.04 >= 100, "
        "alpha=0.01); stopped early"
    )


def test_one_stray_error_no_longer_fails_the_burst() -> None:
    # The fixed burst of 50 at 0.99 allows no failure at all. One error in 400 does not show the rate
    # below 1 % (even a fixed-sample test needs 474 requests for that): inconclusive, not failed; a
    # larger cap lets the evidence for a pass build up.
    spec, result, _ = burst(lambda i: 500 if i == 10 else 200)
    assert evaluate(spec, result).outcome is Outcome.INCONCLUSIVE
    spec, result, adapter = burst(lambda i: 500 if i == 10 else 200, requests=1000)
    assert evaluate(spec, result).outcome is Outcome.PASS and adapter.sent == 525
    fixed, fixed_result, _ = burst(lambda i: 500 if i == 10 else 200, requests=50, decision="fixed")
    assert evaluate(fixed, fixed_result).outcome is Outcome.FAIL


def test_undecided_at_the_cap_is_inconclusive_and_says_what_a_pass_needs() -> None:
    # 1 error in 100: the floor itself, neither shown above it nor below it in 400 requests.
    spec, result, adapter = burst(lambda i: 500 if i % 100 == 7 else 200)
    assert adapter.sent == 400
    verdict = evaluate(spec, result)
    assert verdict.outcome is Outcome.INCONCLUSIVE
    assert verdict.reason.startswith("inconclusive after 400 requests: success rate 0.99 (396/400 ok; ")
    assert "neither above nor below 0.99 shown after 400 requests" in verdict.reason
    assert "a pass needs about 327 requests in a row without an error" in verdict.reason


def test_a_pass_shown_before_the_deadline_stands() -> None:
    # Concurrency 4: the pass is shown while requests are still in flight; they finish, and count.
    # (How many were sent after request 327 depends on the threads: the decision waits for every
    # request sent before the one that shows it, and the other workers go on meanwhile.)
    spec, result, adapter = burst(lambda i: 200, concurrency=4)
    assert result.sequential is not None and result.sequential["decided_at"] == 327
    assert adapter.sent >= 327 and result.sequential["judged"] == result.completed
    assert evaluate(spec, result).outcome is Outcome.PASS


def test_requests_in_flight_after_a_pass_can_still_show_a_fail() -> None:
    # The fail side's bound holds at every request: crossing it after the pass was shown still counts.
    test = SuccessRateTest(0.99, alpha=0.01)
    for _ in range(327):
        test.add(False)
    assert test.decision == "pass" and test.stopped_at == 327
    while test.decision == "pass":
        test.add(True)
    assert test.decision == "fail" and test.stopped_at == 327 and test.decided_at == test.n
    assert test.to_dict()["failures_at_decision"] == test.n - 327


def test_answers_are_judged_in_the_order_their_requests_were_sent() -> None:
    # Fast failures must not overtake slow successes: an answer waits for the requests sent before it.
    from trafficgate.probe.burst import _Control
    from trafficgate.probe.request import RequestOutcome

    test = SuccessRateTest(0.99, alpha=0.01)
    control = _Control(400, 4, None, (), test)
    control.record(RequestOutcome(index=1, ok=False, kind="status"))
    control.record(RequestOutcome(index=2, ok=False, kind="status"))
    assert test.n == 0  # request 0 has not answered yet
    control.record(RequestOutcome(index=0, ok=True, status=200, latency_ms=5.0))
    assert (test.n, test.failures) == (3, 2)
    control.record(RequestOutcome(index=4, ok=True, status=200, latency_ms=5.0))
    assert test.n == 3  # waits for request 3
    control.record(RequestOutcome(index=3, ok=True, aborted=True))  # cut by the deadline: nothing after counts
    assert test.n == 3


def test_a_deadline_cut_before_a_decision_fails_closed() -> None:
    # Not "inconclusive at the cap", which the built-in entries let pass: an error, which no policy passes.
    from trafficgate.probe.results import BurstResult

    spec = ProbeSpec()
    test = SuccessRateTest(0.99, 0.01)
    test.add(True)
    result = BurstResult(
        target="t", requests_planned=400, requests_sent=2, successes=0, failures=1, aborted=1, allowed_failures=4,
        status_counts={500: 1}, failed_status_counts={500: 1}, error_counts={"status": 1}, latency_count=1,
        latency_p50_ms=600.0, latency_p95_ms=600.0, latency_p99_ms=600.0, latency_max_ms=600.0, duration_s=1.0,
        stopped_early=False, deadline_hit=True, failure_samples=(), cert_days_left=None, cert_error=None,
        truncated_responses=0, bytes_read=0, redirects_followed=0, redirects_blocked=0, warnings=(),
        sequential=test.to_dict(),
    )
    verdict = evaluate(spec, result)
    assert verdict.outcome is Outcome.ERROR
    assert verdict.reason.startswith(
        "deadline reached after 1/400 requests, before the success rate was shown either way; success rate 0.00"
    )


def test_threshold_one_passes_only_a_complete_clean_burst() -> None:
    spec, result, _ = burst(lambda i: 200, requests=20, min_success_rate=1.0)
    assert evaluate(spec, result).outcome is Outcome.PASS
    spec, result, adapter = burst(lambda i: 500 if i == 3 else 200, requests=20, min_success_rate=1.0)
    assert adapter.sent == 4 and evaluate(spec, result).outcome is Outcome.FAIL


@pytest.mark.parametrize(("field", "value", "message"), [
    ("decision", "adaptive", "decision 'adaptive' must be one of sequential, fixed"),
    ("alpha", 0.5, "alpha 0.5 must be"),
    ("alpha", 0.0, "alpha 0.0 must be"),
])
def test_bad_decision_settings_name_the_field(field: str, value: Any, message: str) -> None:
    with pytest.raises(ProbeConfigError, match=message) as caught:
        ProbeSpec(**{field: value})
    assert caught.value.field == field
