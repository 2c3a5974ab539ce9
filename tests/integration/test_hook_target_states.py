"""``elb.targets_healthy`` through the real AfterInstall and AfterAllowTestTraffic handlers.

The green target group's targets take the states a real load balancer reports (ELBv2
``TargetHealth.State``), set with the stand-in's ``set_target_health``. The deployment is the
``blue_green`` world: green's task set is steady and registered in ``shop-green``, one target
``10.0.1.5:8080`` is in that group, and the AWS-side checks of the two hooks are switched on.

A state that changes while the hook polls is changed right after the check's first
``DescribeTargetHealth`` call (a botocore ``after-call`` handler on the container's own client),
so the second read sees it: no timer, no race, no duration asserted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.lambda_env import REGION
from tests.support.standin_env import BlueGreen, StandInEnv, aws_side_check_ids, invoke_hook
from trafficgate.checks.stopped_tasks import STOPPED_TASKS_CHECK_ID
from trafficgate.checks.targets import TARGETS_HEALTHY_CHECK_ID
from trafficgate.checks.taskset import TASKSET_STEADY_CHECK_ID
from trafficgate.hooks import Hook
from trafficgate.runner import get_runner, reset_runner
from trafficgate_local.lambda_context import LocalLambdaContext
from trafficgate_local.standin import set_target_health

pytestmark = pytest.mark.integration

ContextFactory = Callable[..., LocalLambdaContext]
GREEN_SET = "ecs-svc/2222222222222222222"
BLUE_SET = "ecs-svc/1111111111111111111"
TARGET_IP, TARGET_PORT = "10.0.1.5", 8080
TARGET = f"{TARGET_IP}:{TARGET_PORT}"
#: What a real ALB says about a target of a group no listener or rule forwards to.
NOT_IN_USE = ("Target.NotInUse", "Target group is not configured to receive traffic from the load balancer")
ON = {TASKSET_STEADY_CHECK_ID, TARGETS_HEALTHY_CHECK_ID, STOPPED_TASKS_CHECK_ID}


@dataclass
class GreenTargets:
    """The green target group of the ``blue_green`` world, and a way to steer its one target."""

    standin: StandInEnv
    world: BlueGreen
    arn: str

    def set(self, state: str, reason: str | None = None, description: str | None = None) -> None:
        set_target_health(REGION, self.arn, TARGET_IP, TARGET_PORT, state, reason, description)

    def route_test_listener_to(self, colour: str) -> None:
        """Point the test listener at blue (before AllowTestTraffic) or green (from it on)."""
        elbv2 = self.standin.client("elbv2")
        group = self.world.topology.green_target_group if colour == "green" else self.world.topology.blue_target_group
        arn = elbv2.describe_target_groups(Names=[group])["TargetGroups"][0]["TargetGroupArn"]
        elbv2.modify_listener(
            ListenerArn=self.world.topology.test_listener_arn,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": arn}],
        )

    def reads(self, then: Callable[[int], None] | None = None) -> list[str]:
        """Record each DescribeTargetHealth answer (states, comma-joined) the hook's container gets.

        ``then(n)`` runs after the n-th read (1-based), before the check sees the answer's successor.
        """
        seen: list[str] = []

        def after(model: Any, parsed: dict[str, Any], **_: Any) -> None:
            if model.name != "DescribeTargetHealth":
                return
            descriptions = parsed.get("TargetHealthDescriptions") or []
            seen.append(",".join(d["TargetHealth"]["State"] for d in descriptions))
            if then is not None:
                then(len(seen))

        get_runner().clients.client("elbv2").meta.events.register("after-call", after)
        return seen


@pytest.fixture
def green(standin: StandInEnv, blue_green: BlueGreen, monkeypatch: pytest.MonkeyPatch) -> Iterator[GreenTargets]:
    """Green steady (2/2 running) in ``shop-green`` with one registered target; the install checks on."""
    elbv2 = standin.client("elbv2")
    arn = elbv2.describe_target_groups(Names=["shop-green"])["TargetGroups"][0]["TargetGroupArn"]
    elbv2.register_targets(TargetGroupArn=arn, Targets=[{"Id": TARGET_IP, "Port": TARGET_PORT}])
    standin.control.set_task_sets(
        blue_green.deployment_id,
        [
            {"identifier": BLUE_SET, "label": "Blue", "desired_count": 2, "running_count": 2,
             "traffic_weight": 100.0, "target_group_name": "shop-blue", "status": "PRIMARY"},
            {"identifier": GREEN_SET, "label": "Green", "desired_count": 2, "running_count": 2,
             "traffic_weight": 0.0, "target_group_name": "shop-green"},
        ],
    )  # fmt: skip
    disabled = [check_id for check_id in aws_side_check_ids().split(",") if check_id not in ON]
    monkeypatch.setenv("TRAFFICGATE_DISABLED_CHECKS", ",".join(disabled))
    reset_runner()
    yield GreenTargets(standin, blue_green, arn)


def check(summary: dict[str, Any], check_id: str = TARGETS_HEALTHY_CHECK_ID) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in summary["checks"] if c["id"] == check_id)
    return found


def recorded(standin: StandInEnv, deployment_id: str) -> list[tuple[str, str]]:
    return [(s.lifecycle_event_name, s.status) for s in standin.control.statuses(deployment_id)]


def test_after_install_passes_unused_green_targets_with_a_note(
    standin: StandInEnv, green: GreenTargets, lambda_context: ContextFactory
) -> None:
    # Before AllowTestTraffic no listener forwards to green: a real ALB calls its targets unused.
    green.route_test_listener_to("blue")
    green.set("unused", *NOT_IN_USE)
    reads = green.reads()

    summary = invoke_hook(standin, Hook.AFTER_INSTALL, green.world.deployment_id, lambda_context())

    assert summary["status"] == "Succeeded", summary["reason"]
    assert [(c["id"], c["outcome"]) for c in summary["checks"]] == [
        (TASKSET_STEADY_CHECK_ID, "pass"),
        (TARGETS_HEALTHY_CHECK_ID, "pass"),
        (STOPPED_TASKS_CHECK_ID, "pass"),
    ]
    targets = check(summary)
    note = (
        "1/1 targets unused in green target group shop-green: no listener forwards to it before "
        "AllowTestTraffic, so the load balancer has not judged them yet; the task set and the stopped tasks "
        "judge green for now"
    )
    assert targets["reason"] == note
    assert targets["warnings"] == [note]
    assert reads == ["unused"]  # judged at once: unused is the normal state here, nothing to wait for
    assert recorded(standin, green.world.deployment_id) == [("AfterInstall", "Succeeded")]


def test_after_allow_test_traffic_fails_when_green_targets_stay_unused(
    standin: StandInEnv, green: GreenTargets, monkeypatch: pytest.MonkeyPatch, lambda_context: ContextFactory
) -> None:
    # From AllowTestTraffic on, green must be behind a listener: unused is waited for, then fails.
    green.route_test_listener_to("green")
    green.set("unused", *NOT_IN_USE)
    monkeypatch.setenv("TRAFFICGATE_STEADY_TIMEOUT_S", "0")
    reset_runner()

    summary = invoke_hook(standin, Hook.AFTER_ALLOW_TEST_TRAFFIC, green.world.deployment_id, lambda_context())

    assert summary["status"] == "Failed"
    assert re.fullmatch(
        rf"{TARGETS_HEALTHY_CHECK_ID}: 1/1 targets not healthy in green target group shop-green after \d+ s: "
        rf"{re.escape(TARGET)} unused \(Target\.NotInUse: {re.escape(NOT_IN_USE[1])}\)",
        summary["reason"],
    ), summary["reason"]
    assert check(summary)["outcome"] == "fail"
    assert recorded(standin, green.world.deployment_id) == [("AfterAllowTestTraffic", "Failed")]


def test_after_allow_test_traffic_waits_for_unused_targets_to_be_taken_into_use(
    standin: StandInEnv, green: GreenTargets, lambda_context: ContextFactory
) -> None:
    # The listener was just switched to green; the load balancer starts judging its targets.
    green.route_test_listener_to("green")
    green.set("unused", *NOT_IN_USE)
    reads = green.reads(then=lambda n: green.set("healthy") if n == 1 else None)

    summary = invoke_hook(standin, Hook.AFTER_ALLOW_TEST_TRAFFIC, green.world.deployment_id, lambda_context())

    assert summary["status"] == "Succeeded", summary["reason"]
    assert reads == ["unused", "healthy"]
    assert check(summary)["reason"] == "1/1 targets healthy in green target group shop-green (seen: unused -> healthy)"
    assert len(green.world.green.app.requests) > 0  # and then the test listener was probed


@pytest.mark.parametrize(
    ("state", "reason", "description"),
    [
        ("initial", "Elb.RegistrationInProgress", "Target registration is in progress"),
        ("draining", "Target.DeregistrationInProgress", "Target deregistration is in progress"),
    ],
)
@pytest.mark.parametrize("hook", [Hook.AFTER_INSTALL, Hook.AFTER_ALLOW_TEST_TRAFFIC], ids=lambda h: h.value)
def test_settling_targets_are_polled_until_healthy(
    hook: Hook,
    state: str,
    reason: str,
    description: str,
    standin: StandInEnv,
    green: GreenTargets,
    lambda_context: ContextFactory,
) -> None:
    green.route_test_listener_to("blue" if hook is Hook.AFTER_INSTALL else "green")
    green.set(state, reason, description)
    reads = green.reads(then=lambda n: green.set("healthy") if n == 1 else None)

    summary = invoke_hook(standin, hook, green.world.deployment_id, lambda_context())

    assert summary["status"] == "Succeeded", summary["reason"]
    assert reads == [state, "healthy"]  # a second read: the first answer was not taken as the verdict
    targets = check(summary)
    assert targets["reason"] == f"1/1 targets healthy in green target group shop-green (seen: {state} -> healthy)"
    assert targets["details"]["states_seen"] == [state, "healthy"]
    assert recorded(standin, green.world.deployment_id) == [(hook.value, "Succeeded")]


@pytest.mark.parametrize(
    ("state", "reason"),
    [("initial", "Elb.RegistrationInProgress"), ("draining", "Target.DeregistrationInProgress")],
)
def test_targets_that_never_settle_fail_at_the_steady_timeout_naming_their_state(
    state: str,
    reason: str,
    standin: StandInEnv,
    green: GreenTargets,
    monkeypatch: pytest.MonkeyPatch,
    lambda_context: ContextFactory,
) -> None:
    green.route_test_listener_to("blue")
    green.set(state, reason)
    monkeypatch.setenv("TRAFFICGATE_STEADY_TIMEOUT_S", "0")
    reset_runner()

    summary = invoke_hook(standin, Hook.AFTER_INSTALL, green.world.deployment_id, lambda_context())

    assert summary["status"] == "Failed"
    assert re.fullmatch(
        rf"{TARGETS_HEALTHY_CHECK_ID}: 1/1 targets not healthy in green target group shop-green after \d+ s: "
        rf"{re.escape(TARGET)} {state} \({re.escape(reason)}\)",
        summary["reason"],
    ), summary["reason"]


@pytest.mark.parametrize(
    ("state", "reason", "description"),
    [
        ("unhealthy", "Target.ResponseCodeMismatch", "Health checks failed with these codes: [502]"),
        # Unhealthy, and being drained for it (a target group with unhealthy-state connection termination).
        ("unhealthy.draining", "Target.FailedHealthChecks", "Health checks failed"),
    ],
)
@pytest.mark.parametrize("hook", [Hook.AFTER_INSTALL, Hook.AFTER_ALLOW_TEST_TRAFFIC], ids=lambda h: h.value)
def test_an_unhealthy_target_fails_at_once_naming_the_load_balancers_reason(
    hook: Hook,
    state: str,
    reason: str,
    description: str,
    standin: StandInEnv,
    green: GreenTargets,
    lambda_context: ContextFactory,
) -> None:
    green.route_test_listener_to("blue" if hook is Hook.AFTER_INSTALL else "green")
    green.set(state, reason, description)
    reads = green.reads()

    # The default steady timeout (60 s) is left as is: only a verdict at the first read passes here.
    summary = invoke_hook(standin, hook, green.world.deployment_id, lambda_context())

    assert summary["status"] == "Failed"
    assert summary["reason"] == (
        f"{TARGETS_HEALTHY_CHECK_ID}: 1/1 targets unhealthy in green target group shop-green: {TARGET} {state} "
        f"({reason}: {description})"
    )
    assert reads == [state]
    assert recorded(standin, green.world.deployment_id) == [(hook.value, "Failed")]
