"""The ECS-native conductor: plays an Amazon ECS blue/green (LINEAR, CANARY) service deployment locally.

Same stage as the CodeDeploy conductor (:mod:`.conductor`): the stand-in, the local load balancer,
the two real apps, the simulated users. The service is ECS's own (:mod:`.ecs_topology`), and the
sequence is ECS's: each lifecycle stage in order, the stand-in's service deployment moved to it
first (so DescribeServiceDeployments shows what ECS would), and the EcsLifecycleHook function
called through its real handler with a real ECS lifecycle event. The answer is the function's
return value (:mod:`.ecs_hook_calls`):

* ``SUCCEEDED``: on to the next stage.
* ``IN_PROGRESS``: called again after ``callBackDelay`` seconds (30 when absent) times the time
  scale, with the ``hookDetails`` it returned; for at most the hook's timeout (ECS's default,
  ``timeoutInMinutes`` 1440, times the time scale), whose default action is ROLLBACK.
* ``FAILED``, no valid ``hookStatus``, an error, or no answer: rollback. Both listener rules go
  back to blue (in the stand-in and the local load balancer), ECS calls the TEST_TRAFFIC_SHIFT
  and PRODUCTION_TRAFFIC_SHIFT hooks again (their answers are recorded; they cannot stop it), and
  the service deployment ends ROLLBACK_SUCCESSFUL.

RECONCILE_SERVICE runs only when the deployment starts with more than one active revision, as on
ECS; PRE_PRODUCTION_TRAFFIC_SHIFT is a hook stage without a deployment stage of its own (the
deployment stays at POST_TEST_TRAFFIC_SHIFT meanwhile, as ``ServiceDeploymentLifecycleStage`` has none).
With a linear or canary strategy it is called before every production step, and
PRODUCTION_TRAFFIC_SHIFT at every step, as ECS calls them.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from trafficgate import constants
from trafficgate.checks.targets import TargetsHealthy
from trafficgate.config import DEFAULT_PLAN_SSM_PREFIX
from trafficgate.hooks import EcsStage
from trafficgate_local.rehearsal.conductor import _SETTLE_GUARD_S, Layout, Rehearsal
from trafficgate_local.rehearsal.ecs_config import EcsStrategy, ecs_strategy
from trafficgate_local.rehearsal.ecs_hook_calls import EcsAnswer, EcsHookCaller
from trafficgate_local.rehearsal.ecs_topology import (
    HOST,
    EcsTopology,
    build_ecs_topology,
    forward,
    rule_weights,
    weights_by_revision,
)
from trafficgate_local.rehearsal.processes import start_app
from trafficgate_local.rehearsal.timeline import HookRun
from trafficgate_local.rehearsal.topology import CLUSTER, SERVICE
from trafficgate_local.standin import add_task
from trafficgate_local.template import FunctionSpec, find_function

__all__ = ["HOOK_TIMEOUT_MINUTES", "EcsRehearsal"]

#: ECS's default lifecycle hook timeout (``timeoutConfiguration.timeoutInMinutes``: 1440, 24 hours;
#: action ROLLBACK): how long one stage's hook may keep answering IN_PROGRESS, times the time scale.
HOOK_TIMEOUT_MINUTES = 1440.0


class _Failed(Exception):
    """A stage's hook failed: roll back."""

    def __init__(self, stage: str, reason: str) -> None:
        super().__init__(reason)
        self.stage = stage
        self.reason = reason


