"""Builders for tests that run the real handlers against the embedded stand-in.

The fixtures that use them (``standin_server``, ``standin``, ``log_capture``) live in
tests/integration/conftest.py; this module holds the plain helpers: :class:`StandInEnv`, what a
``log_capture`` collects (:class:`LogCapture`), a server that never answers, and a blue/green
topology in the stand-in.
"""

from __future__ import annotations

import io
import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto.backends import get_backend

from tests.support.http_apps import RunningServer
from tests.support.lambda_env import REGION, load_event, load_handler_module
from trafficgate.hooks import Hook
from trafficgate_local.standin import StandIn, StandInServer

SAMPLE_DEPLOYMENT_ID = "d-EXAMPLE11"
CLUSTER = "shop-cluster"
SERVICE = "shop-web"
RESET_SERVICES = ("codedeploy", "elbv2", "ecs", "secretsmanager", "ssm", "cloudwatch", "ecr", "s3", "acm")


@dataclass
class StandInEnv:
    """The running stand-in, its control API and boto3 clients that reach it."""

    server: StandInServer
    control: StandIn

    @property
    def endpoint_url(self) -> str:
        return self.server.endpoint_url

    def client(self, service: str, region: str = REGION) -> Any:
        return boto3.client(service, region_name=region, endpoint_url=self.endpoint_url)

    def seed_sample(self, hook: Hook, *, start_event: bool = True) -> dict[str, Any]:
        """Seed the sample deployment (if needed) and register the sample event's execution id.

        The deployment moves to ``hook``'s lifecycle event, as CodeDeploy does before it invokes the
        hook; ``start_event=False`` registers the id ahead of time instead (several hooks seeded
        at once, invoked in any order).
        """
        event = load_event(hook.module_name)
        if SAMPLE_DEPLOYMENT_ID not in self.control.backend.deployments:
            self.control.create_ecs_deployment(
                deployment_id=event["DeploymentId"], cluster_name=CLUSTER, service_name=SERVICE
            )
        self.control.register_hook_execution(
            event["DeploymentId"], hook.value, event["LifecycleEventHookExecutionId"], start_event=start_event
        )
        return event

    def reset(self) -> None:
        """Forget every resource of the services the hooks read (the server shares this process).

        EC2 is left alone: re-creating its backend costs about a second per test, and the VPCs and
        subnets a test makes are never looked up by name.
        """
        for service in RESET_SERVICES:
            for account_backend in list(get_backend(service).values()):  # type: ignore[call-overload]
                account_backend.reset()


def aws_side_check_ids() -> str:
    """The built-in checks other than the HTTP bursts, comma-separated: the AWS-side ones and http.compare.

    These tests judge the hook machinery and the HTTP probes; the AWS-side checks need a fully
    seeded world and have their own tests (tests/integration/test_checks_*.py), so they are
    switched off here the way an operator would, with TRAFFICGATE_DISABLED_CHECKS. So is
    http.compare, which sends every request to blue as well (these tests count each side's
    requests): tests/integration/test_compare.py switches it back on.
    """
    from trafficgate.checks.http import HttpProbe
    from trafficgate.plan import BUILTIN_TYPES

    return ",".join(sorted(name for name, (cls, _fixed) in BUILTIN_TYPES.items() if cls is not HttpProbe))


@dataclass
class LogCapture:
    """Everything the Powertools logger and the EMF metrics printed during a test, as JSON lines."""

    stream: io.StringIO
    capsys: pytest.CaptureFixture[str]
    _seen: str = ""

    def text(self) -> str:
        """All output so far (stdout, stderr and the logger's stream)."""
        captured = self.capsys.readouterr()
        self._seen += captured.out + captured.err + self.stream.getvalue()
        self.stream.seek(0)
        self.stream.truncate()
        return self._seen

    def records(self) -> list[dict[str, Any]]:
        lines = [line for line in self.text().splitlines() if line.startswith("{")]
        return [json.loads(line) for line in lines]

    def logs(self) -> list[dict[str, Any]]:
        """Logger lines (not EMF blobs)."""
        return [r for r in self.records() if "_aws" not in r]

    def metrics(self) -> list[dict[str, Any]]:
        """EMF blobs."""
        return [r for r in self.records() if "_aws" in r]


@contextmanager
def silent_server() -> Iterator[str]:
    """An HTTP "server" on 127.0.0.1 that accepts connections and never answers; yields its URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.1)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)  # read nothing, answer nothing

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in held:
            conn.close()
        listener.close()


# --- a blue/green topology in the stand-in ---------------------------------------------------

APPSPEC_YAML = """\
version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: "arn:aws:ecs:us-east-1:123456789012:task-definition/shop-web:7"
        LoadBalancerInfo:
          ContainerName: "web"
          ContainerPort: 8080
        PlatformVersion: "LATEST"
