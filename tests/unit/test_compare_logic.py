"""http.compare without a network: its result from given pairs, its place in the plans, its plan entry."""

from __future__ import annotations

from typing import Any

import pytest

from trafficgate.checks.compare import BUILTIN_POLICY, COMPARE_CHECK_ID, HttpCompare, judge, paired_comparison
from trafficgate.config import Settings
from trafficgate.hooks import Hook
from trafficgate.outcome import Outcome
from trafficgate.plan import BUILTIN_TYPES, PlanError, default_plan, parse_plan
from trafficgate.probe.compare_spec import CompareSpec
from trafficgate.probe.pairs import Pair, PairsResult, SideResult

AATT = "hooks.AfterAllowTestTraffic"


def side(times: list[float | None], target: str) -> SideResult:
    ok = [t for t in times if t is not None]
    return SideResult(
        target=target,
        requests=len(times),
        successes=len(ok),
        failures=len(times) - len(ok),
        latencies_ms=tuple(ok),
        status_counts={200: len(ok), 500: len(times) - len(ok)} if len(ok) < len(times) else {200: len(ok)},
        error_counts={"status": len(times) - len(ok)} if len(ok) < len(times) else {},
        failure_samples=(),
        truncated_responses=0,
        bytes_read=0,
    )


def compared(pairs: list[Pair], spec: CompareSpec, *, stop_reason: str | None = None) -> tuple[Any, ...]:
    """Feed ``pairs`` to a PairedComparison as the engine would (stopping at its decision); judge it."""
    comparison = paired_comparison(spec)
    judged: list[Pair] = []
    for green, blue in pairs[: spec.max_requests]:
        judged.append((green, blue))
        if comparison.add(green, blue) is not None:
            break
    reason = stop_reason or ("decided" if comparison.verdict else "cap")
    result = PairsResult(
        green=side([g for g, _ in judged], "http://green/"),
        blue=side([b for _, b in judged], "http://blue/"),
        pairs=tuple(judged),
        sent=len(judged),
        unjudged=0,
        stop_reason=reason,
        duration_s=0.1,
    )
    return judge(comparison, result, spec), comparison


def test_a_slower_green_fails_naming_both_medians_the_limits_and_when_it_was_shown() -> None:
    result, comparison = compared([(61.0, 20.0)] * 400, CompareSpec())

    assert result.outcome is Outcome.FAIL
    shown = comparison.decided_at
    assert shown is not None and shown < 400
    assert result.reason == (
        "green slower than blue: median 61 ms vs 20 ms (x3.05 > x1.25 and +41 ms > 5 ms; "
        f"slower than allowed in {shown}/{shown} pairs), shown after {shown} pairs at alpha 0.002"
    )
    assert result.samples == shown
    details = result.details
    assert details["decided_at"] == shown and details["pairs"] == shown
    assert details["latency_ratio"] == pytest.approx(3.05)
    assert details["latency_difference_ms"] == pytest.approx(41.0)
    assert details["green"]["p50_ms"] == 61.0 and details["blue"]["p90_ms"] == 20.0
    low, high = details["slower_share_ci"]
    assert 0.5 < low <= 1.0 == details["slower_share"] == high
    assert details["thresholds"] == {
        "max_error_rate_increase": 0.01,
        "detect_error_rate_increase": 0.025,
        "max_latency_increase": 1.25,
        "min_latency_increase_ms": 5.0,
        "alpha": 0.01,
        "max_requests": 1200,
        "beta": 0.05,
    }


def test_an_erroring_green_fails_naming_both_error_rates() -> None:
    pairs: list[Pair] = [(None if i % 5 == 0 else 3.0, 3.0) for i in range(400)]
    result, comparison = compared(pairs, CompareSpec())

    assert result.outcome is Outcome.FAIL
    assert result.reason.startswith("green fails more often than blue: error rate 0.")
    assert f"shown after {comparison.decided_at} pairs at alpha 0.008" in result.reason
    details = result.details
    increase = details["error_rate_increase"]
    low, high = details["error_rate_increase_ci"]
    assert 0.0 < low <= increase <= high  # shown above zero at this alpha
    assert details["green"]["errors"] == comparison.green_errors > 0 == details["blue"]["errors"]
    assert details["green"]["error_rate"] == pytest.approx(comparison.green_errors / comparison.pairs, abs=1e-4)


def test_an_equal_green_passes_saying_what_was_within_the_limits() -> None:
    result, comparison = compared([(5.0, 5.0)] * 400, CompareSpec())

    assert result.outcome is Outcome.PASS
    assert comparison.decided_at is not None and comparison.decided_at < 400
    assert result.reason.startswith("green no worse than blue: error rate 0.000 vs 0.000 (+0.000 <= +0.010), ")
    assert "median 5.0 ms vs 5.0 ms (x1.00 <= x1.25 and +0 ms <= 5 ms; slower than allowed in 0/" in result.reason


