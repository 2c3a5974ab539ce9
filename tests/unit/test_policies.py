"""Check policies applied by the hook runner: retries, consecutive failures, pauses, no-data, dry run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.support.fakes import FakeReporter, FixedContext
from trafficgate.checks.base import Check, CheckError, CheckResult, Policy
from trafficgate.config import Settings
from trafficgate.context import CheckContext
from trafficgate.hooks import Hook
from trafficgate.runner import HookRunner

EVENT = {"DeploymentId": "d-ABCDEFGH1", "LifecycleEventHookExecutionId": "exec-1"}

PASS = CheckResult.passed("fine", value=1.0, threshold=0.99)
FAIL = CheckResult.failed("success rate 0.50 < 0.99", value=0.5, threshold=0.99)
INCONCLUSIVE = CheckResult.inconclusive("no datapoints yet")
ERROR = CheckResult.errored("AWS error ThrottlingException calling GetMetricData")


@dataclass(kw_only=True)
class Scripted(Check):
    """Returns the scripted results one call after another (the last one repeats); counts calls.

    A ``CheckError`` in the script is raised instead of returned. Each call is appended to
    ``timeline`` as ``("run", check_id)``, next to the pauses the runner takes.
    """

    script: list[CheckResult | CheckError]
    calls: int = 0
    timeline: list[tuple[str, object]] = field(default_factory=list)

    def run(self, ctx: CheckContext) -> CheckResult:
        self.timeline.append(("run", self.check_id))
        step = self.script[min(self.calls, len(self.script) - 1)]
        self.calls += 1
        if isinstance(step, CheckError):
            raise step
        return step


def scripted(
    *script: CheckResult | CheckError,
    check_id: str = "demo.scripted",
    timeline: list[tuple[str, object]] | None = None,
    **policy: Any,
) -> Scripted:
    timeline = [] if timeline is None else timeline
    return Scripted(check_id=check_id, script=list(script), timeline=timeline, policy=Policy(**policy))


@pytest.fixture
def timeline(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, object]]:
    """Records the pauses the checks take between attempts, as ``("pause", seconds)``, instead of waiting.

    Attempts pause through :meth:`CheckContext.sleep` (so a cancelled hook stops waiting); only that
    is faked, and only when it would not be cut short by a cancel.
    """
    events: list[tuple[str, object]] = []

    def sleep(self: CheckContext, seconds: float) -> bool:
        events.append(("pause", seconds))
        return not self.cancelled.is_set()

    monkeypatch.setattr(CheckContext, "sleep", sleep)
    return events


def judge(*checks: Check, remaining_ms: int = 60_000, **settings: Any) -> tuple[dict[str, Any], FakeReporter]:
    reporter = FakeReporter()
    runner = HookRunner(settings=Settings(**settings), reporter=reporter)
    summary = runner.run(Hook.AFTER_ALLOW_TEST_TRAFFIC, EVENT, FixedContext(remaining_ms), plan=list(checks))
    assert len(reporter.calls) == 1  # whatever the policy, exactly one report
    assert reporter.calls[0][2] == summary["status"]
    return summary, reporter


def only(summary: dict[str, Any]) -> dict[str, Any]:
    (check,) = summary["checks"]
    record: dict[str, Any] = check
    return record


# --- retries ------------------------------------------------------------------------------------


def test_no_policy_means_one_attempt() -> None:
    check = scripted(ERROR, PASS)
    summary, _ = judge(check)
    assert check.calls == 1
    assert summary["status"] == "Failed"
    assert only(summary)["attempts"] == 1
    assert summary["reason"] == f"demo.scripted: {ERROR.reason}"  # no "(after ...)" suffix for one attempt


def test_retry_after_error_then_pass() -> None:
    check = scripted(ERROR, ERROR, PASS, retries=3)
    summary, _ = judge(check)
    assert check.calls == 3
    assert summary["status"] == "Succeeded"
    record = only(summary)
    assert (record["outcome"], record["attempts"]) == ("pass", 3)
    assert record["reason"] == "fine (after 3 attempts)"


def test_retry_after_inconclusive_then_pass() -> None:
    check = scripted(INCONCLUSIVE, PASS, retries=1)
    summary, _ = judge(check)
    assert check.calls == 2
    assert summary["status"] == "Succeeded"
    assert only(summary)["attempts"] == 2
    assert only(summary)["reason"] == "fine (after 2 attempts)"


def test_retry_after_a_raised_check_error() -> None:
    check = scripted(CheckError("target group tg-green not found"), PASS, retries=1)
    summary, _ = judge(check)
    assert check.calls == 2
    assert summary["status"] == "Succeeded"


def test_retries_exhausted_is_still_an_error_and_fails() -> None:
    check = scripted(ERROR, retries=2)
    summary, reporter = judge(check)
    assert check.calls == 3  # the first attempt and two retries
    assert reporter.calls == [(EVENT["DeploymentId"], EVENT["LifecycleEventHookExecutionId"], "Failed")]
    record = only(summary)
    assert (record["outcome"], record["attempts"]) == ("error", 3)
    assert summary["reason"] == f"demo.scripted: {ERROR.reason} (after 3 attempts)"


def test_retries_are_not_spent_on_failures() -> None:
    check = scripted(FAIL, PASS, retries=5)
    summary, _ = judge(check)
    assert check.calls == 1  # a fail is final with consecutive_failures=1
    assert summary["status"] == "Failed"
    assert summary["reason"] == f"demo.scripted: {FAIL.reason}"


# --- consecutive failures ---------------------------------------------------------------------------


def test_fail_fail_pass_with_three_consecutive_failures_passes_after_three_attempts() -> None:
    check = scripted(FAIL, FAIL, PASS, consecutive_failures=3)
    summary, _ = judge(check)
    assert check.calls == 3
    assert summary["status"] == "Succeeded"
    assert summary["reason"] == "1/1 checks passed"
    record = only(summary)
    assert (record["outcome"], record["attempts"], record["reason"]) == ("pass", 3, "fine (after 3 attempts)")


def test_three_failures_in_a_row_fail_after_exactly_three_attempts() -> None:
    check = scripted(FAIL, FAIL, FAIL, PASS, consecutive_failures=3)
    summary, _ = judge(check)
    assert check.calls == 3  # never a fourth attempt that would have passed
    assert summary["status"] == "Failed"
    assert summary["reason"] == f"demo.scripted: {FAIL.reason} (after 3 attempts)"
    record = only(summary)
    assert (record["outcome"], record["value"], record["threshold"]) == ("fail", 0.5, 0.99)


def test_other_checks_run_after_a_retried_one() -> None:
    first = scripted(FAIL, PASS, check_id="demo.first", consecutive_failures=2)
    second = scripted(PASS, check_id="demo.second")
    summary, _ = judge(first, second)
    assert (first.calls, second.calls) == (2, 1)
    assert [(c["id"], c["attempts"]) for c in summary["checks"]] == [("demo.first", 2), ("demo.second", 1)]
    assert summary["status"] == "Succeeded"


# --- pauses and the deadline ---------------------------------------------------------------------


def test_pause_between_attempts_is_honoured(timeline: list[tuple[str, object]]) -> None:
    # Proves: the runner pauses pause_s between two attempts, and not after the last one.
    check = scripted(FAIL, FAIL, PASS, consecutive_failures=3, pause_s=0.15, timeline=timeline)
    summary, _ = judge(check)
    run = ("run", "demo.scripted")
    assert timeline == [run, ("pause", 0.15), run, ("pause", 0.15), run]
    assert summary["status"] == "Succeeded"


def test_pause_never_runs_past_the_deadline(timeline: list[tuple[str, object]]) -> None:
    # Proves: a pause longer than the time left is not taken; the result says why there was no
    # second attempt. 60 s left, 3 s margin: 57 s until the deadline, and the pause is 120 s.
    check = scripted(FAIL, PASS, consecutive_failures=3, pause_s=120.0, timeline=timeline)
    summary, _ = judge(check)
    assert timeline == [("run", "demo.scripted")]  # no pause, no second attempt
    record = only(summary)
    assert record["outcome"] == "fail"
    assert record["warnings"] == ["no time left for attempt 2 before the deadline"]
    assert summary["status"] == "Failed"
    assert summary["reason"] == f"demo.scripted: {FAIL.reason}"


def test_retry_that_would_pass_is_not_attempted_without_time(timeline: list[tuple[str, object]]) -> None:
    # Proves: retries left do not buy a pause past the deadline (57 s left, 120 s pause).
    check = scripted(ERROR, PASS, retries=3, pause_s=120.0, timeline=timeline)
    summary, _ = judge(check)
    assert timeline == [("run", "demo.scripted")]
    assert only(summary)["outcome"] == "error"
    assert "no time left for attempt 2 before the deadline" in only(summary)["warnings"]
    assert summary["status"] == "Failed"


# --- too few samples ------------------------------------------------------------------------------

THIN = CheckResult.passed("success rate 1.00 >= 0.99 (3/3 ok)", value=1.0, threshold=0.99, samples=3)


def test_too_few_samples_under_no_data_pass_passes_with_a_warning() -> None:
    summary, _ = judge(scripted(THIN, min_samples=10, no_data="pass"))
    record = only(summary)
    assert record["outcome"] == "pass"
    assert record["reason"] == f"3 samples < 10 minimum: not judged (seen: {THIN.reason})"
    assert record["warnings"] == ["3 samples < 10 minimum"]
    assert summary["status"] == "Succeeded"
    assert summary["reason"] == "1/1 checks passed; 1 with warnings"


def test_too_few_samples_under_no_data_fail_fails() -> None:
    summary, _ = judge(scripted(THIN, min_samples=10, no_data="fail"))
    record = only(summary)
    assert record["outcome"] == "fail"
    assert record["reason"] == f"3 samples < 10 minimum (no_data=fail): {THIN.reason}"
    assert summary["status"] == "Failed"
    assert summary["reason"] == f"demo.scripted: 3 samples < 10 minimum (no_data=fail): {THIN.reason}"


def test_too_few_samples_under_no_data_inconclusive_fails_the_verdict() -> None:
    summary, _ = judge(scripted(THIN, min_samples=10))  # inconclusive is the default
    assert only(summary)["outcome"] == "inconclusive"
    assert summary["status"] == "Failed"
    assert summary["reason"].startswith("demo.scripted: 3 samples < 10 minimum")


def test_enough_samples_are_judged_normally() -> None:
    enough = CheckResult.failed("success rate 0.50 < 0.99 (5/10 ok)", samples=10)
    summary, _ = judge(scripted(enough, min_samples=10, no_data="pass"))
    assert only(summary)["outcome"] == "fail"
    assert only(summary)["reason"] == enough.reason


def test_inconclusive_for_lack_of_data_is_retried() -> None:
    full = CheckResult.passed("success rate 1.00 >= 0.99 (20/20 ok)", samples=20)
    check = scripted(THIN, full, min_samples=10, retries=1)
    summary, _ = judge(check)
    assert check.calls == 2
    assert only(summary)["outcome"] == "pass"
    assert summary["status"] == "Succeeded"


def test_result_without_a_sample_count_is_not_judged_by_min_samples() -> None:
    summary, _ = judge(scripted(PASS, min_samples=10, no_data="fail"))
    assert only(summary)["outcome"] == "pass"


# --- what inconclusive and error mean -----------------------------------------------------------


def test_on_inconclusive_pass_keeps_the_verdict_succeeded() -> None:
    summary, reporter = judge(scripted(INCONCLUSIVE, on_inconclusive="pass"), scripted(PASS, check_id="demo.ok"))
    assert reporter.calls[0][2] == "Succeeded"
    assert summary["reason"] == "1/2 checks passed; not enforced: demo.scripted inconclusive"
    assert summary["checks"][0]["outcome"] == "inconclusive"


def test_on_inconclusive_pass_does_not_excuse_a_failure() -> None:
    summary, _ = judge(scripted(FAIL, on_inconclusive="pass", on_error="pass"))
    assert summary["status"] == "Failed"


def test_on_error_pass_keeps_the_verdict_succeeded() -> None:
    summary, _ = judge(scripted(CheckError("metrics unavailable"), on_error="pass"))
    assert summary["status"] == "Succeeded"
    assert only(summary)["outcome"] == "error"
    assert summary["reason"] == "0/1 checks passed; not enforced: demo.scripted error"


def test_on_error_pass_does_not_excuse_inconclusive() -> None:
    summary, _ = judge(scripted(INCONCLUSIVE, on_error="pass"))
    assert summary["status"] == "Failed"


# --- dry run -----------------------------------------------------------------------------------


def test_failing_dry_run_check_leaves_the_verdict_succeeded() -> None:
    check = scripted(FAIL, dry_run=True)
    summary, reporter = judge(scripted(PASS, check_id="demo.ok"), check)
    assert check.calls == 1
    assert reporter.calls[0][2] == "Succeeded"
    assert summary["status"] == "Succeeded"
    assert summary["reason"] == "1/2 checks passed; not enforced: demo.scripted fail (dry run)"
    dry = summary["checks"][1]
    assert (dry["id"], dry["outcome"], dry["dry_run"], dry["reason"]) == ("demo.scripted", "fail", True, FAIL.reason)
    assert summary["checks"][0]["dry_run"] is False


def test_dry_run_check_still_gets_its_retries() -> None:
    check = scripted(FAIL, FAIL, consecutive_failures=2, dry_run=True)
    summary, _ = judge(check)
    assert check.calls == 2
    assert only(summary)["attempts"] == 2
    assert summary["status"] == "Succeeded"
    assert summary["reason"] == "0/1 checks passed; not enforced: demo.scripted fail (dry run)"


def test_dry_run_does_not_hide_another_checks_failure() -> None:
    summary, _ = judge(scripted(FAIL, dry_run=True), scripted(ERROR, check_id="demo.broken"))
    assert summary["status"] == "Failed"
    assert summary["reason"] == f"demo.broken: {ERROR.reason}"
