"""Amazon ECS native lifecycle hooks: the stages, the event, and the runner's answer (returned, never reported)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.fakes import FakeReporter, FixedContext
from tests.unit.test_runner import Raises, bad, ok
from trafficgate.checks.base import Check
from trafficgate.config import Settings
from trafficgate.context import CheckContext
from trafficgate.event import EcsHookEvent
from trafficgate.exceptions import ConfigError, InvalidEventError
from trafficgate.hooks import EcsStage, Hook
from trafficgate.runner import HookRunner

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events" / "ecs"


def sample(stage: EcsStage) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"{stage.value.lower()}.json").read_text())
    return event


# --- stages ----------------------------------------------------------------------------------------


def test_stages_map_onto_the_codedeploy_plans() -> None:
    assert {stage: stage.hook for stage in EcsStage if stage.hook is not None} == {
        EcsStage.PRE_SCALE_UP: Hook.BEFORE_INSTALL,
        EcsStage.POST_SCALE_UP: Hook.AFTER_INSTALL,
        EcsStage.POST_TEST_TRAFFIC_SHIFT: Hook.AFTER_ALLOW_TEST_TRAFFIC,
        EcsStage.PRE_PRODUCTION_TRAFFIC_SHIFT: Hook.BEFORE_ALLOW_TRAFFIC,
        EcsStage.POST_PRODUCTION_TRAFFIC_SHIFT: Hook.AFTER_ALLOW_TRAFFIC,
    }
    assert [s for s in EcsStage if s.hook is None] == [
        EcsStage.RECONCILE_SERVICE,
        EcsStage.TEST_TRAFFIC_SHIFT,
        EcsStage.PRODUCTION_TRAFFIC_SHIFT,
    ]


def test_stage_order_is_ecs_order_not_alphabetical() -> None:
    assert [s.position for s in EcsStage] == list(range(8))
    assert [s.test_traffic_shifted for s in EcsStage] == [False] * 4 + [True] * 4
    # As strings, POST_PRODUCTION... < PRE_SCALE_UP: the reason position exists.
    assert EcsStage.POST_PRODUCTION_TRAFFIC_SHIFT < EcsStage.PRE_SCALE_UP


def test_stage_parse_is_forgiving_about_case_and_dashes_and_names_the_choices() -> None:
    assert EcsStage.parse("post-test-traffic-shift") is EcsStage.POST_TEST_TRAFFIC_SHIFT
    with pytest.raises(ValueError, match="unknown ECS lifecycle stage 'AFTER_INSTALL'; expected one of: RECONCILE"):
        EcsStage.parse("AFTER_INSTALL")


# --- the event -------------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", list(EcsStage))
def test_every_sample_event_parses(stage: EcsStage) -> None:
    event = EcsHookEvent.parse(sample(stage))
    assert event.stage is stage
    assert event.deployment_id == event.resource_arn
    assert ":service-deployment/trafficgate-sample/web/" in event.resource_arn
    assert event.target_revision_arn.endswith("/6102744891234007654")
    assert sum(event.test_traffic_weights.values()) == sum(event.production_traffic_weights.values()) == 100


def _without(path: str) -> dict[str, Any]:
    event = copy.deepcopy(sample(EcsStage.POST_TEST_TRAFFIC_SHIFT))
    *parents, last = path.split(".")
    node = event
    for key in parents:
        node = node[key]
    del node[last]
    return event


def _with(path: str, value: Any) -> dict[str, Any]:
    event = copy.deepcopy(sample(EcsStage.POST_TEST_TRAFFIC_SHIFT))
    *parents, last = path.split(".")
    node = event
    for key in parents:
        node = node[key]
    node[last] = value
    return event


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ([], "event must be a JSON object with executionId, lifecycleStage, resourceArn and executionDetails"),
        (_without("executionId"), "not an ECS lifecycle hook event: executionId missing"),
        (_with("executionId", 7), "executionId must be a non-empty string, got int"),
        (_with("lifecycleStage", "AfterInstall"), "lifecycleStage: unknown ECS lifecycle stage 'AfterInstall'"),
        (_with("resourceArn", "arn:aws:ecs:us-east-1:123456789012:service/c/s"), "is not an ECS service deployment"),
        (_without("executionDetails"), "executionDetails: missing, or not an object"),
        (_without("executionDetails.serviceArn"), "executionDetails.serviceArn missing"),
        (_with("executionDetails.targetServiceRevisionArn", ""), "executionDetails.targetServiceRevisionArn must"),
        (_with("executionDetails.testTrafficWeights", {"r": 101}), "executionDetails.testTrafficWeights must map"),
        (_with("executionDetails.productionTrafficWeights", ["r"]), "productionTrafficWeights must map"),
        (_with("hookDetails", "resume"), "hookDetails must be a JSON object, got str"),
    ],
)
def test_a_bad_event_names_the_field(event: Any, message: str) -> None:
    with pytest.raises(InvalidEventError, match=message.replace("(", r"\(").replace(")", r"\)")):
        EcsHookEvent.parse(event)


def test_absent_weights_and_hook_details_read_as_empty() -> None:
    event = _without("hookDetails")
    del event["executionDetails"]["testTrafficWeights"]
    parsed = EcsHookEvent.parse(event)
    assert parsed.hook_details == {} and parsed.test_traffic_weights == {}


# --- the runner's answer ---------------------------------------------------------------------------


def run(stage: EcsStage, plan: list[Check] | None = None, settings: Settings | ConfigError | None = None) -> Any:
    reporter = FakeReporter()
    runner = HookRunner(settings=settings if settings is not None else Settings(), reporter=reporter)
    seen: list[tuple[Hook, CheckContext]] = []

    def factory(hook: Hook, ctx: CheckContext) -> list[Check]:
        seen.append((hook, ctx))
        return plan or []

    answer = runner.run_ecs(sample(stage), FixedContext(60_000), plan=factory)
    assert reporter.calls == []  # ECS reads the return value: nothing is reported anywhere
    return answer, seen


@pytest.mark.parametrize("stage", [s for s in EcsStage if s.hook is None])
def test_a_stage_without_a_codedeploy_hook_runs_its_own_plan(stage: EcsStage) -> None:
    # Plans may name these stages (PRODUCTION_TRAFFIC_SHIFT has a built-in step gate): the plan runs,
    # with the stage and the step's production weights in the context.
    answer, seen = run(stage, [bad()])
    assert answer == {"hookStatus": "FAILED"}
    ((hook, ctx),) = seen
    assert hook is stage.moment and ctx.ecs_stage is stage
    assert ctx.production_traffic_weights == sample(stage)["executionDetails"].get("productionTrafficWeights", {})
    answer, _ = run(stage, [])
    assert answer == {"hookStatus": "SUCCEEDED"}


@pytest.mark.parametrize("stage", [s for s in EcsStage if s.hook is not None])
def test_a_stage_runs_its_hooks_plan_against_the_service_deployment(stage: EcsStage) -> None:
    answer, seen = run(stage, [ok()])
    assert answer == {"hookStatus": "SUCCEEDED"}
    ((hook, ctx),) = seen
    assert hook is stage.hook and ctx.ecs_stage is stage
    assert ctx.platform == "ecs" and ctx.deployment_id == sample(stage)["resourceArn"]
    assert ctx.test_traffic_shifted is stage.test_traffic_shifted
    assert ctx.ecs_targets() == ()  # no CodeDeploy deployment targets on ECS


def test_a_failing_check_answers_failed() -> None:
    answer, _ = run(EcsStage.POST_TEST_TRAFFIC_SHIFT, [ok(), bad()])
    assert answer == {"hookStatus": "FAILED"}


def test_a_check_that_raises_answers_failed() -> None:
    answer, _ = run(EcsStage.PRE_SCALE_UP, [Raises(check_id="demo.raises", error=RuntimeError("boom"))])
    assert answer == {"hookStatus": "FAILED"}


def test_an_invalid_configuration_answers_failed() -> None:
    answer, seen = run(EcsStage.POST_SCALE_UP, [ok()], settings=ConfigError("TRAFFICGATE_PROBE_REQUESTS='x'"))
    assert answer == {"hookStatus": "FAILED"} and seen == []


@pytest.mark.parametrize("event", [{}, {"DeploymentId": "d-ABCDEFGH1", "LifecycleEventHookExecutionId": "x"}, "x"])
def test_an_invalid_event_answers_failed_rather_than_raising(event: Any) -> None:
    runner = HookRunner(settings=Settings(), reporter=FakeReporter())
    assert runner.run_ecs(event, FixedContext(60_000), plan=[ok()]) == {"hookStatus": "FAILED"}
