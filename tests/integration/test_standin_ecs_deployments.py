"""ECS-native blue/green in the stand-in, seen through real boto3 clients, in-process and through the server.

A BLUE_GREEN service behind an ALB (production and test listener rules, a blue and a green target
group) with a lifecycle hook: CreateService and UpdateService keep the deployment configuration,
each deployment of a new task definition is a service deployment from the active revisions to a
new one, and DescribeServiceDeployments, ListServiceDeployments and DescribeServiceRevisions
answer as ECS does. Every answer is checked against botocore's output shape (tests/support/shapes.py:
every key a member of its shape, every type and enum value as the model says). The stand-in never
moves a deployment by itself, so nothing here waits or asserts on time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tests.support.lambda_env import REGION
from tests.support.shapes import assert_fits, shape_problems
from tests.support.standin_env import StandInEnv
from trafficgate_local.standin import (
    ServiceDeploymentRecord,
    StandIn,
    StandInAdmin,
    StandInError,
    StandInServer,
    install_ecs_deployments,
    is_ecs_deployments_installed,
)
from trafficgate_local.standin.ecs_deployment_config import (
    HOOK_STAGES,
    LIFECYCLE_STAGES,
    STATUSES,
    STRATEGIES,
)

pytestmark = pytest.mark.integration

ACCOUNT = "123456789012"
CLUSTER, SERVICE = "shop-cluster", "shop-web"
HOOK_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:trafficgate-gate"
HOOK_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ecs-hook-invoke"
ELB_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ecs-infrastructure-elb"
SERVICE_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{CLUSTER}/{SERVICE}"
_ECS = f"arn:aws:ecs:{REGION}:{ACCOUNT}"
DEPLOYMENT_ARN = re.compile(rf"^{_ECS}:service-deployment/{CLUSTER}/{SERVICE}/[A-Za-z0-9]{{21}}$")
REVISION_ARN = re.compile(rf"^{_ECS}:service-revision/{CLUSTER}/{SERVICE}/[0-9]{{19}}$")


@dataclass
class World:
    """An ALB with blue/green target groups and listener rules, two task definitions, and the control API."""

    mode: str
    control: StandIn | StandInAdmin
    ecs: Any
    blue: str
    green: str
    prod_rule: str
    test_rule: str
    v1: str
    v2: str

    def load_balancers(self) -> list[dict[str, Any]]:
        advanced = {
            "alternateTargetGroupArn": self.green,
            "productionListenerRule": self.prod_rule,
            "testListenerRule": self.test_rule,
            "roleArn": ELB_ROLE,
        }
        balancer = {"targetGroupArn": self.blue, "containerName": "web", "containerPort": 8080}
        return [{**balancer, "advancedConfiguration": advanced}]

    def create_service(self, strategy: str = "BLUE_GREEN", **extra: Any) -> dict[str, Any]:
        configuration = {
            "strategy": strategy,
            "bakeTimeInMinutes": 5,
            "lifecycleHooks": [
                {
                    "hookTargetArn": HOOK_ARN,
                    "roleArn": HOOK_ROLE,
                    "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT"],
                    "hookDetails": {"checks": ["http.test_listener"], "budget": 30},
                }
            ],
            **extra,
        }
        answer = self.ecs.create_service(
            cluster=CLUSTER,
            serviceName=SERVICE,
            taskDefinition=self.v1,
            desiredCount=3,
            launchType="FARGATE",
            deploymentController={"type": "ECS"},
            deploymentConfiguration=configuration,
            loadBalancers=self.load_balancers(),
        )
        assert_fits("ecs", "CreateService", answer)
        return dict(answer["service"])

    def deploy(self, task_definition: str, **kwargs: Any) -> str:
        """UpdateService to ``task_definition``; returns the service deployment it started."""
        answer = self.ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=task_definition, **kwargs)
        assert_fits("ecs", "UpdateService", answer)
        arn: str = answer["service"]["currentServiceDeployment"]
        return arn

    def describe(self, *arns: str) -> dict[str, Any]:
        answer = self.ecs.describe_service_deployments(serviceDeploymentArns=list(arns))
        assert_fits("ecs", "DescribeServiceDeployments", answer)
        return dict(answer)

    def deployment(self, arn: str) -> dict[str, Any]:
        found = self.describe(arn)
        assert found["failures"] == []
        return dict(found["serviceDeployments"][0])

    def revision(self, arn: str) -> dict[str, Any]:
        answer = self.ecs.describe_service_revisions(serviceRevisionArns=[arn])
        assert_fits("ecs", "DescribeServiceRevisions", answer)
        assert answer["failures"] == []
        return dict(answer["serviceRevisions"][0])

    def listed(self, **kwargs: Any) -> dict[str, Any]:
        answer = self.ecs.list_service_deployments(cluster=CLUSTER, service=SERVICE, **kwargs)
        assert_fits("ecs", "ListServiceDeployments", answer)
        return dict(answer)

    def service(self) -> dict[str, Any]:
        answer = self.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])
        assert_fits("ecs", "DescribeServices", answer)
        return dict(answer["services"][0])


def _build(mode: str, control: StandIn | StandInAdmin, endpoint_url: str | None) -> World:
    def client(service: str) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=endpoint_url)

    ec2, elbv2, ecs = client("ec2"), client("elbv2"), client("ecs")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=f"{REGION}{zone}")["Subnet"][
            "SubnetId"
        ]
        for i, zone in enumerate("ab")
    ]
    alb = elbv2.create_load_balancer(Name="shop-alb", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    blue, green = (
        elbv2.create_target_group(Name=f"shop-{c}", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip")[
            "TargetGroups"
        ][0]["TargetGroupArn"]
        for c in ("blue", "green")
    )

    def rule(port: int, group: str) -> str:
        not_found = {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}
        listener = elbv2.create_listener(LoadBalancerArn=alb, Protocol="HTTP", Port=port, DefaultActions=[not_found])[
            "Listeners"
        ][0]["ListenerArn"]
        arn: str = elbv2.create_rule(
            ListenerArn=listener,
            Priority=1,
            Conditions=[{"Field": "path-pattern", "Values": ["/*"]}],
            Actions=[{"Type": "forward", "TargetGroupArn": group}],
        )["Rules"][0]["RuleArn"]
        return arn

    ecs.create_cluster(clusterName=CLUSTER)
    v1, v2 = (
        ecs.register_task_definition(
            family="shop-web",
            networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            cpu="256",
            memory="512",
            containerDefinitions=[{"name": "web", "image": f"shop:{tag}", "portMappings": [{"containerPort": 8080}]}],
        )["taskDefinition"]["taskDefinitionArn"]
        for tag in ("1.0", "2.0")
    )
    return World(mode, control, ecs, blue, green, rule(80, blue), rule(9000, green), v1, v2)


@pytest.fixture
def local() -> Iterator[World]:
    with mock_aws():
        yield _build("in-process", StandIn(REGION), None)


@pytest.fixture
def served(standin_server: StandInServer) -> Iterator[World]:
    env = StandInEnv(standin_server, standin_server.stand_in(REGION))
    env.reset()
    admin = standin_server.admin(REGION)
    try:
        yield _build("server", admin, standin_server.endpoint_url)
    finally:
        admin.close()
        env.reset()


@pytest.fixture(params=["in-process", "server"])
def world(request: pytest.FixtureRequest) -> World:
    built: World = request.getfixturevalue("local" if request.param == "in-process" else "served")
    return built


def _hooked(**hook: Any) -> dict[str, Any]:
    """A BLUE_GREEN configuration with one Lambda hook, changed by ``hook``."""
    base = {"hookTargetArn": HOOK_ARN, "roleArn": HOOK_ROLE, "lifecycleStages": ["PRE_SCALE_UP"]}
    return {"strategy": "BLUE_GREEN", "lifecycleHooks": [{**base, **hook}]}


def _error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


# --- the configuration is kept -----------------------------------------------------------------
def test_create_and_describe_keep_the_blue_green_configuration(world: World) -> None:
    created = world.create_service()
    described = world.service()

    for service in (created, described):
        configuration = service["deploymentConfiguration"]
        assert configuration["strategy"] == "BLUE_GREEN"
        assert configuration["bakeTimeInMinutes"] == 5
        assert configuration["lifecycleHooks"] == [
            {
                "hookTargetArn": HOOK_ARN,
                "roleArn": HOOK_ROLE,
                "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT"],
                "hookDetails": {"checks": ["http.test_listener"], "budget": 30},
            }
        ]
        assert service["loadBalancers"] == world.load_balancers()
        assert DEPLOYMENT_ARN.match(service["currentServiceDeployment"])
        [current] = service["currentServiceRevisions"]
        assert REVISION_ARN.match(current["arn"])


def test_a_service_given_no_strategy_rolls_and_has_no_service_deployments(world: World) -> None:
    world.ecs.create_service(cluster=CLUSTER, serviceName=SERVICE, taskDefinition=world.v1, desiredCount=2)
    world.ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=world.v2)

    service = world.service()
    assert service["deploymentConfiguration"] == {
        "deploymentCircuitBreaker": {"enable": False, "rollback": False},
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
        "strategy": "ROLLING",
    }
    assert "currentServiceDeployment" not in service
    [current] = service["currentServiceRevisions"]
    assert world.revision(current["arn"])["taskDefinition"] == world.v2
    assert world.listed()["serviceDeployments"] == []


def test_update_service_merges_the_configuration_and_answers_the_task_definition_as_an_arn(world: World) -> None:
    world.create_service()
    answer = world.ecs.update_service(
        cluster=CLUSTER, service=SERVICE, taskDefinition="shop-web:2", deploymentConfiguration={"bakeTimeInMinutes": 0}
    )

    service = answer["service"]
    assert service["taskDefinition"] == world.v2
    assert service["deploymentConfiguration"]["bakeTimeInMinutes"] == 0
    assert service["deploymentConfiguration"]["strategy"] == "BLUE_GREEN"
    assert len(service["deploymentConfiguration"]["lifecycleHooks"]) == 1


# --- a deployment of a new task definition ------------------------------------------------------
def test_a_new_task_definition_starts_a_service_deployment_from_blue_to_green(world: World) -> None:
    first = world.create_service()["currentServiceDeployment"]
    world.control.set_service_deployment_status(first, "SUCCESSFUL")
    blue_revision = world.deployment(first)["targetServiceRevision"]["arn"]

    arn = world.deploy(world.v2)

    assert DEPLOYMENT_ARN.match(arn) and arn != first
    deployment = world.deployment(arn)
    assert deployment["serviceDeploymentArn"] == arn
    assert deployment["serviceArn"] == SERVICE_ARN
    assert deployment["clusterArn"] == f"{_ECS}:cluster/{CLUSTER}"
    assert deployment["status"] == "IN_PROGRESS"
    assert deployment["lifecycleStage"] == "PRE_SCALE_UP"
    assert isinstance(deployment["createdAt"], datetime) and deployment["startedAt"] == deployment["createdAt"]
    assert "finishedAt" not in deployment and "stoppedAt" not in deployment and "rollback" not in deployment
    assert deployment["deploymentConfiguration"] == world.service()["deploymentConfiguration"]
    assert [s["arn"] for s in deployment["sourceServiceRevisions"]] == [blue_revision]
    source, target = deployment["sourceServiceRevisions"][0], deployment["targetServiceRevision"]
    assert (source["requestedTaskCount"], source["requestedProductionTrafficWeight"]) == (3, 100.0)
    assert (target["requestedTaskCount"], target["requestedProductionTrafficWeight"]) == (0, 0.0)

    green = world.revision(target["arn"])
    assert REVISION_ARN.match(green["serviceRevisionArn"])
    assert green["taskDefinition"] == world.v2
    assert green["launchType"] == "FARGATE"
    assert green["containerImages"] == [{"containerName": "web", "image": "shop:2.0"}]
    assert green["loadBalancers"] == world.load_balancers()
    # The green revision's tasks go to the alternate target group, behind the production rule.
    assert green["resolvedConfiguration"] == {
        "loadBalancers": [{"targetGroupArn": world.green, "productionListenerRule": world.prod_rule}]
    }
    assert world.revision(blue_revision)["resolvedConfiguration"]["loadBalancers"][0]["targetGroupArn"] == world.blue


def test_list_answers_the_service_deployments_newest_first(world: World) -> None:
    first = world.create_service()["currentServiceDeployment"]
    world.control.set_service_deployment_status(first, "SUCCESSFUL")
    second = world.deploy(world.v2)

    listed = world.listed()

    assert [d["serviceDeploymentArn"] for d in listed["serviceDeployments"]] == [second, first]
    assert "nextToken" not in listed
    newest, oldest = listed["serviceDeployments"]
    assert newest["status"] == "IN_PROGRESS" and "finishedAt" not in newest
    assert newest["targetServiceRevisionArn"] == world.deployment(second)["targetServiceRevision"]["arn"]
    assert oldest["status"] == "SUCCESSFUL" and isinstance(oldest["finishedAt"], datetime)
    by_arn = world.ecs.list_service_deployments(service=SERVICE_ARN, cluster=f"{_ECS}:cluster/{CLUSTER}")
    assert by_arn["serviceDeployments"] == listed["serviceDeployments"]


def test_list_filters_by_status_and_creation_time_and_pages(world: World) -> None:
    first = world.create_service()["currentServiceDeployment"]
    world.control.set_service_deployment_status(first, "SUCCESSFUL")
    second = world.deploy(world.v2)
    now = datetime.now(UTC)

    def arns(**kwargs: Any) -> list[str]:
        return [d["serviceDeploymentArn"] for d in world.listed(**kwargs)["serviceDeployments"]]

    assert arns(status=["SUCCESSFUL"]) == [first]
    assert arns(status=["IN_PROGRESS", "PENDING"]) == [second]
    assert arns(createdAt={"after": now + timedelta(days=1)}) == []
    assert arns(createdAt={"before": now - timedelta(days=1)}) == []
    assert arns(createdAt={"after": now - timedelta(days=1), "before": now + timedelta(days=1)}) == [second, first]

    page = world.listed(maxResults=1)
    assert [d["serviceDeploymentArn"] for d in page["serviceDeployments"]] == [second]
    rest = world.listed(maxResults=1, nextToken=page["nextToken"])
    assert [d["serviceDeploymentArn"] for d in rest["serviceDeployments"]] == [first]
    assert "nextToken" not in rest


def test_stages_move_the_traffic_and_the_tasks_to_green(world: World) -> None:
    first = world.create_service()["currentServiceDeployment"]
    world.control.set_service_deployment_status(first, "SUCCESSFUL")
    arn = world.deploy(world.v2)

    def traffic() -> tuple[tuple[int, float, float], tuple[int, float, float]]:
        found = world.deployment(arn)
        pick = ("requestedTaskCount", "requestedProductionTrafficWeight", "requestedTestTrafficWeight")
        source, target = found["sourceServiceRevisions"][0], found["targetServiceRevision"]
        return tuple(source[k] for k in pick), tuple(target[k] for k in pick)  # type: ignore[return-value]

    expected = {
        "SCALE_UP": ((3, 100.0, 100.0), (3, 0.0, 0.0)),
        "POST_TEST_TRAFFIC_SHIFT": ((3, 100.0, 0.0), (3, 0.0, 100.0)),
        "PRODUCTION_TRAFFIC_SHIFT": ((3, 0.0, 0.0), (3, 100.0, 100.0)),
        "CLEAN_UP": ((0, 0.0, 0.0), (3, 100.0, 100.0)),
    }
    for stage, (source, target) in expected.items():
        record = world.control.set_service_deployment_stage(arn, stage)
        assert isinstance(record, ServiceDeploymentRecord) and record.lifecycle_stage == stage
        assert world.deployment(arn)["lifecycleStage"] == stage
        assert traffic() == (source, target), stage

    done = world.control.set_service_deployment_status(arn, "SUCCESSFUL")
    assert done.finished_at is not None and done.stopped_at is None
    green_revision = done.target_revision_arn
    assert [r["arn"] for r in world.service()["currentServiceRevisions"]] == [green_revision]

    # The next deployment starts from green and goes back to the blue target group.
    third = world.deployment(world.deploy(world.v1))
    assert [s["arn"] for s in third["sourceServiceRevisions"]] == [green_revision]
    resolved = world.revision(third["targetServiceRevision"]["arn"])["resolvedConfiguration"]
    assert resolved["loadBalancers"][0]["targetGroupArn"] == world.blue


@pytest.mark.parametrize(
    ("strategy", "extra", "first_step"),
    [
        ("LINEAR", {"linearConfiguration": {"stepPercent": 20.0, "stepBakeTimeInMinutes": 2}}, 20.0),
        ("LINEAR", {}, 10.0),
        ("CANARY", {"canaryConfiguration": {"canaryPercent": 5.5, "canaryBakeTimeInMinutes": 1}}, 5.5),
    ],
)
def test_linear_and_canary_shift_their_first_step_of_production(
    world: World, strategy: str, extra: dict[str, Any], first_step: float
) -> None:
    created = world.create_service(strategy, **extra)
    assert created["deploymentConfiguration"]["strategy"] == strategy
    world.control.set_service_deployment_status(created["currentServiceDeployment"], "SUCCESSFUL")
    arn = world.deploy(world.v2)

    world.control.set_service_deployment_stage(arn, "PRODUCTION_TRAFFIC_SHIFT")

    found = world.deployment(arn)
    assert found["targetServiceRevision"]["requestedProductionTrafficWeight"] == first_step
    assert found["sourceServiceRevisions"][0]["requestedProductionTrafficWeight"] == 100.0 - first_step
    assert world.control.service_deployment(arn).strategy == strategy


def test_a_rollback_is_reported_and_the_next_deployment_starts_from_blue(world: World) -> None:
    first = world.create_service()["currentServiceDeployment"]
    world.control.set_service_deployment_status(first, "SUCCESSFUL")
    blue_revision = world.deployment(first)["targetServiceRevision"]["arn"]
    arn = world.deploy(world.v2)
    world.control.set_service_deployment_stage(arn, "POST_TEST_TRAFFIC_SHIFT")

    world.control.set_service_deployment_status(arn, "ROLLBACK_IN_PROGRESS", "Lifecycle hook failed")

    rolling_back = world.deployment(arn)
    assert rolling_back["status"] == "ROLLBACK_IN_PROGRESS"
    assert rolling_back["statusReason"] == "Lifecycle hook failed"
    assert rolling_back["rollback"]["reason"] == "Lifecycle hook failed"
    assert rolling_back["rollback"]["serviceRevisionArn"] == blue_revision
    assert isinstance(rolling_back["rollback"]["startedAt"], datetime)
    assert rolling_back["targetServiceRevision"]["requestedProductionTrafficWeight"] == 0.0
    assert "finishedAt" not in rolling_back

    record = world.control.set_service_deployment_status(arn, "ROLLBACK_SUCCESSFUL", "Lifecycle hook failed")
    assert record.status == "ROLLBACK_SUCCESSFUL" and record.finished_at is not None
    [listed] = world.listed(status=["ROLLBACK_SUCCESSFUL"])["serviceDeployments"]
    assert world.deployment(arn)["finishedAt"] == listed["finishedAt"] == record.finished_at
    # ECS puts the service back on blue's task definition.
    assert world.service()["taskDefinition"] == world.v1
    assert [r["arn"] for r in world.service()["currentServiceRevisions"]] == [blue_revision]

    retry = world.deployment(world.deploy(world.v2))
    assert [s["arn"] for s in retry["sourceServiceRevisions"]] == [blue_revision]
    assert retry["lifecycleStage"] == "PRE_SCALE_UP"


def test_a_newer_deployment_stops_the_unfinished_one_and_reconciles_both_revisions(world: World) -> None:
    first = world.create_service()["currentServiceDeployment"]
    world.control.set_service_deployment_status(first, "SUCCESSFUL")
    unfinished = world.deploy(world.v2)
    described = world.deployment(unfinished)
    blue, green = described["sourceServiceRevisions"][0]["arn"], described["targetServiceRevision"]["arn"]

    newest = world.deploy(world.v1, forceNewDeployment=True)

    stopped = world.deployment(unfinished)
    assert stopped["status"] == "STOPPED"
    assert newest in stopped["statusReason"]
    assert isinstance(stopped["stoppedAt"], datetime) and isinstance(stopped["finishedAt"], datetime)
    reconciling = world.deployment(newest)
    assert reconciling["lifecycleStage"] == "RECONCILE_SERVICE"
    assert [s["arn"] for s in reconciling["sourceServiceRevisions"]] == [blue, green]


def test_force_new_deployment_of_the_same_task_definition_is_a_new_revision(world: World) -> None:
    first = world.create_service()["currentServiceDeployment"]
    world.control.set_service_deployment_status(first, "SUCCESSFUL")

    arn = world.deploy(world.v1, forceNewDeployment=True)

    deployment = world.deployment(arn)
    assert deployment["targetServiceRevision"]["arn"] != deployment["sourceServiceRevisions"][0]["arn"]
    assert world.revision(deployment["targetServiceRevision"]["arn"])["taskDefinition"] == world.v1
    # Neither a new desired count nor a plain re-send of the same task definition deploys anything.
    world.ecs.update_service(cluster=CLUSTER, service=SERVICE, desiredCount=4)
    world.ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=world.v1)
    assert len(world.listed()["serviceDeployments"]) == 2
    assert world.deployment(arn)["targetServiceRevision"]["requestedTaskCount"] == 0


def test_deleting_the_service_forgets_its_revisions_and_deployments(world: World) -> None:
    created = world.create_service()
    revision = created["currentServiceRevisions"][0]["arn"]

    world.ecs.delete_service(cluster=CLUSTER, service=SERVICE, force=True)

    assert world.describe(created["currentServiceDeployment"])["failures"] == [
        {"arn": created["currentServiceDeployment"], "reason": "MISSING"}
    ]
    answer = world.ecs.describe_service_revisions(serviceRevisionArns=[revision])
    assert answer["failures"] == [{"arn": revision, "reason": "MISSING"}]


# --- errors ------------------------------------------------------------------------------------
def test_unknown_arns_are_failures_with_reason_missing(world: World) -> None:
    first = world.create_service()["currentServiceDeployment"]
    unknown_deployment = first.rsplit("/", 1)[0] + "/" + "x" * 21
    unknown_revision = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service-revision/{CLUSTER}/{SERVICE}/1234567890123456789"

    deployments = world.describe(first, unknown_deployment, "not-an-arn")
    assert [d["serviceDeploymentArn"] for d in deployments["serviceDeployments"]] == [first]
    assert deployments["failures"] == [
        {"arn": unknown_deployment, "reason": "MISSING"},
        {"arn": "not-an-arn", "reason": "MISSING"},
    ]
    revisions = world.ecs.describe_service_revisions(serviceRevisionArns=[unknown_revision])
    assert_fits("ecs", "DescribeServiceRevisions", revisions)
    assert revisions["serviceRevisions"] == []
    assert revisions["failures"] == [{"arn": unknown_revision, "reason": "MISSING"}]


@pytest.mark.parametrize(
    ("configuration", "named"),
    [
        ({"strategy": "PURPLE"}, "PURPLE"),
        (_hooked(lifecycleStages=["BAKE_TIME"]), "BAKE_TIME"),  # a deployment stage, not a hook stage
        (_hooked(lifecycleStages=["PRE_SCALE_UP", "SCALE_UP"]), "SCALE_UP"),
        (_hooked(lifecycleStages=[]), "lifecycleStages"),
        (_hooked(roleArn=""), "roleArn"),
        (_hooked(targetType="WEBHOOK"), "WEBHOOK"),
        (_hooked(timeoutConfiguration={"action": "SHRUG"}), "SHRUG"),
        ({"strategy": "BLUE_GREEN", "linearConfiguration": {"stepPercent": 10.0}}, "linearConfiguration"),
        ({"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 0.0}}, "canaryPercent"),
        ({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1441}, "bakeTimeInMinutes"),
    ],
)
def test_an_invalid_configuration_is_refused_and_creates_nothing(
    world: World, configuration: dict[str, Any], named: str
) -> None:
    with pytest.raises(ClientError) as excinfo:
        world.ecs.create_service(
            cluster=CLUSTER,
            serviceName=SERVICE,
            taskDefinition=world.v1,
            desiredCount=1,
            deploymentConfiguration=configuration,
            loadBalancers=world.load_balancers(),
        )

    code, message = _error(excinfo)
    assert code == "InvalidParameterException"
    assert named in message
    assert world.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"] == []


def test_a_blue_green_target_group_needs_its_advanced_configuration(world: World) -> None:
    plain = [{"targetGroupArn": world.blue, "containerName": "web", "containerPort": 8080}]
    with pytest.raises(ClientError) as excinfo:
        world.ecs.create_service(
            cluster=CLUSTER,
            serviceName=SERVICE,
            taskDefinition=world.v1,
            desiredCount=1,
            deploymentConfiguration={"strategy": "BLUE_GREEN"},
            loadBalancers=plain,
        )
    assert _error(excinfo)[0] == "InvalidParameterException"
    assert "advancedConfiguration" in _error(excinfo)[1]

    partial = [{**plain[0], "advancedConfiguration": {"alternateTargetGroupArn": world.green, "roleArn": ELB_ROLE}}]
    with pytest.raises(ClientError) as excinfo:
        world.ecs.create_service(
            cluster=CLUSTER,
            serviceName=SERVICE,
            taskDefinition=world.v1,
            desiredCount=1,
            deploymentConfiguration={"strategy": "BLUE_GREEN"},
            loadBalancers=partial,
        )
    assert "productionListenerRule" in _error(excinfo)[1]


def test_an_invalid_update_is_refused_and_changes_nothing(world: World) -> None:
    world.create_service()
    before = world.service()

    with pytest.raises(ClientError) as excinfo:
        world.ecs.update_service(
            cluster=CLUSTER, service=SERVICE, taskDefinition=world.v2, deploymentConfiguration={"strategy": "SIDEWAYS"}
        )

    assert _error(excinfo)[0] == "InvalidParameterException" and "SIDEWAYS" in _error(excinfo)[1]
    after = world.service()
    assert after["taskDefinition"] == before["taskDefinition"] == world.v1
    assert after["deploymentConfiguration"] == before["deploymentConfiguration"]
    assert len(world.listed()["serviceDeployments"]) == 1


def test_strategies_other_than_rolling_need_the_ecs_controller(world: World) -> None:
    with pytest.raises(ClientError) as excinfo:
        world.ecs.create_service(
            cluster=CLUSTER,
            serviceName=SERVICE,
            taskDefinition=world.v1,
            desiredCount=1,
            deploymentController={"type": "CODE_DEPLOY"},
            deploymentConfiguration={"strategy": "BLUE_GREEN"},
        )
    assert _error(excinfo)[0] == "InvalidParameterException" and "BLUE_GREEN" in _error(excinfo)[1]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"status": ["DONE"]}, "InvalidParameterException"),
        ({"maxResults": 0}, "InvalidParameterException"),
        ({"maxResults": 101}, "InvalidParameterException"),
        ({"nextToken": "not-a-token"}, "InvalidParameterException"),
        ({"service": "no-such-service"}, "ServiceNotFoundException"),
        ({"cluster": "no-such-cluster"}, "ClusterNotFoundException"),
    ],
)
def test_list_refuses_bad_arguments_as_ecs_does(world: World, kwargs: dict[str, Any], code: str) -> None:
    world.create_service()
    arguments = {"cluster": CLUSTER, "service": SERVICE, **kwargs}
    with pytest.raises(ClientError) as excinfo:
        world.ecs.list_service_deployments(**arguments)
    assert _error(excinfo)[0] == code


def test_describe_takes_at_most_twenty_arns(world: World) -> None:
    with pytest.raises(ClientError) as excinfo:
        world.ecs.describe_service_deployments(serviceDeploymentArns=[f"arn-{i}" for i in range(21)])
    assert _error(excinfo)[0] == "InvalidParameterException"


# --- the control API ---------------------------------------------------------------------------
def test_the_control_api_reports_and_lists_service_deployments(world: World) -> None:
    first = world.create_service()["currentServiceDeployment"]
    world.control.set_service_deployment_status(first, "SUCCESSFUL")
    second = world.deploy(world.v2)

    record = world.control.service_deployment(second)
    assert record.arn == second and record.strategy == "BLUE_GREEN" and record.status == "IN_PROGRESS"
    described = world.deployment(second)
    assert record.source_revision_arns == (described["sourceServiceRevisions"][0]["arn"],)
    assert record.target_revision_arn == described["targetServiceRevision"]["arn"]
    assert record.created_at == described["createdAt"]
    assert [r.arn for r in world.control.service_deployments(CLUSTER, SERVICE)] == [second, first]
    assert ServiceDeploymentRecord.from_dict(record.to_dict()) == record


def test_the_control_api_refuses_what_ecs_would_not_show(world: World) -> None:
    arn = world.create_service()["currentServiceDeployment"]
    with pytest.raises(StandInError, match="lifecycle stage"):
        world.control.set_service_deployment_stage(arn, "PRE_PRODUCTION_TRAFFIC_SHIFT")  # a hook stage only
    with pytest.raises(StandInError, match="status"):
        world.control.set_service_deployment_status(arn, "DONE")
    with pytest.raises(StandInError, match="does not exist"):
        world.control.service_deployment(arn[:-1] + ("a" if arn[-1] != "a" else "b"))
    with pytest.raises(StandInError):
        world.control.service_deployments(CLUSTER, "no-such-service")

    world.control.set_service_deployment_status(arn, "STOPPED", "Stopped by the test")
    with pytest.raises(StandInError, match="STOPPED"):
        world.control.set_service_deployment_stage(arn, "SCALE_UP")
    stopped = world.deployment(arn)
    assert stopped["statusReason"] == "Stopped by the test"
    assert isinstance(stopped["stoppedAt"], datetime)


# --- the stand-in itself -----------------------------------------------------------------------
def test_install_is_idempotent() -> None:
    install_ecs_deployments()
    install_ecs_deployments()
    assert is_ecs_deployments_installed()


def test_the_enums_are_the_service_models() -> None:
    model = botocore.session.get_session().get_service_model("ecs")
    assert tuple(model.shape_for("DeploymentStrategy").enum) == STRATEGIES
    assert tuple(model.shape_for("DeploymentLifecycleHookStage").enum) == HOOK_STAGES
    assert tuple(model.shape_for("ServiceDeploymentLifecycleStage").enum) == LIFECYCLE_STAGES
    assert tuple(model.shape_for("ServiceDeploymentStatus").enum) == STATUSES


def test_the_shape_check_refuses_a_key_the_model_does_not_have() -> None:
    model = botocore.session.get_session().get_service_model("ecs")
    shape = model.operation_model("DescribeServiceDeployments").output_shape
    answer = {"serviceDeployments": [{"lifecycleStage": "PRE_SCALE_UP", "colour": "green"}]}
    assert shape_problems(answer, shape) == ["$.serviceDeployments[0].colour: not a member of ServiceDeployment"]
    assert shape_problems({"serviceDeployments": [{"createdAt": 1.5}]}, shape) == [
        "$.serviceDeployments[0].createdAt: expected timestamp, got float 1.5"
    ]
