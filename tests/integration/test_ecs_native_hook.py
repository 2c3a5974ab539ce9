"""The ECS native lifecycle hook end to end: the stand-in's BLUE_GREEN service deployment, real blue and
green servers on 127.0.0.1, the real runner, and the answer it returns.

Discovery starts from the event's resourceArn alone: the service deployment, its target revision's
load balancer advancedConfiguration, the listener rules and their listeners. The ALB's DNS name is
pointed at 127.0.0.1 with TRAFFICGATE_RESOLVE, and each listener's port is a server's port, so
whatever the probes reach, they reached through discovery. Nothing here asserts how fast anything was.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.http_apps import HttpApp, Route, RunningServer, serve
from tests.support.standin_env import StandInEnv, aws_side_check_ids, load_balancer
from trafficgate.hooks import EcsStage
from trafficgate.runner import HookRunner, load_settings
from trafficgate_local.lambda_context import LocalLambdaContext

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
CLUSTER, SERVICE = "shop-cluster", "shop-web"
ACCOUNT = "123456789012"
HOST = "shop.example"


@dataclass
class EcsWorld:
    standin: StandInEnv
    blue: RunningServer
    green: RunningServer
    deployment_arn: str
    target_revision_arn: str
    service_arn: str

    def event(self, stage: EcsStage) -> dict[str, Any]:
        event: dict[str, Any] = json.loads((ROOT / "events" / "ecs" / f"{stage.value.lower()}.json").read_text())
        event["resourceArn"] = self.deployment_arn
        event["executionDetails"]["serviceArn"] = self.service_arn
        event["executionDetails"]["targetServiceRevisionArn"] = self.target_revision_arn
        return event

    def run(self, stage: EcsStage) -> dict[str, Any]:
        self.standin.control.set_service_deployment_stage(self.deployment_arn, stage.value)
        runner = HookRunner(settings=load_settings())
        return runner.run_ecs(self.event(stage), LocalLambdaContext(timeout_s=120))


def build(standin: StandInEnv, blue: RunningServer, green: RunningServer) -> EcsWorld:
    """VPC, ALB, blue and green target groups, a listener per server port with a rule each, and a
    BLUE_GREEN service moved to a second task definition: one service deployment in progress."""
    elbv2, ecs = standin.client("elbv2"), standin.client("ecs")
    vpc, lb = load_balancer(standin, "shop")
    groups = {}
    for colour in ("blue", "green"):
        created = elbv2.create_target_group(
            Name=f"shop-{colour}", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip"
        )
        groups[colour] = created["TargetGroups"][0]["TargetGroupArn"]

    def listener_and_rule(port: int, colour: str) -> str:
        listener = elbv2.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"],
            Protocol="HTTP",
            Port=port,
            DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}],
        )["Listeners"][0]["ListenerArn"]
        rule: str = elbv2.create_rule(
            ListenerArn=listener,
            Priority=10,
            Conditions=[{"Field": "host-header", "HostHeaderConfig": {"Values": [HOST]}}],
            Actions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
                {"TargetGroupArn": groups[colour], "Weight": 100}
            ]}}],
        )["Rules"][0]["RuleArn"]
        return rule

    prod_rule, test_rule = listener_and_rule(blue.port, "blue"), listener_and_rule(green.port, "green")
    ecs.create_cluster(clusterName=CLUSTER)
    definitions = [
        ecs.register_task_definition(
            family="shop-web",
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="256",
            memory="512",
            containerDefinitions=[
                {"name": "web", "image": f"shop:{v}", "portMappings": [{"containerPort": 8080}], "essential": True}
            ],
        )["taskDefinition"]["taskDefinitionArn"]
        for v in ("v1", "v2")
    ]
    balancer = {
        "targetGroupArn": groups["blue"],
        "containerName": "web",
        "containerPort": 8080,
        "advancedConfiguration": {
            "alternateTargetGroupArn": groups["green"],
            "productionListenerRule": prod_rule,
            "testListenerRule": test_rule,
            "roleArn": f"arn:aws:iam::{ACCOUNT}:role/ecs-elb",
        },
    }
    ecs.create_service(
        cluster=CLUSTER,
        serviceName=SERVICE,
        taskDefinition=definitions[0],
        desiredCount=2,
        launchType="FARGATE",
        deploymentController={"type": "ECS"},
        deploymentConfiguration={"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1},
        loadBalancers=[balancer],
    )
    service = ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=definitions[1])["service"]
    deployment_arn = service["currentServiceDeployment"]
    described = ecs.describe_service_deployments(serviceDeploymentArns=[deployment_arn])["serviceDeployments"][0]
    return EcsWorld(
        standin=standin,
        blue=blue,
        green=green,
        deployment_arn=deployment_arn,
        target_revision_arn=described["targetServiceRevision"]["arn"],
        service_arn=service["serviceArn"],
    )


@pytest.fixture
def world(standin: StandInEnv, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[EcsWorld]:
    green_route: Route = getattr(request, "param", Route())
    with serve(HttpApp()) as blue, serve(HttpApp(default=green_route)) as green:
        built = build(standin, blue, green)
        dns = standin.client("elbv2").describe_load_balancers()["LoadBalancers"][0]["DNSName"]
        monkeypatch.setenv("TRAFFICGATE_RESOLVE", f"{dns}=127.0.0.1")
        # Green against blue and the diff run too: they find blue through the production rule.
        disabled = set(aws_side_check_ids().split(",")) - {"http.compare", "http.diff"}
        monkeypatch.setenv("TRAFFICGATE_DISABLED_CHECKS", ",".join(sorted(disabled)))
        yield built


def test_a_healthy_green_succeeds_through_discovery_from_the_event_alone(world: EcsWorld) -> None:
    assert world.run(EcsStage.POST_TEST_TRAFFIC_SHIFT) == {"hookStatus": "SUCCEEDED"}
    # The probe reached green through the test rule, satisfying its host-header condition, and
    # green against blue asked blue through the production rule.
    assert len(world.green.app.requests) >= 327
    assert {r.headers.get("Host", "").split(":")[0] for r in world.green.app.requests} == {HOST}
    assert world.blue.app.requests and {r.headers.get("Host", "").split(":")[0] for r in world.blue.app.requests} == {
        HOST
    }


@pytest.mark.parametrize("world", [Route(status=500)], indirect=True)
def test_a_broken_green_fails_and_ecs_would_roll_back(world: EcsWorld) -> None:
    assert world.run(EcsStage.POST_TEST_TRAFFIC_SHIFT) == {"hookStatus": "FAILED"}
    assert world.green.app.requests and len(world.green.app.requests) < 50  # shown failing within a few


def test_a_stage_without_checks_asks_nothing(world: EcsWorld) -> None:
    assert world.run(EcsStage.TEST_TRAFFIC_SHIFT) == {"hookStatus": "SUCCEEDED"}
    assert world.green.app.requests == [] and world.blue.app.requests == []
