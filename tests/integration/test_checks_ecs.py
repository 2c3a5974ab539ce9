"""AfterInstall checks against moto (extended by the stand-in) through real boto3 clients."""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.support.lambda_env import REGION
from trafficgate.aws import AwsClients
from trafficgate.checks.base import Outcome
from trafficgate.checks.stopped_tasks import STOPPED_TASKS_CHECK_ID, StoppedTasks
from trafficgate.checks.targets import TARGETS_HEALTHY_CHECK_ID, TargetsHealthy
from trafficgate.checks.taskset import TASKSET_STEADY_CHECK_ID, TaskSetSteady
from trafficgate.config import Settings
from trafficgate.context import CheckContext
from trafficgate.hooks import Hook
from trafficgate.plan import default_plan
from trafficgate_local.standin import StandIn, ecs_revision
from trafficgate_local.standin.ecs import add_task, install_ecs, set_target_health

pytestmark = pytest.mark.integration

CLUSTER = "shop-cluster"
SERVICE = "shop-web"
GREEN_ID = "ecs-svc/2222222222222222222"
BLUE_ID = "ecs-svc/1111111111111111111"


@dataclass
class World:
    """A blue/green ECS service behind an ALB, its CodeDeploy group and one deployment."""

    stand_in: StandIn
    deployment_id: str
    task_definition: str
    blue_tg: str
    green_tg: str
    lb_arn: str

    def task_sets(self, *, running: int, desired: int = 2, pending: int | None = None) -> None:
        self.stand_in.set_task_sets(
            self.deployment_id,
            [
                _task_set(BLUE_ID, "Blue", 2, 2, 0, "shop-blue"),
                _task_set(
                    GREEN_ID, "Green", desired, running, desired - running if pending is None else pending, "shop-green"
                ),
            ],
        )


def _task_set(identifier: str, label: str, desired: int, running: int, pending: int, tg: str) -> dict[str, Any]:
    return {
        "identifier": identifier,
        "label": label,
        "desired_count": desired,
        "running_count": running,
        "pending_count": pending,
        "traffic_weight": 100.0 if label == "Blue" else 0.0,
        "target_group_name": tg,
    }