"""

APPSPEC_JSON = json.dumps(
    {
        "version": 0.0,
        "Resources": [
            {
                "TargetService": {
                    "Type": "AWS::ECS::Service",
                    "Properties": {
                        "TaskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/shop-web:8",
                        "LoadBalancerInfo": {"ContainerName": "api", "ContainerPort": 9090},
                    },
                }
            }
        ],
    }
)


@dataclass
class Topology:
    """What :func:`build_topology` created."""

    application: str
    group: str
    dns_name: str
    load_balancer_arn: str
    prod_listener_arn: str
    test_listener_arn: str | None
    blue_target_group: str
    green_target_group: str
    region: str = REGION

    def deploy(self, standin: StandInEnv, appspec: str = APPSPEC_YAML) -> str:
        """A deployment of this group whose revision is ``appspec`` (AppSpecContent)."""
        return self.deploy_revision(standin, {"revisionType": "AppSpecContent", "appSpecContent": {"content": appspec}})

    def deploy_revision(self, standin: StandInEnv, revision: dict[str, Any]) -> str:
        """A deployment of this group with any CreateDeployment ``revision`` (an S3 one, say)."""
        response = standin.client("codedeploy", self.region).create_deployment(
            applicationName=self.application, deploymentGroupName=self.group, revision=revision
        )
        deployment_id: str = response["deploymentId"]
        return deployment_id


def load_balancer(standin: StandInEnv, name: str, region: str = REGION) -> tuple[str, dict[str, Any]]:
    """A VPC with two subnets and an application load balancer in it: ``(vpc id, load balancer)``."""
    ec2 = standin.client("ec2", region)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{region}{zone}")["Subnet"][
            "SubnetId"
        ]
        for i, zone in enumerate("ab")
    ]
    lb = standin.client("elbv2", region).create_load_balancer(
        Name=f"{name}-alb", Subnets=subnets, Type="application"
    )["LoadBalancers"][0]
    return vpc, lb


def build_topology(
    standin: StandInEnv,
    *,
    prod_port: int,
    test_port: int | None,
    extra_prod_listener_arns: tuple[str, ...] = (),
    name: str = "shop",
    region: str = REGION,
) -> Topology:
    """VPC, ALB, blue/green target groups, listeners on the given ports, ECS service, CodeDeploy group.

    Everything is created in ``region`` (the tests' region unless a test needs another one).
    """
    elbv2 = standin.client("elbv2", region)
    vpc, lb = load_balancer(standin, name, region)
    target_groups = {
        colour: elbv2.create_target_group(
            Name=f"{name}-{colour}", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip"
        )["TargetGroups"][0]["TargetGroupArn"]
        for colour in ("blue", "green")
    }

    def listener(port: int, colour: str) -> str:
        arn: str = elbv2.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"],
            Protocol="HTTP",
            Port=port,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": target_groups[colour]}],
        )["Listeners"][0]["ListenerArn"]
        return arn

    prod_arn = listener(prod_port, "blue")
    test_arn = listener(test_port, "green") if test_port is not None else None

    ecs = standin.client("ecs", region)
    ecs.create_cluster(clusterName=CLUSTER)
    ecs.register_task_definition(
        family="shop-web", containerDefinitions=[{"name": "web", "image": "shop:latest", "memory": 256}]
    )
    ecs.create_service(
        cluster=CLUSTER,
        serviceName=SERVICE,
        taskDefinition="shop-web",
        desiredCount=1,
        deploymentController={"type": "CODE_DEPLOY"},
    )

    codedeploy = standin.client("codedeploy", region)
    codedeploy.create_application(applicationName=name, computePlatform="ECS")
    pair: dict[str, Any] = {
        "targetGroups": [{"name": f"{name}-blue"}, {"name": f"{name}-green"}],
        "prodTrafficRoute": {"listenerArns": [prod_arn, *extra_prod_listener_arns]},
    }
    if test_arn is not None:
        pair["testTrafficRoute"] = {"listenerArns": [test_arn]}
    codedeploy.create_deployment_group(
        applicationName=name,
        deploymentGroupName=f"{name}-dg",
        serviceRoleArn="arn:aws:iam::123456789012:role/codedeploy",
        deploymentConfigName="CodeDeployDefault.ECSAllAtOnce",
        deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        loadBalancerInfo={"targetGroupPairInfoList": [pair]},
        ecsServices=[{"clusterName": CLUSTER, "serviceName": SERVICE}],
    )
    return Topology(
        application=name,
        group=f"{name}-dg",
        dns_name=lb["DNSName"],
        load_balancer_arn=lb["LoadBalancerArn"],
        prod_listener_arn=prod_arn,
        test_listener_arn=test_arn,
        blue_target_group=f"{name}-blue",
        green_target_group=f"{name}-green",
        region=region,
    )


def hook_event(standin: StandInEnv, deployment_id: str, hook: Hook) -> dict[str, str]:
    """Register a fresh hook execution, as CodeDeploy does when it invokes a hook; return the event."""
    execution_id = standin.control.register_hook_execution(deployment_id, hook.value)
    return {"DeploymentId": deployment_id, "LifecycleEventHookExecutionId": execution_id}


#: Requests per burst in the ``blue_green`` fixture's world (small bursts keep the tests fast).
BLUE_GREEN_REQUESTS = 8


@dataclass
class BlueGreen:
    """What the ``blue_green`` fixture made: two servers, the topology whose listeners are their
    ports (production on blue, test on green) and one deployment of its group."""

    blue: RunningServer
    green: RunningServer
    topology: Topology
    deployment_id: str


def invoke_hook(standin: StandInEnv, hook: Hook, deployment_id: str, context: Any) -> dict[str, Any]:
    """Invoke ``hook``'s real handler for a fresh execution of ``deployment_id``, as CodeDeploy would."""
    event = hook_event(standin, deployment_id, hook)
    result: dict[str, Any] = load_handler_module(hook.module_name).handler(event, context)
    return result


Invoke = Callable[[Hook, dict[str, Any]], dict[str, Any]]