def test_open_at_the_cap_is_inconclusive_with_both_sides_figures() -> None:
    spec = CompareSpec(max_requests=40)
    result, _ = compared([(5.0, 5.0)] * 40, spec)

    assert result.outcome is Outcome.INCONCLUSIVE
    assert result.reason.startswith("inconclusive after 40 pairs (the cap of 40 requests per side): error rate 0.000")
    assert result.reason.endswith("neither a regression shown (alpha 0.01) nor green no worse (at 95%)")
    assert result.details["decided_at"] is None and result.details["stopped"] == "cap"


def test_no_pair_before_the_deadline_is_inconclusive() -> None:
    result, _ = compared([], CompareSpec(), stop_reason="deadline")

    assert result.outcome is Outcome.INCONCLUSIVE
    assert result.reason == "inconclusive: no pair completed before the deadline"


def test_an_error_margin_of_zero_fails_on_any_increase_shown() -> None:
    # PairedComparison needs a margin above 0: the smallest it accepts means the same.
    few_more: list[Pair] = [(None if i % 10 == 0 else 5.0, 5.0) for i in range(400)]
    strict, _ = compared(few_more, CompareSpec(max_error_rate_increase=0.0))
    assert strict.outcome is Outcome.FAIL
    assert "green fails more often than blue: error rate 0.1" in strict.reason
    assert "> +0.000)" in strict.reason


# --- the built-in plans ---------------------------------------------------------------------------


@pytest.mark.parametrize("hook", list(Hook), ids=lambda h: h.value)
def test_the_comparison_is_built_in_between_test_traffic_and_traffic(hook: Hook) -> None:
    checks = {c.check_id: c for c in default_plan(hook, Settings())}
    expected = hook in (Hook.AFTER_ALLOW_TEST_TRAFFIC, Hook.BEFORE_ALLOW_TRAFFIC)
    assert (COMPARE_CHECK_ID in checks) is expected
    if expected:
        # After the burst that judges green alone; only the response diff comes after it.
        assert list(checks)[-2:] == [COMPARE_CHECK_ID, "http.diff"]
        assert checks[COMPARE_CHECK_ID].policy == BUILTIN_POLICY
        assert BUILTIN_POLICY.on_inconclusive == "pass" and BUILTIN_POLICY.on_error == "fail"


@pytest.mark.parametrize("settings", [Settings(compare=False), Settings(disabled_checks=frozenset({COMPARE_CHECK_ID}))])
def test_compare_off_or_disabled_removes_it(settings: Settings) -> None:
    for hook in Hook:
        assert COMPARE_CHECK_ID not in [c.check_id for c in default_plan(hook, settings)]


# --- the plan entry ---------------------------------------------------------------------------------


def entry_error(entry: dict[str, Any]) -> str:
    with pytest.raises(PlanError) as info:
        parse_plan({"hooks": {"AfterAllowTestTraffic": [entry]}}, source="t", types=BUILTIN_TYPES)
    return str(info.value)


def test_a_plan_entry_sets_the_comparison_and_the_probe() -> None:
    plan = parse_plan(
        {
            "hooks": {
                "BeforeAllowTraffic": [
                    {
                        "id": COMPARE_CHECK_ID,
                        "max_error_rate_increase": 0.02,
                        "max_latency_increase": 1.5,
                        "min_latency_increase_ms": 10,
                        "alpha": 0.05,
                        "max_requests": 200,
                        "path": "/health",
                        "concurrency": 2,
                        "on_inconclusive": "fail",
                    }
                ]
            }
        },
        source="t",
        types=BUILTIN_TYPES,
    )
    (check,) = plan.checks_for(Hook.BEFORE_ALLOW_TRAFFIC) or []
    assert isinstance(check, HttpCompare)
    assert check.overrides == {
        "max_error_rate_increase": 0.02,
        "max_latency_increase": 1.5,
        "min_latency_increase_ms": 10.0,
        "alpha": 0.05,
        "max_requests": 200,
    }
    assert check.probe_overrides == {"path": "/health", "concurrency": 2}
    assert check.policy.on_inconclusive == "fail"


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("alpha", 0.5, "must be a number > 0 and < 0.5"),
        ("alpha", 0, "must be a number > 0 and < 0.5"),
        ("max_error_rate_increase", 1, "must be a number >= 0 and < 1"),
        ("max_latency_increase", 0.9, "must be a number within [1, 100]"),
        ("min_latency_increase_ms", -1, "must be a number within [0, 900000]"),
        ("max_requests", 0, "must be an integer within [1, 10000]"),
        ("max_requests", 2.5, "expected an integer"),
        ("concurrency", 0, "must be an integer within [1, 256]"),
        ("body_regex", "(", "'(' is not a regular expression RE2 accepts"),
        ("alpha", "low", "expected a number"),
    ],
)
def test_bad_parameters_are_plan_errors_naming_the_field(field: str, value: Any, expected: str) -> None:
    message = entry_error({"id": COMPARE_CHECK_ID, field: value})
    assert message.startswith(f"{AATT}[0].{field}: "), message
    assert expected in message, message


