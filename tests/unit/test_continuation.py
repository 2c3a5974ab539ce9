"""Hooks that outlive one invocation: ECS IN_PROGRESS with hookDetails, CodeDeploy links, one answer."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.support.fakes import FakeContinuer, FakeReporter, FixedContext, FunctionContext
from tests.unit.test_ecs_hook import sample
from tests.unit.test_runner import EVENT, bad
from trafficgate.checks.base import Check, CheckResult, Policy
from trafficgate.config import Settings
from trafficgate.context import CheckContext
from trafficgate.continuation import (
    CODEDEPLOY_HOOK_LIMIT_S,
    EVENT_KEY,
    HOOK_DETAILS_KEY,
    Progress,
    callback_delay,
    codedeploy_wait_until,
)
from trafficgate.exceptions import ReportError
from trafficgate.hooks import EcsStage, Hook
from trafficgate.outcome import Outcome
from trafficgate.runner import HookRunner
from trafficgate.verdict import CheckRecord


@dataclass(kw_only=True)
class Waits(Check):
    """Asks to wait ``rounds`` times (counting in its state, as a bake keeps its start), then passes."""

    rounds: int = 1
    after_s: float = 40.0
    seen: list[dict[str, Any]] = field(default_factory=list)

    def run(self, ctx: CheckContext) -> CheckResult:
        self.seen.append(dict(ctx.resumed or {}))
        done = int((ctx.resumed or {}).get("round", 0))
        if done < self.rounds and ctx.can_wait_until(time.time() + self.after_s):
            reason = f"round {done + 1} of {self.rounds}"
            return CheckResult.wait(reason, after_s=self.after_s, state={"round": done + 1})
        return CheckResult.passed(f"done after {done} waits")


@dataclass(kw_only=True)
class Stubborn(Check):
    """Asks to wait whether or not the hook can (a check that ignores ``can_wait_until``)."""

    def run(self, ctx: CheckContext) -> CheckResult:
        return CheckResult.wait("still baking", after_s=60.0, state={})


@dataclass(kw_only=True)
class Counts(Check):
    runs: list[int] = field(default_factory=list)

    def run(self, ctx: CheckContext) -> CheckResult:
        self.runs.append(1)
        return CheckResult.passed("ran")


@dataclass
class Shrinking(FunctionContext):
    """A link with a minute for its checks whose time then drops to ``after_ms``: it waits briefly,
    then hands over (the checks' time never depends on how busy the machine is)."""

    after_ms: int = 6_000
    readings: int = 0

    def get_remaining_time_in_millis(self) -> int:
        self.readings += 1
        # Read at the start (the link's length) and when the checks' deadline is set; then the wait.
        return self.remaining_ms if self.readings <= 2 else self.after_ms


def ecs_event(hook_details: dict[str, Any] | None = None) -> dict[str, Any]:
    event = sample(EcsStage.POST_PRODUCTION_TRAFFIC_SHIFT)
    event["hookDetails"] = hook_details or {}
    return event


# --- ECS: IN_PROGRESS, hookDetails, the same answer again ------------------------------------------


def test_an_ecs_hook_that_waits_answers_in_progress_then_resumes_from_its_hook_details() -> None:
    before, after, waits = Counts(check_id="demo.before"), Counts(check_id="demo.after"), Waits(check_id="demo.waits")
    plan: list[Check] = [before, waits, after]
    runner = HookRunner(settings=Settings(), reporter=FakeReporter())

    first = runner.run_ecs(ecs_event({"team": "payments"}), FixedContext(60_000), plan=plan)

    assert first["hookStatus"] == "IN_PROGRESS"
    assert first["callBackDelay"] in (39, 40)
    assert first["hookDetails"]["team"] == "payments"  # the hook's own configured details are kept
    progress = first["hookDetails"][HOOK_DETAILS_KEY]
    assert progress["waiting"] == {"id": "demo.waits", "state": {"round": 1}}
    assert [record["id"] for record in progress["done"]] == ["demo.before"]
    assert (len(before.runs), len(after.runs)) == (1, 0)  # the plan keeps its order: nothing after the wait

    # ECS hands the returned hookDetails back (through JSON) on the next call of the same hook.
    again = ecs_event(json.loads(json.dumps(first["hookDetails"])))
    assert runner.run_ecs(again, FixedContext(60_000), plan=plan) == {"hookStatus": "SUCCEEDED"}
    assert (len(before.runs), len(after.runs)) == (1, 1)  # what was judged is not run again
    assert waits.seen == [{}, {"round": 1}]

    # The same call delivered twice (a retry after a crash) answers the same.
    assert runner.run_ecs(again, FixedContext(60_000), plan=plan) == {"hookStatus": "SUCCEEDED"}
    assert len(before.runs) == 1


def test_a_failure_before_the_wait_fails_the_stage_at_once() -> None:
    runner = HookRunner(settings=Settings(), reporter=FakeReporter())

    answer = runner.run_ecs(ecs_event(), FixedContext(60_000), plan=[bad(), Waits(check_id="demo.waits")])

    assert answer == {"hookStatus": "FAILED"}


def test_a_failure_recorded_by_an_earlier_call_still_fails_the_stage() -> None:
    # A dry-run failure does not block: it travels in the progress and is reported at the end.
    progress = Progress(
        started_at=time.time(),
        done=(CheckRecord(check_id="demo.before", outcome=Outcome.FAIL, reason="broken", counts=True),),
        waiting_id="demo.waits",
        waiting_state={"round": 1},
    )
    runner = HookRunner(settings=Settings(), reporter=FakeReporter())
    plan: list[Check] = [Counts(check_id="demo.before"), Waits(check_id="demo.waits")]

    answer = runner.run_ecs(ecs_event({HOOK_DETAILS_KEY: progress.to_dict()}), FixedContext(60_000), plan=plan)

    assert answer == {"hookStatus": "FAILED"}


def test_a_check_that_waits_when_the_hook_cannot_is_judged_inconclusive_and_fails_closed() -> None:
    runner = HookRunner(settings=Settings(continuation=False), reporter=FakeReporter())

    assert runner.run_ecs(ecs_event(), FixedContext(60_000), plan=[Stubborn(check_id="demo.stubborn")]) == {
        "hookStatus": "FAILED"
    }
    # A check that asks first decides now instead.
    waits = Waits(check_id="demo.waits")
    assert runner.run_ecs(ecs_event(), FixedContext(60_000), plan=[waits]) == {"hookStatus": "SUCCEEDED"}
    assert waits.seen == [{}]


def test_an_ecs_hook_waits_no_longer_than_max_wait_seconds_from_its_first_call() -> None:
    runner = HookRunner(settings=Settings(max_wait_s=600), reporter=FakeReporter())
    long_ago = Progress(started_at=time.time() - 580, calls=3, waiting_id="demo.waits", waiting_state={"round": 1})
    waits = Waits(check_id="demo.waits", rounds=5)

    answer = runner.run_ecs(ecs_event({HOOK_DETAILS_KEY: long_ago.to_dict()}), FixedContext(60_000), plan=[waits])

    assert answer == {"hookStatus": "SUCCEEDED"}  # 40 s more would pass the 600 s: the check decided
    assert waits.seen == [{"round": 1}]


def test_progress_that_is_not_ours_is_ignored_and_the_stage_starts_again() -> None:
    runner = HookRunner(settings=Settings(), reporter=FakeReporter())
    before = Counts(check_id="demo.before")

    answer = runner.run_ecs(ecs_event({HOOK_DETAILS_KEY: {"v": 99}}), FixedContext(60_000), plan=[before])

    assert answer == {"hookStatus": "SUCCEEDED"}
    assert before.runs == [1]


def test_a_plan_that_changed_while_the_hook_waited_fails_naming_both() -> None:
    progress = Progress(
        started_at=time.time(),
        done=(CheckRecord(check_id="demo.other", outcome=Outcome.PASS, reason="ran"),),
        waiting_id="demo.waits",
    )
    runner = HookRunner(settings=Settings(), reporter=FakeReporter())
    reporter = FakeReporter()
    runner = HookRunner(settings=Settings(), reporter=reporter, continuer=FakeContinuer())
    event = {**EVENT, EVENT_KEY: progress.to_dict()}

    summary = runner.run(Hook.AFTER_ALLOW_TRAFFIC, event, FunctionContext(60_000), plan=[Counts(check_id="demo.new")])

    assert reporter.calls == [(EVENT["DeploymentId"], EVENT["LifecycleEventHookExecutionId"], "Failed")]
    assert "the plan changed while the hook waited: it began with demo.other, now with demo.new" in summary["reason"]


# --- CodeDeploy: links, one report -------------------------------------------------------------------


def test_a_codedeploy_hook_that_waits_past_its_invocation_hands_over_and_only_the_last_link_reports() -> None:
    reporter, continuer = FakeReporter(), FakeContinuer()
    runner = HookRunner(settings=Settings(), reporter=reporter, continuer=continuer)
    before, waits = Counts(check_id="demo.before"), Waits(check_id="demo.waits", after_s=600)
    plan: list[Check] = [before, waits]
    # The checks get a minute; then 6 s are left, 3 of them the deadline margin: the link spends half
    # of the rest waiting, then hands over.
    context = Shrinking(60_000)

    first = runner.run(Hook.AFTER_ALLOW_TRAFFIC, EVENT, context, plan=plan)

    assert reporter.calls == []  # not this link's to report
    assert first["report"] == "continued" and first["status"] == "InProgress"
    assert first["reason"] == "waiting: demo.waits: round 1 of 1"
    ((arn, linked),) = continuer.calls
    assert arn == context.invoked_function_arn  # its own ARN, nothing else
    assert {key: linked[key] for key in EVENT} == EVENT
    progress = linked[EVENT_KEY]
    assert progress["waiting"] == {"id": "demo.waits", "state": {"round": 1}}
    assert progress["not_before"] > time.time() + 500

    # The next link starts long before the wait is over: it hands over again, one call later.
    second = runner.run(Hook.AFTER_ALLOW_TRAFFIC, linked, FunctionContext(6_000), plan=plan)  # runs no check
    assert reporter.calls == [] and second["report"] == "continued"
    assert continuer.calls[1][1][EVENT_KEY]["calls"] == progress["calls"] + 1

    # Once the wait is over, a link judges, and reports, once.
    linked[EVENT_KEY]["not_before"] = time.time()
    last = runner.run(Hook.AFTER_ALLOW_TRAFFIC, linked, Shrinking(60_000), plan=plan)
    assert reporter.calls == [(EVENT["DeploymentId"], EVENT["LifecycleEventHookExecutionId"], "Succeeded")]
    assert last["report"] == "reported"
    assert before.runs == [1] and waits.seen == [{}, {"round": 1}]
    assert len(continuer.calls) == 2


def test_a_short_wait_stays_in_the_invocation() -> None:
    reporter, continuer = FakeReporter(), FakeContinuer()
    runner = HookRunner(settings=Settings(), reporter=reporter, continuer=continuer)
    waits = Waits(check_id="demo.waits", rounds=2, after_s=0.05)

    summary = runner.run(Hook.AFTER_ALLOW_TRAFFIC, EVENT, FunctionContext(120_000), plan=[waits])

    assert continuer.calls == []
    assert [status for _, _, status in reporter.calls] == ["Succeeded"]
    assert waits.seen == [{}, {"round": 1}, {"round": 2}]
    assert summary["reason"] == "1/1 checks passed"


def test_a_next_link_that_cannot_be_started_is_reported_failed_by_this_one() -> None:
    reporter = FakeReporter()
    continuer = FakeContinuer(error=ReportError("lambda Invoke of ... (the next link) failed: AccessDeniedException"))
    runner = HookRunner(settings=Settings(), reporter=reporter, continuer=continuer)

    summary = runner.run(
        Hook.AFTER_ALLOW_TRAFFIC, EVENT, Shrinking(60_000), plan=[Waits(check_id="demo.waits", after_s=600)]
    )

    assert [status for _, _, status in reporter.calls] == ["Failed"]
    assert summary["reason"].startswith("trafficgate.continuation: could not continue past this invocation (")
    assert "AccessDeniedException" in summary["reason"] and "lambda:InvokeFunction" in summary["reason"]


def test_a_codedeploy_hook_without_its_own_arn_decides_within_the_invocation() -> None:
    reporter, continuer = FakeReporter(), FakeContinuer()
    runner = HookRunner(settings=Settings(), reporter=reporter, continuer=continuer)
    waits = Waits(check_id="demo.waits", after_s=600)

    runner.run(Hook.AFTER_ALLOW_TRAFFIC, EVENT, FixedContext(60_000), plan=[waits])

    assert continuer.calls == [] and [s for _, _, s in reporter.calls] == ["Succeeded"]
    assert waits.seen == [{}]


def test_the_chain_stays_within_codedeploys_hour() -> None:
    reporter, continuer = FakeReporter(), FakeContinuer()
    runner = HookRunner(settings=Settings(), reporter=reporter, continuer=continuer)
    # 3460 s in, with links of 60 s: after 40 s more, the next link (60 s) and the margin (60 s)
    # would end past the hour (3460 + 40 + 60 + 60 > 3600), so the check must decide now.
    old = Progress(started_at=time.time() - 3460, calls=5, waiting_id="demo.waits", waiting_state={"round": 1})
    waits = Waits(check_id="demo.waits", rounds=3)

    runner.run(Hook.AFTER_ALLOW_TRAFFIC, {**EVENT, EVENT_KEY: old.to_dict()}, FunctionContext(60_000), plan=[waits])

    assert continuer.calls == [] and [s for _, _, s in reporter.calls] == ["Succeeded"]
    assert waits.seen == [{"round": 1}]


def test_codedeploy_wait_until_leaves_a_whole_link_and_the_margin_before_the_hour() -> None:
    assert codedeploy_wait_until(1000.0, 900.0) == 1000.0 + CODEDEPLOY_HOOK_LIMIT_S - 60.0 - 900.0


@pytest.mark.parametrize(("after_s", "delay"), [(0.0, 1), (0.2, 1), (29.1, 30), (600, 600), (5000, 900)])
def test_callback_delay_is_whole_seconds_between_1_and_900(after_s: float, delay: int) -> None:
    assert callback_delay(after_s) == delay


# --- the progress itself ---------------------------------------------------------------------------


def test_progress_survives_json_and_keeps_records_small() -> None:
    record = CheckRecord(
        check_id="demo.before",
        outcome=Outcome.PASS,
        reason="x" * 5000,
        details={"samples": ["big"] * 1000},
        warnings=("w",),
        dry_run=True,
        counts=False,
    )
    progress = Progress(started_at=1.5, calls=2, done=(record,), waiting_id="demo.waits", waiting_state={"a": 1})

    back = Progress.parse(json.loads(json.dumps(progress.to_dict())))

    assert (back.started_at, back.calls, back.waiting_id, dict(back.waiting_state)) == (1.5, 2, "demo.waits", {"a": 1})
    (kept,) = back.done
    assert (kept.check_id, kept.outcome, kept.dry_run, kept.counts, kept.warnings) == (
        "demo.before",
        Outcome.PASS,
        True,
        False,
        ("w",),
    )
    assert len(kept.reason) == 600 and dict(kept.details) == {}
    assert len(json.dumps(progress.to_dict())) < 1000


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ([], "progress must be a JSON object"),
        ({"v": 2, "started_at": 1}, "progress version 2 is not 1"),
        ({"v": 1}, "progress.started_at"),
        ({"v": 1, "started_at": 1, "calls": -1}, "progress.calls"),
        ({"v": 1, "started_at": 1, "done": {}}, "progress.done"),
        ({"v": 1, "started_at": 1, "waiting": {"state": {}}}, "progress.waiting must be"),
        ({"v": 1, "started_at": 1, "waiting": {"id": "a", "state": []}}, "progress.waiting.state"),
        ({"v": 1, "started_at": 1, "not_before": "soon"}, "progress.not_before"),
        ({"v": 1, "started_at": 1, "done": [{"reason": "no id"}]}, "a check record needs an id"),
    ],
)
def test_bad_progress_is_refused_naming_the_field(data: Any, named: str) -> None:
    with pytest.raises(ValueError, match=named.replace(".", r"\.")):
        Progress.parse(data)


