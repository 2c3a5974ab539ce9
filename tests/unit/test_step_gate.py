"""The ECS per-step canary gate's statistics (pure), and plans that name ECS stages.

The simulations use a fixed seed and bounds with room for sampling noise: they check the level
(equal rates and equal latencies are called regressions at most about alpha of the time) and the
power on a clear regression, never a particular random draw.
"""

from __future__ import annotations

import json
import math
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trafficgate.aws import AwsClients
from trafficgate.checks.step_gate import STEP_GATE_CHECK_ID, Minute, StepGate, judge_minutes, minutes_of, percent
from trafficgate.config import Settings
from trafficgate.context import CheckContext
from trafficgate.hooks import EcsStage, Hook
from trafficgate.outcome import Outcome
from trafficgate.plan import PlanError, parse_plan
from trafficgate.plan.select import plan_for
from trafficgate.probe.compare_spec import CompareSpec
from trafficgate.stats import ErrorShareTest

SPEC = CompareSpec()  # margin 1 point, x1.25 or +5 ms, alpha 0.01
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def minute(i: int, **values: float | int | None) -> Minute:
    return Minute(at=T0 + timedelta(minutes=i), **values)  # type: ignore[arg-type]


# --- ErrorShareTest ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((-1, 0, 0.5), "green_errors must be a count"),
        ((0, 1.5, 0.5), "blue_errors must be a count"),
        ((1, 1, 1.5), r"share must be a number in \[0, 1\]"),
    ],
)
def test_bad_counts_and_shares_are_named(args: tuple[int, int, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ErrorShareTest(alpha=0.01).add(*args)  # type: ignore[arg-type]


counts = st.integers(min_value=0, max_value=40)
shares = st.floats(min_value=0.01, max_value=0.99, allow_nan=False)


@given(counts, counts, counts, counts, shares)
@settings(max_examples=200, deadline=None)
def test_a_minute_split_in_two_carries_the_same_evidence(g1: int, b1: int, g2: int, b2: int, share: float) -> None:
    # Fixed stakes: a stretch's factor depends on its counts only, so how time is cut does not matter.
    whole, halves = ErrorShareTest(alpha=0.01), ErrorShareTest(alpha=0.01)
    whole.add(g1 + g2, b1 + b2, share)
    halves.add(g1, b1, share)
    halves.add(g2, b2, share)
    assert math.isclose(whole.log_evidence, halves.log_evidence, rel_tol=1e-9, abs_tol=1e-9)


@given(counts, shares)
@settings(max_examples=100, deadline=None)
def test_errors_all_from_blue_are_never_evidence_against_green(blue: int, share: float) -> None:
    test = ErrorShareTest(alpha=0.01)
    test.add(0, blue, share)
    assert test.evidence <= 1.0 and not test.worse


def test_a_side_without_requests_tells_nothing() -> None:
    test = ErrorShareTest(alpha=0.01)
    assert test.add(50, 0, 1.0) is False and test.add(0, 50, 0.0) is False
    assert test.errors == 0 and test.evidence == 1.0


def _simulate_errors(p_green: float, p_blue: float, *, runs: int, minutes: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    shown = 0
    for _ in range(runs):
        test = ErrorShareTest(alpha=0.01)
        for _ in range(minutes):
            n_g, n_b = int(rng.integers(50, 150)), int(rng.integers(500, 1500))
            test.add(int(rng.binomial(n_g, p_green)), int(rng.binomial(n_b, p_blue)), n_g / (n_g + n_b))
        shown += test.worse
    return shown / runs


def test_equal_error_rates_are_called_worse_at_most_about_alpha_of_the_time() -> None:
    runs = 1000
    rate = _simulate_errors(0.02, 0.02, runs=runs, minutes=30, seed=13)
    assert rate <= 0.01 + 3 * math.sqrt(0.01 * 0.99 / runs)


def test_a_clear_error_regression_is_shown_nearly_always() -> None:
    assert _simulate_errors(0.05, 0.01, runs=200, minutes=10, seed=7) >= 0.95


# --- the judgement over minutes ----------------------------------------------------------------


def test_too_little_traffic_is_inconclusive_naming_both_counts() -> None:
    result = judge_minutes([minute(0, green_requests=4, blue_requests=40)], SPEC, min_requests=10)
    assert result.outcome is Outcome.INCONCLUSIVE
    assert result.reason.startswith("too little traffic to compare: green 4 requests, blue 40 in 1 minute(s)")
    assert "at least 10 on each side expected (TRAFFICGATE_MIN_SAMPLES)" in result.reason
    assert result.samples == 4


def test_a_green_with_more_5xx_fails_naming_counts_rates_and_margin() -> None:
    # 400 green and 1600 blue requests over 4 minutes; 12 green 5xx, 3 blue.
    rows = [minute(i, green_requests=100, green_5xx=3, blue_requests=400, blue_5xx=1 if i < 3 else 0) for i in range(4)]
    result = judge_minutes(rows, SPEC, min_requests=10, where="production weights green 20 % / blue 80 %")
    assert result.outcome is Outcome.FAIL, result.reason
    assert result.reason.startswith(
        "green 5xx 12/400 (3.0 %) vs blue 3/1600 (0.19 %): green shown worse at alpha 0.005"
    )
    assert "by 2.81 points > the 1-point margin" in result.reason
    assert result.reason.endswith("(production weights green 20 % / blue 80 %)")


def test_a_5xx_increase_shown_but_within_the_margin_does_not_fail() -> None:
    # Green 0.9 % against blue 0.1 % on much traffic: worse, shown, but by less than 1 point.
    rows = [minute(i, green_requests=2000, green_5xx=18, blue_requests=8000, blue_5xx=8) for i in range(5)]
    result = judge_minutes(rows, SPEC, min_requests=10)
    assert result.outcome is not Outcome.FAIL
    assert "green shown worse at alpha 0.005" in result.reason and "<= the 1-point margin" in result.reason


def _latency_rows(rng: np.random.Generator, n: int, green_factor: float) -> list[Minute]:
    rows = []
    for i in range(n):
        blue_ms = float(rng.lognormal(math.log(80), 0.2))
        green_ms = float(rng.lognormal(math.log(80), 0.2)) * green_factor
        rows.append(minute(i, green_requests=100, blue_requests=900, green_ms=green_ms, blue_ms=blue_ms))
    return rows


def test_a_slow_green_fails_on_latency() -> None:
    rows = _latency_rows(np.random.default_rng(3), 20, green_factor=2.5)
    result = judge_minutes(rows, SPEC, min_requests=10)
    assert result.outcome is Outcome.FAIL, result.reason
    assert result.reason.startswith("latency (Average TargetResponseTime) green ")
    assert "green shown slower than allowed at alpha 0.005" in result.reason
    assert "allowed x1.25 or +5 ms, whichever is more" in result.reason


def test_a_few_minutes_of_a_green_like_blue_are_inconclusive_not_a_pass() -> None:
    rows = _latency_rows(np.random.default_rng(5), 3, green_factor=1.0)
    result = judge_minutes(rows, SPEC, min_requests=10)
    assert result.outcome is Outcome.INCONCLUSIVE
    assert "green not shown worse" in result.reason and "not shown either way yet" in result.reason


def test_many_minutes_of_a_green_like_blue_pass() -> None:
    rows = _latency_rows(np.random.default_rng(8), 60, green_factor=1.0)
    result = judge_minutes(rows, SPEC, min_requests=10)
    assert result.outcome is Outcome.PASS, result.reason
    assert "shown within the allowance at beta 0.05" in result.reason


def test_equal_latencies_are_called_slower_at_most_about_alpha_of_the_time() -> None:
    rng = np.random.default_rng(21)
    runs = 400
    failed = sum(
        judge_minutes(_latency_rows(rng, 30, green_factor=1.0), SPEC, min_requests=10).outcome is Outcome.FAIL
        for _ in range(runs)
    )
    assert failed / runs <= 0.01 + 3 * math.sqrt(0.01 * 0.99 / runs)


def test_minutes_where_one_side_served_nothing_are_left_out() -> None:
    rows = [
        minute(0, green_requests=0, blue_requests=1000, blue_5xx=50),  # before the shift: blue alone
        minute(1, green_requests=100, blue_requests=900),
    ]
    result = judge_minutes(rows, SPEC, min_requests=10)
    assert "green 5xx 0/100 (0 %) vs blue 0/900 (0 %)" in result.reason and result.details["minutes"] == 1


def test_metric_series_become_minutes_oldest_first() -> None:
    later, earlier = T0 + timedelta(minutes=1), T0
    rows = minutes_of(
        {
            "green_requests": {later: 10.0, earlier: 5.0},
            "green_latency": {later: 0.05},
            "blue_requests": {earlier: 50.0},
            "blue_5xx": {earlier: 2.0},
        }
    )
    assert [r.at for r in rows] == [earlier, later]
    assert rows[0] == Minute(at=earlier, green_requests=5, blue_requests=50, blue_5xx=2)
    assert rows[1].green_ms == pytest.approx(50.0) and rows[1].blue_ms is None


@pytest.mark.parametrize(("rate", "shown"), [(0.0, "0 %"), (0.03, "3.0 %"), (0.001875, "0.19 %"), (0.5, "50.0 %")])
def test_percentages_read_as_people_write_them(rate: float, shown: str) -> None:
    assert percent(rate) == shown


# --- plans that name ECS stages -----------------------------------------------------------------

PLAN = {
    "version": 1,
    "hooks": {
        "AfterAllowTestTraffic": [{"id": "elb.targets_healthy"}],
        "POST_TEST_TRAFFIC_SHIFT": [{"id": "ecs.taskset_steady"}],
        "PRODUCTION_TRAFFIC_SHIFT": [{"id": STEP_GATE_CHECK_ID, "window_seconds": 600, "on_inconclusive": "fail"}],
    },
}


def test_a_plan_may_name_ecs_stages() -> None:
    plan = parse_plan(PLAN, source="test")
    (gate,) = plan.checks_for(EcsStage.PRODUCTION_TRAFFIC_SHIFT) or []
    assert isinstance(gate, StepGate) and gate.window_seconds == 600 and gate.policy.on_inconclusive == "fail"
    assert [c.check_id for c in plan.checks_for(EcsStage.POST_TEST_TRAFFIC_SHIFT) or []] == ["ecs.taskset_steady"]
    assert [c.check_id for c in plan.checks_for(Hook.AFTER_ALLOW_TEST_TRAFFIC) or []] == ["elb.targets_healthy"]


def test_an_unknown_stage_name_is_refused_naming_it_and_the_accepted_names() -> None:
    with pytest.raises(PlanError) as caught:
        parse_plan({"hooks": {"PRODUCTION_TRAFIC_SHIFT": []}}, source="test")
    message = str(caught.value)
    assert message.startswith("hooks.PRODUCTION_TRAFIC_SHIFT: unknown hook or ECS stage 'PRODUCTION_TRAFIC_SHIFT'")
    assert "AfterAllowTraffic" in message and "PRODUCTION_TRAFFIC_SHIFT" in message


def test_a_bad_step_gate_parameter_names_the_field() -> None:
    plan = {"hooks": {"PRODUCTION_TRAFFIC_SHIFT": [{"id": STEP_GATE_CHECK_ID, "window_seconds": 10}]}}
    with pytest.raises(PlanError, match=r"^hooks.PRODUCTION_TRAFFIC_SHIFT\[0\].window_seconds: "):
        parse_plan(plan, source="test")


GREEN_REVISION = "arn:aws:ecs:us-east-1:123456789012:service-revision/c/s/green"
BLUE_REVISION = "arn:aws:ecs:us-east-1:123456789012:service-revision/c/s/blue"


def _ctx(stage: EcsStage | None, plan_file: Path | None, *, green_percent: float | None = None) -> CheckContext:
    weights = {} if green_percent is None else {GREEN_REVISION: green_percent, BLUE_REVISION: 100 - green_percent}
    return CheckContext(
        hook=stage.moment if stage else Hook.AFTER_ALLOW_TEST_TRAFFIC,
        deployment_id="arn:aws:ecs:us-east-1:123456789012:service-deployment/c/s/abc",
        execution_id="exec-1",
        settings=Settings(plan_file=str(plan_file) if plan_file else None, plan_ssm_prefix=None),
        aws=AwsClients(),
        deadline=time.monotonic() + 30,
        platform="ecs" if stage else "codedeploy",
        ecs_stage=stage,
        production_traffic_weights=weights,
        target_revision_arn=GREEN_REVISION if stage else None,
    )


def test_the_stage_entry_wins_over_its_hooks_entry_and_codedeploy_keeps_the_hooks(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(PLAN))
    ids = lambda checks: [c.check_id for c in checks]  # noqa: E731
    stage = EcsStage.POST_TEST_TRAFFIC_SHIFT
    assert ids(plan_for(Hook.AFTER_ALLOW_TEST_TRAFFIC, _ctx(stage, path))) == ["ecs.taskset_steady"]
    assert ids(plan_for(Hook.AFTER_ALLOW_TEST_TRAFFIC, _ctx(None, path))) == ["elb.targets_healthy"]
    # A mapped stage the plan does not name runs its hook's entry, else the hook's defaults.
    hooks_only = tmp_path / "hooks.json"
    hooks_only.write_text(json.dumps({"hooks": {"AfterAllowTestTraffic": [{"id": "elb.targets_healthy"}]}}))
    assert ids(plan_for(Hook.AFTER_ALLOW_TEST_TRAFFIC, _ctx(stage, hooks_only))) == ["elb.targets_healthy"]
    assert ids(plan_for(Hook.BEFORE_INSTALL, _ctx(EcsStage.PRE_SCALE_UP, path)))[0] == "ecs.task_definition"


def test_stages_without_a_hook_run_their_own_defaults(tmp_path: Path) -> None:
    gate = plan_for(Hook.AFTER_ALLOW_TRAFFIC, _ctx(EcsStage.PRODUCTION_TRAFFIC_SHIFT, None))
    assert [c.check_id for c in gate] == [STEP_GATE_CHECK_ID] and gate[0].policy.on_inconclusive == "pass"
    assert plan_for(Hook.BEFORE_INSTALL, _ctx(EcsStage.RECONCILE_SERVICE, None)) == []
    assert plan_for(Hook.AFTER_INSTALL, _ctx(EcsStage.TEST_TRAFFIC_SHIFT, None)) == []
    # Never AfterAllowTraffic's plan: its bake and burst are not a canary step's.
    planned = tmp_path / "plan.json"
    planned.write_text('{"hooks": {"AfterAllowTraffic": [{"id": "cloudwatch.5xx_rate"}]}}')
    checks = plan_for(Hook.AFTER_ALLOW_TRAFFIC, _ctx(EcsStage.PRODUCTION_TRAFFIC_SHIFT, planned))
    assert [c.check_id for c in checks] == [STEP_GATE_CHECK_ID]


def test_pre_production_runs_before_allow_traffics_plan_before_the_first_step_only(tmp_path: Path) -> None:
    # ECS calls PRE_PRODUCTION_TRAFFIC_SHIFT before every linear or canary step.
    stage = EcsStage.PRE_PRODUCTION_TRAFFIC_SHIFT
    first = [c.check_id for c in plan_for(Hook.BEFORE_ALLOW_TRAFFIC, _ctx(stage, None, green_percent=0))]
    assert "http.test_listener" in first and "cloudwatch.alarms" in first
    between_steps = _ctx(stage, None, green_percent=25)
    assert plan_for(Hook.BEFORE_ALLOW_TRAFFIC, between_steps) == []
    # ...and the verdict says why there was nothing to run (the runner hands this to decide()).
    assert between_steps.empty_plan_reason == (
        "no checks between production steps: green already has 25 % of production; BeforeAllowTraffic's plan "
        "ran before the first step, and PRODUCTION_TRAFFIC_SHIFT judges each step"
    )
    # No weights in the event: taken for the first call (judging once more beats judging never).
    assert plan_for(Hook.BEFORE_ALLOW_TRAFFIC, _ctx(stage, None)) != []
    # A plan that names the stage itself runs it before every step.
    planned = tmp_path / "plan.json"
    planned.write_text('{"hooks": {"PRE_PRODUCTION_TRAFFIC_SHIFT": [{"id": "cloudwatch.alarms"}]}}')
    between = plan_for(Hook.BEFORE_ALLOW_TRAFFIC, _ctx(stage, planned, green_percent=50))
    assert [c.check_id for c in between] == ["cloudwatch.alarms"]