@pytest.fixture
def world() -> Iterator[World]:
    with mock_aws():
        install_ecs()
        stand_in = StandIn(REGION)
        ec2, elbv2 = boto3.client("ec2"), boto3.client("elbv2")
        ecs, codedeploy = boto3.client("ecs"), boto3.client("codedeploy")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}")["Subnet"][
                "SubnetId"
            ]
            for i, z in ((1, "a"), (2, "b"))
        ]
        lb = elbv2.create_load_balancer(Name="shop", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
        tgs = {
            name: elbv2.create_target_group(Name=name, Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip")[
                "TargetGroups"
            ][0]["TargetGroupArn"]
            for name in ("shop-blue", "shop-green")
        }
        listener = elbv2.create_listener(
            LoadBalancerArn=lb,
            Protocol="HTTP",
            Port=80,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": tgs["shop-blue"]}],
        )["Listeners"][0]["ListenerArn"]
        ecs.create_cluster(clusterName=CLUSTER)
        task_def = ecs.register_task_definition(
            family="shop",
            networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            cpu="256",
            memory="512",
            containerDefinitions=[{"name": "web", "image": "shop:2", "essential": True}],
        )["taskDefinition"]["taskDefinitionArn"]
        codedeploy.create_application(applicationName="shop", computePlatform="ECS")
        codedeploy.create_deployment_group(
            applicationName="shop",
            deploymentGroupName="shop-dg",
            serviceRoleArn="arn:aws:iam::123456789012:role/codedeploy",
            deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
            ecsServices=[{"clusterName": CLUSTER, "serviceName": SERVICE}],
            loadBalancerInfo={
                "targetGroupPairInfoList": [
                    {
                        "targetGroups": [{"name": "shop-blue"}, {"name": "shop-green"}],
                        "prodTrafficRoute": {"listenerArns": [listener]},
                    }
                ]
            },
        )
        deployment_id = codedeploy.create_deployment(
            applicationName="shop",
            deploymentGroupName="shop-dg",
            revision=ecs_revision(task_def, "web", 8080),
        )["deploymentId"]
        world = World(stand_in, deployment_id, task_def, tgs["shop-blue"], tgs["shop-green"], lb)
        world.task_sets(running=2)
        yield world


def make_ctx(world: World, **settings: Any) -> CheckContext:
    return CheckContext(
        hook=Hook.AFTER_INSTALL,
        deployment_id=world.deployment_id,
        execution_id="exec-1",
        settings=Settings(**settings),
        aws=AwsClients(),
        deadline=time.monotonic() + 30,
    )


# --- ecs.taskset_steady -----------------------------------------------------------------------
def test_steady_green_task_set_passes(world: World) -> None:
    result = TaskSetSteady().run(make_ctx(world))
    assert result.outcome is Outcome.PASS, result.reason
    assert result.value == {"running": 2, "desired": 2, "pending": 0}
    assert GREEN_ID in result.reason


def test_unsteady_green_task_set_fails_after_timeout(world: World) -> None:
    world.task_sets(running=1)
    seen: list[tuple[str, int, int]] = []
    ctx = dataclasses.replace(make_ctx(world, steady_timeout_s=0.6), on_progress=lambda *a: seen.append(a))
    result = TaskSetSteady(poll_interval_s=0.2).run(ctx)
    assert result.outcome is Outcome.FAIL
    # The wait it reports is however long a loaded machine took; the steady timeout, not the hook
    # deadline, ended it (no "(hook deadline)").
    assert re.fullmatch(rf"green task set {re.escape(GREEN_ID)} running 1/2, pending 1 after \d+ s", result.reason)
    assert result.details["timeout_s"] == 0.6
    assert result.value == {"running": 1, "desired": 2, "pending": 1}
    assert seen and seen[0] == (TASKSET_STEADY_CHECK_ID, 1, 2)


def test_poll_sees_the_task_set_become_steady(world: World) -> None:
    # Proves: the check reads the task sets again until they are steady. The tasks start once the
    # first read has been reported (progress 0/2), so only a second read can see 2/2.
    world.task_sets(running=0)
    seen: list[tuple[int, int]] = []

    def progress(_check_id: str, done: int, total: int) -> None:
        seen.append((done, total))
        if len(seen) == 1:
            world.task_sets(running=2)

    ctx = dataclasses.replace(make_ctx(world, steady_timeout_s=60), on_progress=progress)
    result = TaskSetSteady(poll_interval_s=0.2).run(ctx)
    assert result.outcome is Outcome.PASS, result.reason
    assert seen == [(0, 2), (2, 2)]


def test_poll_stops_at_the_hook_deadline(world: World) -> None:
    world.task_sets(running=1)
    ctx = dataclasses.replace(make_ctx(world, steady_timeout_s=60), deadline=time.monotonic() + 0.5)
    result = TaskSetSteady(poll_interval_s=0.2).run(ctx)
    assert result.outcome is Outcome.FAIL
    assert result.reason.endswith("(hook deadline)")


def test_a_steady_wait_longer_than_the_invocation_continues_from_its_first_look(world: World) -> None:
    world.task_sets(running=1)
    ctx = dataclasses.replace(
        make_ctx(world, steady_timeout_s=600), deadline=time.monotonic() + 0.5, wait_until=time.time() + 3600
    )

    waiting = TaskSetSteady(poll_interval_s=5).run(ctx)

    assert waiting.waiting and waiting.resume is not None and waiting.resume.after_s == 5
    assert re.fullmatch(
        rf"green task set {re.escape(GREEN_ID)} running 1/2, pending 1 after \d+ s of 600 s; still waiting",
        waiting.reason,
    )
    since = waiting.resume.state["since"]

    # The next call, ten minutes after the first look, and still not steady: the timeout, not the
    # hook's deadline, fails it.
    later = dataclasses.replace(
        make_ctx(world, steady_timeout_s=600), deadline=time.monotonic() + 0.5, wait_until=time.time() + 3600
    )
    later.resumed = {"since": since - 600}
    failed = TaskSetSteady(poll_interval_s=5).run(later)
    assert failed.outcome is Outcome.FAIL
    assert re.fullmatch(rf"green task set {re.escape(GREEN_ID)} running 1/2, pending 1 after \d+ s", failed.reason)
    assert int(failed.reason.split(" after ")[1].split()[0]) >= 600

    # Steady on a later call: it passes.
    world.task_sets(running=2)
    again = dataclasses.replace(make_ctx(world, steady_timeout_s=600), wait_until=time.time() + 3600)
    again.resumed = {"since": since}
    assert TaskSetSteady(poll_interval_s=5).run(again).outcome is Outcome.PASS


def test_missing_green_task_set_fails_naming_it(world: World) -> None:
    world.stand_in.set_task_sets(world.deployment_id, [_task_set(BLUE_ID, "Blue", 2, 2, 0, "shop-blue")])
    result = TaskSetSteady().run(make_ctx(world))
    assert result.outcome is Outcome.FAIL
    assert result.reason == f"deployment {world.deployment_id} has no GREEN task set (task sets: Blue {BLUE_ID})"


# --- elb.targets_healthy ----------------------------------------------------------------------
def _test_listener_to_green(world: World) -> None:
    """What AllowTestTraffic does: a listener forwards to green, so the load balancer judges its targets."""
    boto3.client("elbv2").create_listener(
        LoadBalancerArn=world.lb_arn,
        Protocol="HTTP",
        Port=8443,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": world.green_tg}],
    )


class SimulatedTimeContext(CheckContext):
    """A check context whose waits move the stand-in's target-health clock instead of sleeping."""

    clock: FakeClock | None = None

    def sleep(self, seconds: float) -> bool:
        assert self.clock is not None
        self.clock.now += seconds
        return True


@dataclass
class FakeClock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


def test_healthy_targets_pass(world: World) -> None:
    _test_listener_to_green(world)
    boto3.client("elbv2").register_targets(
        TargetGroupArn=world.green_tg, Targets=[{"Id": "10.0.1.5", "Port": 8080}, {"Id": "10.0.2.7", "Port": 8080}]
    )
    result = TargetsHealthy().run(make_ctx(world))
    assert result.outcome is Outcome.PASS, result.reason
    assert result.reason == "2/2 targets healthy in green target group shop-green"


def test_unused_targets_pass_at_after_install_with_a_note(world: World) -> None:
    # Only the production listener exists, and it forwards to blue: green reads unused (Target.NotInUse).
    boto3.client("elbv2").register_targets(TargetGroupArn=world.green_tg, Targets=[{"Id": "10.0.1.5", "Port": 8080}])
    result = TargetsHealthy(timeout_s=0).run(make_ctx(world))
    assert result.outcome is Outcome.PASS, result.reason
    assert result.reason.startswith("1/1 targets unused in green target group shop-green: no listener forwards")
    assert result.warnings and "the task set and the stopped tasks judge green for now" in result.warnings[0]


def test_unused_targets_fail_from_after_allow_test_traffic_on(world: World) -> None:
    boto3.client("elbv2").register_targets(TargetGroupArn=world.green_tg, Targets=[{"Id": "10.0.1.5", "Port": 8080}])
    ctx = dataclasses.replace(make_ctx(world), hook=Hook.AFTER_ALLOW_TEST_TRAFFIC)
    result = TargetsHealthy(timeout_s=0).run(ctx)
    assert result.outcome is Outcome.FAIL
    assert re.fullmatch(
        r"1/1 targets not healthy in green target group shop-green after \d+ s: 10\.0\.1\.5:8080 unused "
        r"\(Target\.NotInUse: Target group is not configured to receive traffic from the load balancer\)",
        result.reason,
    ), result.reason


def test_initial_targets_are_polled_until_healthy(world: World) -> None:
    # The stand-in keeps a newly registered target initial for 5 s of its clock; each wait of the
    # check moves that clock by the interval it waits, so only later reads can see healthy.
    clock = FakeClock()
    world.stand_in.set_target_health_timing(initial_s=5, clock=clock)
    _test_listener_to_green(world)
    boto3.client("elbv2").register_targets(TargetGroupArn=world.green_tg, Targets=[{"Id": "10.0.1.5", "Port": 8080}])
    ctx = SimulatedTimeContext(**{f.name: getattr(make_ctx(world), f.name) for f in dataclasses.fields(CheckContext)})
    ctx.clock = clock

    result = TargetsHealthy(timeout_s=60, poll_interval_s=2).run(ctx)

    assert result.outcome is Outcome.PASS, result.reason
    assert result.reason == "1/1 targets healthy in green target group shop-green (seen: initial -> healthy)"
    assert clock.now == 1006.0  # read at 0, 2 and 4 s (initial), at 6 s (healthy)


def test_unhealthy_target_is_named_with_its_reason(world: World) -> None:
    boto3.client("elbv2").register_targets(
        TargetGroupArn=world.green_tg, Targets=[{"Id": "10.0.1.5", "Port": 8080}, {"Id": "10.0.2.7", "Port": 8080}]
    )
    set_target_health(
        REGION,
        world.green_tg,
        "10.0.1.5",
        8080,
        "unhealthy",
        "Target.ResponseCodeMismatch",
        "Health checks failed with these codes: [502]",
    )
    result = TargetsHealthy().run(make_ctx(world))
    assert result.outcome is Outcome.FAIL
    # Unhealthy condemns at once, without waiting out the timeout, and names the balancer's reason.
    assert result.reason == (
        "1/2 targets unhealthy in green target group shop-green: 10.0.1.5:8080 unhealthy "
        "(Target.ResponseCodeMismatch: Health checks failed with these codes: [502])"
    )
    assert result.value == 1


def test_no_registered_target_fails(world: World) -> None:
    result = TargetsHealthy(timeout_s=0).run(make_ctx(world))
    assert result.outcome is Outcome.FAIL
    assert result.reason == "no target registered in green target group shop-green after 0 s"


# --- ecs.stopped_tasks ------------------------------------------------------------------------
def test_no_stopped_task_passes(world: World) -> None:
    add_task(REGION, CLUSTER, world.task_definition, GREEN_ID)  # running: not counted
    add_task(REGION, CLUSTER, world.task_definition, BLUE_ID, last_status="STOPPED", stopped_reason="Scaling")
    result = StoppedTasks().run(make_ctx(world))
    assert result.outcome is Outcome.PASS, result.reason
    assert result.reason == f"no stopped task in green task set {GREEN_ID}"


def test_oom_stopped_task_fails_with_its_reasons(world: World) -> None:
    arn = add_task(
        REGION,
        CLUSTER,
        world.task_definition,
        GREEN_ID,
        last_status="STOPPED",
        stopped_reason="Essential container in task exited",
        stop_code="EssentialContainerExited",
        container_reason="OutOfMemoryError: Container killed due to memory usage",
        exit_code=137,
    )
    result = StoppedTasks().run(make_ctx(world))
    assert result.outcome is Outcome.FAIL
    task_id = arn.rsplit("/", 1)[-1]
    assert result.reason == (
        f"1 task of green task set {GREEN_ID} stopped: task {task_id} EssentialContainerExited: Essential "
        "container in task exited (web: OutOfMemoryError: Container killed due to memory usage, exit 137)"
    )
    assert result.value == 1


def test_stopped_tasks_by_group(world: World) -> None:
    add_task(
        REGION,
        CLUSTER,
        world.task_definition,
        "someone-else",
        last_status="STOPPED",
        group=f"service:{SERVICE}",
        container_reason="CannotPullContainerError: pull image manifest has been retried 5 time(s)",
    )
    result = StoppedTasks(group=f"service:{SERVICE}").run(make_ctx(world))
    assert result.outcome is Outcome.FAIL
    assert "CannotPullContainerError" in result.reason
    assert StoppedTasks().run(make_ctx(world)).outcome is Outcome.PASS


def test_after_install_checks_have_stable_ids() -> None:
    ids = [c.check_id for c in default_plan(Hook.AFTER_INSTALL, Settings())]
    assert ids == [TASKSET_STEADY_CHECK_ID, TARGETS_HEALTHY_CHECK_ID, STOPPED_TASKS_CHECK_ID]