def test_a_link_that_may_no_longer_continue_judges_at_once_instead_of_waiting() -> None:
    reporter, continuer = FakeReporter(), FakeContinuer()
    runner = HookRunner(settings=Settings(continuation=False), reporter=reporter, continuer=continuer)
    early = Progress(started_at=time.time(), calls=1, waiting_id="demo.waits", waiting_state={"round": 1},
                     not_before=time.time() + 600)
    waits = Waits(check_id="demo.waits", rounds=3)

    runner.run(Hook.AFTER_ALLOW_TRAFFIC, {**EVENT, EVENT_KEY: early.to_dict()}, FunctionContext(60_000), plan=[waits])

    assert continuer.calls == [] and [s for _, _, s in reporter.calls] == ["Succeeded"]
    assert waits.seen == [{"round": 1}]


def test_a_link_past_the_hour_judges_now_whatever_its_progress_asks() -> None:
    # A hand-written or damaged event asking to wait until the year 33658: the chain's own bound
    # (CodeDeploy's hour from the first call) wins, and this link judges.
    reporter, continuer = FakeReporter(), FakeContinuer()
    runner = HookRunner(settings=Settings(), reporter=reporter, continuer=continuer)
    stale = Progress(
        started_at=time.time() - 3700, calls=9, waiting_id="demo.waits", waiting_state={"round": 1}, not_before=1e12
    )
    waits = Waits(check_id="demo.waits", rounds=5)

    runner.run(Hook.AFTER_ALLOW_TRAFFIC, {**EVENT, EVENT_KEY: stale.to_dict()}, FunctionContext(60_000), plan=[waits])

    assert continuer.calls == [] and [s for _, _, s in reporter.calls] == ["Succeeded"]
    assert waits.seen == [{"round": 1}]


