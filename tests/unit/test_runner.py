"""The hook runner's logic, with an in-memory reporter: verdicts, one report, the deadline guard."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.support.fakes import FakeReporter, FixedContext
from trafficgate.checks.base import Check, CheckError, CheckResult, Outcome, Policy
from trafficgate.config import Settings
from trafficgate.context import CheckContext
from trafficgate.exceptions import ConfigError, InvalidEventError, ReportError
from trafficgate.hooks import Hook
from trafficgate.reporting import ReportOutcome
from trafficgate.runner import HookRunner

EVENT = {"DeploymentId": "d-ABCDEFGH1", "LifecycleEventHookExecutionId": "exec-1"}


@dataclass(kw_only=True)
class Fixed(Check):
    result: CheckResult

    def run(self, ctx: CheckContext) -> CheckResult:
        return self.result


@dataclass(kw_only=True)
class Raises(Check):
    error: Exception

    def run(self, ctx: CheckContext) -> CheckResult:
        raise self.error


@dataclass(kw_only=True)
class Hangs(Check):
    """Blocks until released (30 s at most); says when it entered and when it returned."""

    release: threading.Event = field(default_factory=threading.Event)
    entered: threading.Event = field(default_factory=threading.Event)
    returned: threading.Event = field(default_factory=threading.Event)

    def run(self, ctx: CheckContext) -> CheckResult:
        self.entered.set()
        self.release.wait(30)
        self.returned.set()
        return CheckResult.passed("released")


def runner(reporter: FakeReporter, **settings: Any) -> HookRunner:
    return HookRunner(settings=Settings(**settings), reporter=reporter)


def ok(check_id: str = "demo.ok") -> Check:
    return Fixed(check_id=check_id, result=CheckResult.passed("fine", value=1, threshold=1))


def bad(check_id: str = "demo.bad", dry_run: bool = False) -> Check:
    return Fixed(
        check_id=check_id, policy=Policy(dry_run=dry_run), result=CheckResult.failed("broken", value=0, threshold=1)
    )


@pytest.mark.parametrize(
    ("event", "named"),
    [
        ({"LifecycleEventHookExecutionId": "x"}, "'DeploymentId'"),
        ({"DeploymentId": "d-ABCDEFGH1"}, "'LifecycleEventHookExecutionId'"),
        ({"DeploymentId": "", "LifecycleEventHookExecutionId": "x"}, "'DeploymentId'"),
        ({"DeploymentId": "d-ABCDEFGH1", "LifecycleEventHookExecutionId": "  "}, "'LifecycleEventHookExecutionId'"),
        ({}, "'DeploymentId' and 'LifecycleEventHookExecutionId'"),
    ],
)
def test_malformed_event_names_the_key_and_reports_nothing(event: dict[str, Any], named: str) -> None:
    reporter = FakeReporter()
    with pytest.raises(InvalidEventError, match=named):
        runner(reporter).run(Hook.BEFORE_INSTALL, event, FixedContext(), plan=[ok()])
    assert reporter.calls == []


def test_event_that_is_not_an_object_is_rejected() -> None:
    reporter = FakeReporter()
    with pytest.raises(InvalidEventError, match="JSON object"):
        runner(reporter).run(Hook.BEFORE_INSTALL, ["not", "a", "dict"], FixedContext(), plan=[])
    assert reporter.calls == []


def test_all_checks_pass_reports_succeeded_once() -> None:
    reporter = FakeReporter()
    summary = runner(reporter).run(Hook.AFTER_INSTALL, EVENT, FixedContext(), plan=[ok("a.one"), ok("a.two")])
    assert reporter.calls == [("d-ABCDEFGH1", "exec-1", "Succeeded")]
    assert summary["status"] == "Succeeded"
    assert summary["reason"] == "2/2 checks passed"
    assert [c["id"] for c in summary["checks"]] == ["a.one", "a.two"]
    assert summary["report"] == "reported"
    json.dumps(summary)  # the summary is JSON-serialisable as returned


def test_empty_plan_succeeds() -> None:
    reporter = FakeReporter()
    summary = runner(reporter).run(Hook.BEFORE_INSTALL, EVENT, FixedContext(), plan=[])
    assert summary["status"] == "Succeeded" and summary["reason"] == "no checks in plan"
    assert len(reporter.calls) == 1


def test_summary_carries_each_check_field() -> None:
    reporter = FakeReporter()
    summary = runner(reporter).run(Hook.AFTER_INSTALL, EVENT, FixedContext(), plan=[bad("x.fail")])
    check = summary["checks"][0]
    assert {k: check[k] for k in ("id", "outcome", "value", "threshold", "reason")} == {
        "id": "x.fail",
        "outcome": "fail",
        "value": 0,
        "threshold": 1,
        "reason": "broken",
    }
    assert check["duration_ms"] >= 0
    assert summary["hook"] == "AfterInstall"
    assert summary["deployment_id"] == "d-ABCDEFGH1" and summary["execution_id"] == "exec-1"


def test_one_failing_check_fails_and_names_its_id() -> None:
    reporter = FakeReporter()
    summary = runner(reporter).run(Hook.AFTER_INSTALL, EVENT, FixedContext(), plan=[ok(), bad("x.fail")])
    assert reporter.calls == [("d-ABCDEFGH1", "exec-1", "Failed")]
    assert summary["reason"] == "x.fail: broken"


def test_dry_run_failure_does_not_fail_the_verdict() -> None:
    reporter = FakeReporter()
    summary = runner(reporter).run(Hook.AFTER_INSTALL, EVENT, FixedContext(), plan=[ok(), bad("x.soft", dry_run=True)])
    assert summary["status"] == "Succeeded"
    assert "not enforced: x.soft fail (dry run)" in summary["reason"]


@pytest.mark.parametrize("outcome", [Outcome.INCONCLUSIVE, Outcome.ERROR])
def test_inconclusive_and_error_fail_closed(outcome: Outcome) -> None:
    reporter = FakeReporter()
    check = Fixed(check_id="x.unsure", result=CheckResult(outcome=outcome, reason="no data"))
    summary = runner(reporter).run(Hook.AFTER_INSTALL, EVENT, FixedContext(), plan=[check])
    assert summary["status"] == "Failed" and reporter.calls[0][2] == "Failed"


def test_check_that_raises_fails_with_id_and_generic_reason() -> None:
    reporter = FakeReporter()
    boom = Raises(check_id="x.boom", error=KeyError("secret-token-value"))
    summary = runner(reporter).run(Hook.AFTER_INSTALL, EVENT, FixedContext(), plan=[boom, ok("after.boom")])
    assert reporter.calls == [("d-ABCDEFGH1", "exec-1", "Failed")]
    assert summary["reason"] == "x.boom: check raised KeyError"
    assert "secret-token-value" not in json.dumps(summary)
    # The plan goes on after an erroring check: the summary shows every check's state.
    assert [c["id"] for c in summary["checks"]] == ["x.boom", "after.boom"]


def test_check_error_message_becomes_the_reason() -> None:
    reporter = FakeReporter()
    boom = Raises(check_id="x.typed", error=CheckError("target group tg-1 not found"))
    summary = runner(reporter).run(Hook.AFTER_INSTALL, EVENT, FixedContext(), plan=[boom])
    assert summary["checks"][0]["outcome"] == "error"
    assert summary["reason"] == "x.typed: target group tg-1 not found"


def test_check_returning_wrong_type_is_an_error() -> None:
    @dataclass(kw_only=True)
    class Wrong(Check):
        def run(self, ctx: CheckContext) -> CheckResult:
            return "ok"  # type: ignore[return-value]

    reporter = FakeReporter()
    summary = runner(reporter).run(Hook.AFTER_INSTALL, EVENT, FixedContext(), plan=[Wrong(check_id="x.wrong")])
    assert summary["status"] == "Failed"
    assert "expected CheckResult" in summary["reason"]


def test_plan_factory_that_raises_fails_once() -> None:
    def factory(hook: Hook, ctx: CheckContext) -> list[Check]:
        raise RuntimeError("plan store unavailable")

    reporter = FakeReporter()
    summary = runner(reporter).run(Hook.AFTER_INSTALL, EVENT, FixedContext(), plan=factory)
    assert reporter.calls[0][2] == "Failed"
    assert summary["reason"] == "trafficgate.plan: could not build the plan: plan factory raised RuntimeError"


def test_config_error_reports_failed_naming_the_variable() -> None:
    reporter = FakeReporter()
    error = ConfigError("TRAFFICGATE_PROBE_REQUESTS='many': expected an integer")
    summary = HookRunner(settings=error, reporter=reporter).run(Hook.AFTER_INSTALL, EVENT, FixedContext(), plan=[ok()])
    assert reporter.calls[0][2] == "Failed"
    assert "TRAFFICGATE_PROBE_REQUESTS" in summary["reason"]
    assert summary["checks"][0]["id"] == "trafficgate.config"


def test_deadline_guard_reports_failed_while_a_check_hangs() -> None:
    # Proves: at the deadline the runner reports Failed once without waiting for the stuck check,
    # keeps the finished check's result, blames the stuck one and marks the rest "not run".
    # 5 s left, 1 s margin: the deadline is 4 s away, ample for a.first and the start of x.stuck
    # on a loaded machine (the test cannot hold the runner's real clock back).
    reporter = FakeReporter()
    stuck = Hangs(check_id="x.stuck")
    plan = [ok("a.first"), stuck, ok("z.never")]
    try:
        summary = runner(reporter, deadline_margin_ms=1000, report_budget_ms=500).run(
            Hook.AFTER_ALLOW_TEST_TRAFFIC, EVENT, FixedContext(remaining_ms=5000), plan=plan
        )
        # The runner walked away: the stuck check was still blocked when the verdict came back.
        assert stuck.entered.is_set() and not stuck.returned.is_set()
    finally:
        stuck.release.set()
    assert reporter.calls == [("d-ABCDEFGH1", "exec-1", "Failed")]
    by_id = {c["id"]: c for c in summary["checks"]}
    assert by_id["a.first"]["outcome"] == "pass"
    assert by_id["x.stuck"]["outcome"] == "error" and by_id["x.stuck"]["reason"].startswith("deadline")
    assert by_id["z.never"]["outcome"] == "inconclusive" and by_id["z.never"]["reason"] == "deadline: not run"
    assert summary["reason"].startswith("x.stuck: deadline")


def test_checks_see_a_deadline_before_the_margin() -> None:
    # Proves: a check's remaining time is the context's minus the margin (10 s - 2 s), less only the
    # time that really passed before the check looked, however long that was.
    seen: list[tuple[float, float]] = []

    @dataclass(kw_only=True)
    class Peek(Check):
        def run(self, ctx: CheckContext) -> CheckResult:
            seen.append((ctx.remaining_s(), time.monotonic()))
            return CheckResult.passed("peeked")

    before = time.monotonic()
    runner(FakeReporter(), deadline_margin_ms=2000, report_budget_ms=500).run(
        Hook.AFTER_INSTALL, EVENT, FixedContext(remaining_ms=10_000), plan=[Peek(check_id="x.peek")]
    )
    ((remaining, looked_at),) = seen
    assert 8.0 - (looked_at - before) - 1e-6 <= remaining <= 8.0


def test_the_deadline_counts_from_when_the_remaining_time_was_read() -> None:
    # Proves: time spent before the runner asks Lambda for its remaining time (building the reporter's
    # client, here a slow 0.3 s) is not taken off the checks a second time. The Lambda context below
    # runs on the real clock; the checks' deadline must be the function's
    # own end minus the margin, never earlier.
    @dataclass
    class Countdown:
        ends_at: float

        def get_remaining_time_in_millis(self) -> int:
            return int((self.ends_at - time.monotonic()) * 1000)

    class SlowReporterRunner(HookRunner):
        @property
        def reporter(self) -> FakeReporter:  # type: ignore[override]
            time.sleep(0.3)
            return self._fake

    deadlines: list[float] = []

    @dataclass(kw_only=True)
    class Peek(Check):
        def run(self, ctx: CheckContext) -> CheckResult:
            deadlines.append(ctx.deadline)
            return CheckResult.passed("peeked")

    hook_runner = SlowReporterRunner(settings=Settings(deadline_margin_ms=2000, report_budget_ms=500))
    hook_runner._fake = FakeReporter()  # type: ignore[attr-defined]
    context = Countdown(ends_at=time.monotonic() + 10.0)
    hook_runner.run(Hook.AFTER_INSTALL, EVENT, context, plan=[Peek(check_id="x.peek")])
    (deadline,) = deadlines
    # The ms rounding of the remaining time is the only slack allowed below the function's end - margin.
    assert deadline >= context.ends_at - 2.0 - 0.0011
    assert deadline < context.ends_at  # and the margin is kept


@pytest.mark.parametrize("outcome", [ReportOutcome.ALREADY_COMPLETED, ReportOutcome.REJECTED])
def test_duplicate_or_rejected_report_returns_normally(outcome: ReportOutcome) -> None:
    reporter = FakeReporter(outcome=outcome)
    summary = runner(reporter).run(Hook.AFTER_INSTALL, EVENT, FixedContext(), plan=[ok()])
    assert summary["report"] == outcome.value
    assert len(reporter.calls) == 1


def test_report_failure_after_retries_raises() -> None:
    reporter = FakeReporter(error=ReportError("PutLifecycleEventHookExecutionStatus failed after retries: X"))
    with pytest.raises(ReportError):
        runner(reporter).run(Hook.AFTER_INSTALL, EVENT, FixedContext(), plan=[ok()])
    assert len(reporter.calls) == 1


def test_a_value_that_cannot_be_serialised_still_gets_exactly_one_report() -> None:
    circular: list[object] = []
    circular.append(circular)
    odd = Fixed(check_id="x.odd", result=CheckResult.passed("fine", value=circular, details=["not", "a", "map"]))  # type: ignore[arg-type]
    reporter = FakeReporter()
    summary = runner(reporter).run(Hook.AFTER_INSTALL, EVENT, FixedContext(), plan=[odd])
    assert reporter.calls == [("d-ABCDEFGH1", "exec-1", "Succeeded")]
    json.dumps(summary)
    assert summary["checks"][0]["id"] == "x.odd"


def test_a_plan_entry_that_is_not_a_check_fails_at_once_not_at_the_deadline() -> None:
    # Proves: a broken plan is answered as soon as it is found, not when the deadline guard
    # fires 57 s later (60 s left, 3 s margin). The bound is half of that: it only catches a wait.
    reporter = FakeReporter()
    started = time.monotonic()
    summary = runner(reporter).run(
        Hook.AFTER_INSTALL,
        EVENT,
        FixedContext(remaining_ms=60_000),
        plan=["not a check"],  # type: ignore[list-item]
    )
    assert time.monotonic() - started < 57 / 2
    assert reporter.calls == [("d-ABCDEFGH1", "exec-1", "Failed")]
    assert summary["reason"].startswith("trafficgate.plan: plan entry 'not a check' is not a Check")


def test_exception_messages_stay_out_of_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    boom = Raises(check_id="x.leaky", error=ValueError("Invalid header value: ' Bearer s3cr3t'"))
    with caplog.at_level("DEBUG"):
        summary = runner(FakeReporter()).run(Hook.AFTER_INSTALL, EVENT, FixedContext(), plan=[boom])
    assert summary["reason"] == "x.leaky: check raised ValueError"
    assert "s3cr3t" not in caplog.text
    assert any(getattr(r, "error_type", None) == "ValueError" for r in caplog.records)