@pytest.mark.parametrize("field", ["requests", "min_success_rate", "max_p95_ms", "headers", "resolve", "listener"])
def test_the_bursts_own_settings_are_not_parameters_of_the_comparison(field: str) -> None:
    message = entry_error({"id": COMPARE_CHECK_ID, field: 1})
    assert message.startswith(f"{AATT}[0].{field}: unknown parameter; expected one of: "), message
    assert "max_requests" in message


def test_a_long_comparison_of_an_equal_green_reports_finite_evidence() -> None:
    # 1200 equal pairs: the "not slower" capital grows past what a float's exp can hold.
    spec = CompareSpec(max_requests=1200, max_error_rate_increase=0.0)
    (result, comparison) = compared([(10.0, 10.0)] * 1200, spec)
    evidence = result.details["evidence"]
    assert comparison.latency.decision == "below"
    assert all(value is None or value < float("inf") for value in evidence.values()), evidence


def test_the_time_a_comparison_claims_from_the_checks_before_it_is_bounded() -> None:
    import types

    from trafficgate.checks.compare import _EXPECTED_PAIRS, MAX_EXPECTED_S

    def ctx(cap: int) -> Any:
        return types.SimpleNamespace(settings=Settings(comparison=CompareSpec(max_requests=cap)))

    small = HttpCompare().expected_s(ctx(20))
    typical = HttpCompare().expected_s(ctx(_EXPECTED_PAIRS))
    assert small < typical < MAX_EXPECTED_S
    # A cap above what a healthy green takes claims no more than that (it is reached only near the
    # margin, and then the pairs stop at the check's own deadline)...
    assert HttpCompare().expected_s(ctx(10_000)) == typical
    # ...and one request at a time claims at most MAX_EXPECTED_S.
    assert HttpCompare(probe_overrides={"concurrency": 1}).expected_s(ctx(10_000)) == MAX_EXPECTED_S


def test_a_pair_keeps_no_body_of_a_success_and_only_the_start_of_a_failure() -> None:
    from trafficgate.probe.pairs import KEPT_BODY_BYTES, _slim
    from trafficgate.probe.request import RequestOutcome

    ok = _slim(RequestOutcome(index=0, ok=True, status=200, body=b"x" * 1_000_000))
    failed = _slim(RequestOutcome(index=1, ok=False, status=500, body=b"y" * 1_000_000))
    assert ok.body == b""
    assert failed.body == b"y" * KEPT_BODY_BYTES


def test_a_plan_moving_only_the_margin_above_the_operators_detectable_increase_gets_the_derived_one() -> None:
    import types

    operator = types.SimpleNamespace(
        settings=Settings(comparison=CompareSpec(detect_error_rate_increase=0.025))
    )
    spec = HttpCompare(overrides={"max_error_rate_increase": 0.05}).spec(operator)  # type: ignore[arg-type]
    assert spec.detect_error_rate_increase is None and spec.detect_increase == pytest.approx(0.125)
    # A plan margin the operator's detectable increase still covers keeps it.
    kept = HttpCompare(overrides={"max_error_rate_increase": 0.02}).spec(operator)  # type: ignore[arg-type]
    assert kept.detect_increase == 0.025


def test_a_plans_detectable_increase_below_the_operators_margin_names_both() -> None:
    import types

    from trafficgate.checks.base import CheckError

    operator = types.SimpleNamespace(settings=Settings(comparison=CompareSpec(max_error_rate_increase=0.03)))
    check = HttpCompare(overrides={"detect_error_rate_increase": 0.02})
    with pytest.raises(CheckError, match=r"^detect_error_rate_increase 0.02 is below the operator's "
                       r"max_error_rate_increase 0.03: expected at least the tolerated increase$"):
        check.spec(operator)  # type: ignore[arg-type]
    # The plan's own pair is refused when the plan is read, naming the field.
    with pytest.raises(ValueError, match="detect_error_rate_increase must be at least max_error_rate_increase"):
        HttpCompare.from_plan(
            "http.compare", {"max_error_rate_increase": 0.03, "detect_error_rate_increase": 0.02}
        )


def test_a_detectable_increase_under_the_smallest_margin_still_runs() -> None:
    # Margin 0 ("any increase shown fails") runs as a margin of 1e-9; a detectable increase below
    # that is taken as the margin, not refused when the pairs have already been sent.
    comparison = paired_comparison(CompareSpec(max_error_rate_increase=0.0, detect_error_rate_increase=1e-12))
    assert comparison.detect_error_increase == comparison.max_error_increase > 0
