"""Checks that wait longer than one invocation: the metrics bake and ``approval.gate``, on moto through boto3."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from tests.integration.test_checks_alarms_metrics import hand_built, make_ctx, put
from tests.support.fakes import FakeReporter, FixedContext
from tests.unit.test_ecs_hook import sample
from trafficgate.attempts import run_check
from trafficgate.aws import AwsClients
from trafficgate.checks.approval import ApprovalGate, interpret
from trafficgate.checks.base import Outcome
from trafficgate.checks.metrics import FiveXxRate
from trafficgate.config import Settings
from trafficgate.context import CheckContext
from trafficgate.continuation import HOOK_DETAILS_KEY
from trafficgate.hooks import EcsStage, Hook
from trafficgate.runner import HookRunner
from trafficgate_local.standin.cloudwatch import install_cloudwatch

pytestmark = pytest.mark.integration

SERVICE_DEPLOYMENT = "arn:aws:ecs:us-east-1:123456789012:service-deployment/shop-cluster/shop-web/Dq9sU2PkC1kcB8bCZWQ5a"
PARAMETER = "/trafficgate/shop-cluster/shop-web/approval"


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        install_cloudwatch()
        yield


# --- the bake ---------------------------------------------------------------------------------------


def test_a_bake_longer_than_the_invocation_waits_then_reads_the_whole_window(aws: None) -> None:
    ctx = make_ctx(bake_seconds=600.0, deadline_s=30)
    ctx.wait_until = time.time() + 3600

    first = FiveXxRate().run(ctx)

    assert first.waiting and first.resume is not None
    assert 595 <= first.resume.after_s <= 600
    assert first.reason.startswith("baking: 0 s of 600 s; the metrics are read when the bake is over, in ")
    started_at = first.resume.state["bake_started_at"]

    # Ten minutes later (the state says when the bake began), the next call reads the whole bake.
    put("RequestCount", value=500)
    put("HTTPCode_Target_5XX_Count", value=1)
    later = make_ctx(bake_seconds=600.0, deadline_s=30)
    later.cache.clear()
    later.wait_until = time.time() + 3000
    later.resumed = {"bake_started_at": started_at - 600}

    result = FiveXxRate().run(later)

    assert result.outcome is Outcome.PASS, result.reason
    assert result.reason.startswith("5xx rate 0.0020 <= 0.0100 (1/500 requests")
    window_start = datetime.fromisoformat(result.details["window"][0])
    assert window_start <= datetime.fromtimestamp(started_at - 600, UTC)  # the window covers the whole bake
    assert window_start > datetime.fromtimestamp(started_at - 600, UTC) - timedelta(minutes=1)


def test_a_bake_the_hook_cannot_wait_out_is_cut_and_says_so(aws: None) -> None:
    ctx = make_ctx(bake_seconds=600.0, deadline_s=12)
    ctx.wait_until = None  # TRAFFICGATE_CONTINUATION=off, or no way to continue

    result = FiveXxRate().run(ctx)

    assert not result.waiting
    assert "bake cut to 2 s of 600 s" in result.reason or "bake cut to 1 s of 600 s" in result.reason


def test_a_bake_that_fits_runs_in_the_invocation(aws: None) -> None:
    ctx = make_ctx(bake_seconds=1.0, deadline_s=30)
    ctx.wait_until = time.time() + 3600

    result = FiveXxRate().run(ctx)

    assert not result.waiting
    assert result.reason == "no RequestCount datapoints"  # read after a one-second bake, nothing put


def test_an_ecs_bake_answers_in_progress_with_the_bake_left_as_call_back_delay(aws: None) -> None:
    # POST_PRODUCTION_TRAFFIC_SHIFT's own metric check, through the runner: a 20-minute bake needs
    # no 20-minute invocation.
    runner = HookRunner(settings=Settings(bake_seconds=1200.0), reporter=FakeReporter())
    event = sample(EcsStage.POST_PRODUCTION_TRAFFIC_SHIFT)

    def plan(hook: Hook, ctx: CheckContext) -> list[FiveXxRate]:
        ctx._deployment = hand_built()
        return [FiveXxRate()]

    answer = runner.run_ecs(event, FixedContext(60_000), plan=plan)

    assert answer["hookStatus"] == "IN_PROGRESS"
    assert answer["callBackDelay"] == 900  # the longest we ask for: looked at again within 15 minutes
    assert answer["hookDetails"][HOOK_DETAILS_KEY]["waiting"]["id"] == "cloudwatch.5xx_rate"


# --- approval.gate ----------------------------------------------------------------------------------


def ecs_ctx(*, remaining_s: float = 30, wait_s: float | None = 3600, platform: str = "ecs") -> CheckContext:
    return CheckContext(
        hook=Hook.BEFORE_ALLOW_TRAFFIC,
        deployment_id=SERVICE_DEPLOYMENT if platform == "ecs" else "d-TESTTEST1",
        execution_id="exec-1",
        settings=Settings(),
        aws=AwsClients(),
        deadline=time.monotonic() + remaining_s,
        platform=platform,  # type: ignore[arg-type]
        wait_until=None if wait_s is None else time.time() + wait_s,
    )


def put_parameter(value: str, name: str = PARAMETER) -> None:
    boto3.client("ssm").put_parameter(Name=name, Value=value, Type="String", Overwrite=True)


def test_the_gate_waits_for_a_decision_in_the_services_parameter(aws: None) -> None:
    gate = ApprovalGate(poll_s=45)
    first = gate.run(ecs_ctx())

    assert first.waiting and first.resume is not None and first.resume.after_s == pytest.approx(45, abs=1)
    assert re.fullmatch(rf"waiting for approval: {PARAMETER} does not exist yet; \d+ s of 3600 s", first.reason)

    ctx = ecs_ctx()
    ctx.resumed = first.resume.state
    put_parameter("approve")
    approved = gate.run(ctx)
    assert approved.outcome is Outcome.PASS
    assert re.fullmatch(rf"approved after \d+ s: {PARAMETER} holds 'approve'", approved.reason)


def test_a_rejection_fails_the_deployment(aws: None) -> None:
    gate = ApprovalGate()
    since = time.time() - 5
    put_parameter("reject")
    ctx = ecs_ctx()
    ctx.resumed = {"since": since}

    result = gate.run(ctx)

    assert result.outcome is Outcome.FAIL
    assert re.fullmatch(rf"rejected after \d+ s: {PARAMETER} holds 'reject'", result.reason)


def test_a_word_left_from_before_the_wait_decides_nothing_but_a_named_deployment_does(aws: None) -> None:
    put_parameter("approve")
    time.sleep(0.01)
    gate = ApprovalGate()
    stale = gate.run(ecs_ctx())
    assert stale.waiting
    assert "holds 'approve', written at " in stale.reason and "before this gate began to wait" in stale.reason

    put_parameter(f"approve {SERVICE_DEPLOYMENT.rsplit('/', 1)[-1]}")
    assert gate.run(ecs_ctx()).outcome is Outcome.PASS

    put_parameter("reject d-OTHER0001")
    other = gate.run(ecs_ctx())
    assert other.waiting and "which names another deployment" in other.reason


def test_the_gate_times_out_with_its_action(aws: None) -> None:
    ctx = ecs_ctx()
    ctx.resumed = {"since": time.time() - 120}

    failed = ApprovalGate(timeout_s=60).run(ctx)
    assert failed.outcome is Outcome.FAIL
    assert failed.reason == (
        f"no decision within 60 s: {PARAMETER} does not exist yet; expected approve or reject (on_timeout: fail)"
    )

    passed = ApprovalGate(timeout_s=60, on_timeout="pass").run(ctx)
    assert passed.outcome is Outcome.PASS and passed.warnings == ("approval.gate: no decision within 60 s; passed",)


def test_a_hook_that_cannot_wait_applies_the_timeout_action_at_once_and_says_why(aws: None) -> None:
    result = ApprovalGate().run(ecs_ctx(wait_s=None))

    assert result.outcome is Outcome.FAIL
    assert re.match(r"no decision after \d+ s, and the hook cannot wait longer \(its invocation's time,", result.reason)


def test_on_codedeploy_the_gate_polls_within_the_invocation(aws: None) -> None:
    name = "/trafficgate/shop/approval"
    gate = ApprovalGate(parameter=name, poll_s=1)
    ctx = ecs_ctx(platform="codedeploy", remaining_s=60)
    timer = threading.Timer(1.5, put_parameter, args=("approve",), kwargs={"name": name})
    timer.start()
    try:
        record = run_check(gate, ctx)
    finally:
        timer.cancel()

    assert record.outcome is Outcome.PASS, record.reason
    assert record.reason.startswith("approved after ") and f"{name} holds 'approve'" in record.reason


def test_an_unreadable_parameter_is_an_error_not_a_decision(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing listens on port 9 of this machine: SSM cannot be asked, which decides nothing.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    ctx = ecs_ctx()
    ctx.aws = AwsClients(region="us-east-1")

    record = run_check(ApprovalGate(), ctx)

    assert record.outcome is Outcome.ERROR
    assert record.reason.startswith(f"approval parameter {PARAMETER}: could not read (")


@pytest.mark.parametrize(
    ("value", "decision", "said"),
    [
        (None, None, "does not exist yet"),
        ("  ", None, "is empty"),
        ("APPROVE", "approve", "holds 'APPROVE'"),
        ("rejected", "reject", "holds 'rejected'"),
        ("d-TESTTEST1", "approve", "names this deployment ('d-TESTTEST1')"),
        ("approve d-TESTTEST1", "approve", "holds 'approve d-TESTTEST1'"),
        ("reject d-TESTTEST1", "reject", "holds 'reject d-TESTTEST1'"),
        ("approve d-OTHER0001", None, "holds 'approve d-OTHER0001', which names another deployment"),
        ("maybe", None, "holds 'maybe', which is not approve, reject or this deployment's id"),
    ],
)
def test_what_a_value_decides(value: str | None, decision: str | None, said: str) -> None:
    written = datetime.now(UTC)
    assert interpret(value, written, since=written.timestamp() - 1, deployment_id="d-TESTTEST1") == (decision, said)


def test_a_word_written_before_the_wait_began_decides_nothing() -> None:
    written = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    decision, said = interpret("approve", written, since=written.timestamp() + 1, deployment_id="d-X")
    assert decision is None
    assert said == "holds 'approve', written at 2026-12-01 10:00:00 UTC, before this gate began to wait: write it again"


def test_a_bake_that_is_over_is_read_even_when_the_checks_after_it_leave_no_time(aws: None) -> None:
    # The next link finds the bake over, with less time left than the checks after the metric
    # checks expect: it reads now (it used to ask to wait a negative time, again and again).
    ctx = make_ctx(bake_seconds=40.0, deadline_s=15)
    ctx.cache.clear()
    ctx.wait_until = time.time() + 3600
    ctx.time_after_s = 60.0
    ctx.resumed = {"bake_started_at": time.time() - 54}

    result = FiveXxRate().run(ctx)

    assert not result.waiting
    assert result.reason == "no RequestCount datapoints"