def test_progress_whose_first_call_is_in_the_future_is_not_trusted() -> None:
    reporter = FakeReporter()
    runner = HookRunner(settings=Settings(), reporter=reporter, continuer=FakeContinuer())
    before = Counts(check_id="demo.before")
    future = Progress(
        started_at=time.time() + 86_400,
        done=(CheckRecord(check_id="demo.before", outcome=Outcome.PASS, reason="forged"),),
    )

    runner.run(Hook.AFTER_ALLOW_TRAFFIC, {**EVENT, EVENT_KEY: future.to_dict()}, FunctionContext(60_000), plan=[before])

    assert before.runs == [1]  # run again, not taken from the progress


def test_a_dry_run_check_never_holds_the_hook() -> None:
    runner = HookRunner(settings=Settings(), reporter=FakeReporter())
    waits = Waits(check_id="demo.waits", policy=Policy(dry_run=True))

    answer = runner.run_ecs(ecs_event(), FixedContext(60_000), plan=[waits])

    assert answer == {"hookStatus": "SUCCEEDED"}
    assert waits.seen == [{}]


def test_a_waiting_state_must_travel_as_json() -> None:
    with pytest.raises(TypeError):
        CheckResult.wait("baking", after_s=5, state={"since": object()})
    with pytest.raises(ValueError):
        CheckResult.wait("baking", after_s=5, state={"since": float("nan")})