class EcsRehearsal(Rehearsal):
    """One ECS-native rehearsal (``--platform ecs``). Use :func:`~.conductor.rehearse`."""

    user_load_host = HOST
    hook_caller_class = EcsHookCaller

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.strategy: EcsStrategy = ecs_strategy(self.options.deployment_config)
        self._green_percent = 0.0  # of production traffic
        self._test_on_green = False
        self._ecs_spec: dict[str, FunctionSpec] = {}

    # -- set-up ------------------------------------------------------------------------------

    @property
    def layout(self) -> Layout:
        return self.ecs

    def _spec(self) -> FunctionSpec:
        if "ecs" not in self._ecs_spec:
            self._ecs_spec["ecs"] = find_function(
                self.options.template, EcsStage.RECONCILE_SERVICE, region=self.options.region
            )
        return self._ecs_spec["ecs"]

    def _build(self, prod_port: int, test_port: int) -> None:
        opts = self.options
        self.ecs: EcsTopology = build_ecs_topology(
            self.aws,
            region=opts.region,
            scenario=opts.scenario,
            strategy=self.strategy,
            bake_minutes=opts.bake_minutes,
            blue=self.blue,
            prod_port=prod_port,
            test_port=test_port,
            function_name=self._spec().function_name,
        )

    def _deployment_text(self) -> str:
        return (
            f"service deployment {self.deployment_id} created: {CLUSTER}/{SERVICE}, {self.strategy} "
            f"(bake {self.options.bake_minutes:g} min), lifecycle hook {self.ecs.function_arn} at every stage"
        )

    def _approval(self) -> tuple[str, str]:
        prefix = self.options.env.get(constants.PLAN_SSM_PREFIX) or DEFAULT_PLAN_SSM_PREFIX
        return f"{prefix}/{CLUSTER}/{SERVICE}/approval", f"approve {self.deployment_id}"

    def _production_weights(self) -> dict[str, int]:
        return rule_weights(self.aws.elbv2, self.ecs.prod_rule, self.ecs.target_group_names())

    # -- the sequence ------------------------------------------------------------------------

    def _play(self) -> tuple[str, str, str | None]:
        try:
            if self._record().lifecycle_stage == EcsStage.RECONCILE_SERVICE.value:
                self._hook(EcsStage.RECONCILE_SERVICE)
            else:
                self.timeline.emit(
                    "stage",
                    "RECONCILE_SERVICE: not run (ECS runs it only when more than one service revision is active)",
                    stage="RECONCILE_SERVICE",
                    skipped=True,
                )
            self._stage(EcsStage.PRE_SCALE_UP.value)
            self._hook(EcsStage.PRE_SCALE_UP)
            self._stage("SCALE_UP")
            self._scale_up()
            self._stage(EcsStage.POST_SCALE_UP.value)
            self._hook(EcsStage.POST_SCALE_UP)
            self._stage(EcsStage.TEST_TRAFFIC_SHIFT.value)
            self._shift_test_traffic()
            self._hook(EcsStage.TEST_TRAFFIC_SHIFT)
            self._stage(EcsStage.POST_TEST_TRAFFIC_SHIFT.value)
            self._hook(EcsStage.POST_TEST_TRAFFIC_SHIFT)
            self._hook(EcsStage.PRE_PRODUCTION_TRAFFIC_SHIFT)
            self._stage(EcsStage.PRODUCTION_TRAFFIC_SHIFT.value)
            self._shift_production_traffic()
            self._stage(EcsStage.POST_PRODUCTION_TRAFFIC_SHIFT.value)
            self._hook(EcsStage.POST_PRODUCTION_TRAFFIC_SHIFT)
        except _Failed as failed:
            reason = f"{failed.stage} FAILED: {failed.reason}"
            self._rollback(failed.stage, reason)
            return "Failed", reason, failed.stage
        self._stage("BAKE_TIME")
        bake = self.options.bake_minutes * 60.0 * self.options.time_scale
        self.timeline.emit(
            "bake",
            f"BAKE_TIME: {bake:.1f} s (bakeTimeInMinutes {self.options.bake_minutes:g})",
            wait_s=round(bake, 3),
        )
        self.timeline.sleep(bake, "bake")
        self._stage("CLEAN_UP")
        self._set_ecs_status("SUCCESSFUL", None)
        return "Succeeded", "every lifecycle hook returned SUCCEEDED; production traffic on green", None

    def _record(self) -> Any:
        return self.stand_in.service_deployment(self.deployment_id)

    def _stage(self, stage: str) -> None:
        self.stand_in.set_service_deployment_stage(self.deployment_id, stage)
        self.timeline.emit("stage", f"service deployment → {stage}", stage=stage)
        if self.green_address is not None:
            self.green_health.observe()

    def _set_ecs_status(self, status: str, reason: str | None) -> None:
        self.stand_in.set_service_deployment_status(self.deployment_id, status, reason)
        self.deployment_status = status
        self.timeline.emit("status", f"service deployment status {status}", status=status)

    def _scale_up(self) -> None:
        opts = self.options
        self.green_address = start_app("green", opts.green_url, opts.green_command, self.green_behaviour, self._stack)
        if opts.scenario == "oom":
            # A green task ECS started and the kernel killed: the service's stopped task on green's definition.
            add_task(
                opts.region,
                CLUSTER,
                self.ecs.task_definition,
                "ecs-svc/green-revision",
                last_status="STOPPED",
                stopped_reason="Essential container in task exited",
                container_reason="OutOfMemoryError: Container killed due to memory usage",
                stop_code="EssentialContainerExited",
                exit_code=137,
                group=f"service:{SERVICE}",
            )
        self.aws.elbv2.register_targets(
            TargetGroupArn=self.ecs.green_tg,
            Targets=[{"Id": self.green_address[0], "Port": self.green_address[1]}],
        )
        self.green_health.observe()  # unused: no rule forwards to green before TEST_TRAFFIC_SHIFT
        self.timeline.emit(
            "install",
            f"SCALE_UP: green revision running (green at {self.green_address[0]}:{self.green_address[1]})",
        )

    def _shift_test_traffic(self) -> None:
        forward(self.aws.elbv2, self.ecs.test_rule, {self.ecs.green_tg: 100.0})
        self.lb.refresh()
        self._test_on_green = True
        self.timeline.emit(
            "traffic", "TEST_TRAFFIC_SHIFT: test listener rule → green (100%)", listener="test", green_percent=100
        )
        # As the CodeDeploy conductor at AllowTestTraffic: wait out first health checks shorter than
        # elb.targets_healthy's poll interval (see Rehearsal._allow_test_traffic).
        initial_s = self.options.initial_health_s
        if initial_s <= TargetsHealthy().poll_interval_s:
            self.green_health.settle(initial_s + _SETTLE_GUARD_S)
        else:
            self.green_health.observe()

    def _shift_production_traffic(self) -> None:
        steps = self.strategy.steps()
        for index, (percent, wait_s) in enumerate(steps, 1):
            if index > 1:
                # ECS calls PRE_PRODUCTION_TRAFFIC_SHIFT before every step of a linear or canary
                # deployment, not only before the first (API reference, lifecycleStages).
                self._hook(EcsStage.PRE_PRODUCTION_TRAFFIC_SHIFT, step=index)
            forward(self.aws.elbv2, self.ecs.prod_rule, {self.ecs.blue_tg: 100.0 - percent, self.ecs.green_tg: percent})
            self.lb.refresh()
            self._green_percent = percent
            wait = wait_s * self.options.time_scale
            self.timeline.emit(
                "traffic",
                f"PRODUCTION_TRAFFIC_SHIFT step {index}/{len(steps)}: production listener rule → green {percent:g}%, "
                f"blue {100 - percent:g}%" + (f"; bake {wait:.1f} s (config {wait_s:.0f} s)" if wait else ""),
                listener="prod",
                step=index,
                green_percent=percent,
                wait_s=round(wait, 3),
            )
            self._hook(EcsStage.PRODUCTION_TRAFFIC_SHIFT, step=index)
            self.timeline.sleep(wait, f"bake {percent:g}%")

    # -- the hook calls ----------------------------------------------------------------------

    def _event(self, stage: EcsStage, execution_id: str, hook_details: dict[str, Any]) -> dict[str, Any]:
        test_green = 100.0 if self._test_on_green else 0.0
        return {
            "executionId": execution_id,
            "lifecycleStage": stage.value,
            "resourceArn": self.deployment_id,
            "executionDetails": {
                "serviceArn": self.ecs.service_arn,
                "targetServiceRevisionArn": self.ecs.target_revision_arn,
                "testTrafficWeights": weights_by_revision(self.ecs, test_green),
                "productionTrafficWeights": weights_by_revision(self.ecs, self._green_percent),
            },
            "hookDetails": hook_details,
        }

    def _call(self, stage: EcsStage, event: dict[str, Any], *, rollback: bool = False) -> tuple[HookRun, EcsAnswer]:
        assert isinstance(self.hooks, EcsHookCaller)
        run, answer = self.hooks.call_stage(stage, self._spec(), event, rollback=rollback)
        self._hook_runs.append(run)
        return run, answer

    def _hook(self, stage: EcsStage, *, step: int | None = None) -> None:
        """Call ``stage``'s hook until it answers SUCCEEDED (return) or anything else (raise _Failed)."""
        execution_id = str(uuid.uuid4())
        limit_s = HOOK_TIMEOUT_MINUTES * 60.0 * self.options.time_scale
        started = time.monotonic()
        details: dict[str, Any] = {}
        calls = 0
        while True:
            calls += 1
            run, answer = self._call(stage, self._event(stage, execution_id, details))
            if answer.hook_status == "SUCCEEDED":
                return
            if answer.hook_status != "IN_PROGRESS":
                raise _Failed(stage.value, run.reason)
            delay = answer.callback_delay_s * self.options.time_scale
            waited = time.monotonic() - started
            if waited + delay > limit_s:
                raise _Failed(
                    stage.value,
                    f"still IN_PROGRESS after {calls} calls; calling again in {delay:.1f} s would pass the hook "
                    f"timeout of {limit_s:.1f} s (timeoutInMinutes {HOOK_TIMEOUT_MINUTES:g} x time scale "
                    f"{self.options.time_scale:g}), whose action is ROLLBACK",
                )
            details = answer.hook_details
            self.timeline.emit(
                "callback",
                f"{stage.value}: IN_PROGRESS, called again in {delay:.2f} s "
                f"(callBackDelay {answer.callback_delay_s:g} s x time scale {self.options.time_scale:g})",
                hook=stage.value,
                delay_s=round(delay, 3),
                step=step,
            )
            self.timeline.sleep(delay, f"{stage.value} callBackDelay")

    # -- rollback ------------------------------------------------------------------------------

    def _rollback(self, stage: str, reason: str) -> None:
        self._set_ecs_status("ROLLBACK_IN_PROGRESS", reason)
        forward(self.aws.elbv2, self.ecs.prod_rule, {self.ecs.blue_tg: 100.0})
        forward(self.aws.elbv2, self.ecs.test_rule, {self.ecs.blue_tg: 100.0})
        self.lb.refresh()
        self._green_percent = 0.0
        self._test_on_green = False
        self.timeline.emit(
            "rollback",
            f"ROLLBACK after {stage}: production and test listener rules → blue; "
            "ECS calls the traffic-shift hooks again",
            step=stage,
            reason=reason,
        )
        # ECS calls these again while rolling back; what they answer is recorded, and cannot stop it.
        for again in (EcsStage.TEST_TRAFFIC_SHIFT, EcsStage.PRODUCTION_TRAFFIC_SHIFT):
            self._call(again, self._event(again, str(uuid.uuid4()), {}), rollback=True)
        self._set_ecs_status("ROLLBACK_SUCCESSFUL", reason)
        if self.green_address is not None:
            self.green_health.observe()  # nothing forwards to green any more: unused again
