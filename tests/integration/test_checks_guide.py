"""BeforeInstall's deployment-guide checks against moto (extended by the stand-in) and real boto3.

``ec2.security_groups``, ``elb.health_check_config`` and ``ecs.plaintext_secrets`` each judge a real
deployment found by real discovery: a VPC, an ALB with its own security group, blue and green
target groups, an ECS service with an awsvpc network configuration, a CodeDeploy group and a
deployment whose AppSpec names the new task definition. Every check is proved both ways, with the
exact reason.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID

from tests.support.lambda_env import REGION
from tests.support.standin_env import LogCapture
from trafficgate.attempts import run_check
from trafficgate.aws import AwsClients
from trafficgate.checks.base import Check, CheckResult, Outcome
from trafficgate.checks.health_check import HEALTH_CHECK_CONFIG_CHECK_ID, HealthCheckConfigured
from trafficgate.checks.plaintext_secrets import PLAINTEXT_SECRETS_CHECK_ID, PlaintextSecrets
from trafficgate.checks.security_groups import SECURITY_GROUPS_CHECK_ID, SecurityGroupsAllowLoadBalancer
from trafficgate.config import Settings
from trafficgate.context import CheckContext
from trafficgate.hooks import Hook
from trafficgate.plan import default_plan
from trafficgate.plan.loader import parse_plan
from trafficgate.probe.spec import StatusSet
from trafficgate_local.standin import install

ACCOUNT = DEFAULT_ACCOUNT_ID
PORT = 8080
LB_SUBNETS = ("10.0.0.0/24", "10.0.1.0/24")
TASK_SUBNETS = ("10.0.10.0/24", "10.0.11.0/24")


@dataclass
class World:
    """What :func:`build` made in moto: ids a test changes, and the deployment that names them."""

    session: boto3.session.Session
    vpc: str
    lb_sg: str
    task_sg: str
    lb_name: str
    lb_subnets: list[str]
    task_subnets: list[str]
    green_tg: str
    task_definition: str = ""
    deployment_id: str = ""
    calls: list[str] = field(default_factory=list)

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION)

    def ctx(self, **settings: Any) -> CheckContext:
        return CheckContext(
            hook=Hook.BEFORE_INSTALL,
            deployment_id=self.deployment_id,
            execution_id="exec-1",
            settings=Settings(**settings),
            aws=AwsClients(session=self.session),
            deadline=time.monotonic() + 30,
        )

    def ingress(self, group: str, permission: dict[str, Any]) -> None:
        self.client("ec2").authorize_security_group_ingress(GroupId=group, IpPermissions=[permission])

    def egress_only(self, group: str, permission: dict[str, Any] | None) -> None:
        """Replace the group's egress rules (the default: all traffic to 0.0.0.0/0) with ``permission``."""
        ec2 = self.client("ec2")
        ec2.revoke_security_group_egress(
            GroupId=group, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
        )
        if permission is not None:
            ec2.authorize_security_group_egress(GroupId=group, IpPermissions=[permission])

    def deploy(
        self,
        *,
        environment: list[dict[str, str]] | None = None,
        appspec_network: bool = True,
        service_network: bool = True,
        appspec_groups: bool = True,
        grace: int | None = 300,
    ) -> str:
        """Task definition, ECS service and a deployment of it; returns the deployment id."""
        ecs = self.client("ecs")
        self.task_definition = ecs.register_task_definition(
            family="web",
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="256",
            memory="512",
            containerDefinitions=[
                {
                    "name": "web",
                    "image": "public.ecr.aws/docker/library/nginx:stable",
                    "essential": True,
                    "portMappings": [{"containerPort": PORT, "protocol": "tcp"}, {"containerPort": 9901}],
                    "environment": environment or [{"name": "LOG_LEVEL", "value": "info"}],
                }
            ],
        )["taskDefinition"]["taskDefinitionArn"]
        ecs.create_cluster(clusterName="shop-cluster")
        request: dict[str, Any] = {
            "cluster": "shop-cluster",
            "serviceName": "shop-web",
            "taskDefinition": self.task_definition,
            "desiredCount": 2,
            "deploymentController": {"type": "CODE_DEPLOY"},
            "launchType": "FARGATE",
        }
        if grace is not None:
            request["healthCheckGracePeriodSeconds"] = grace
        if service_network:
            request["networkConfiguration"] = {
                "awsvpcConfiguration": {"subnets": self.task_subnets, "securityGroups": [self.task_sg]}
            }
        ecs.create_service(**request)
        properties: dict[str, Any] = {
            "TaskDefinition": self.task_definition,
            "LoadBalancerInfo": {"ContainerName": "web", "ContainerPort": PORT},
        }
        if appspec_network:
            properties["NetworkConfiguration"] = {
                "AwsvpcConfiguration": {
                    "Subnets": self.task_subnets,
                    "SecurityGroups": [self.task_sg] if appspec_groups else [],
                    "AssignPublicIp": "DISABLED",
                }
            }
        service = {"Type": "AWS::ECS::Service", "Properties": properties}
        appspec = {"version": 0.0, "Resources": [{"TargetService": service}]}
        self.deployment_id = self.client("codedeploy").create_deployment(
            applicationName="shop",
            deploymentGroupName="shop-dg",
            revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": json.dumps(appspec)}},
        )["deploymentId"]
        return self.deployment_id


def build(session: boto3.session.Session, **green: Any) -> World:
    """VPC, subnets, the ALB's and the tasks' security groups, ALB, target groups, listeners, CodeDeploy group.

    The tasks' group starts with no ingress; the ALB's with AWS's default egress (all traffic).
    ``green`` overrides CreateTargetGroup parameters of the green target group.
    """
    ec2, elbv2 = boto3.client("ec2", region_name=REGION), boto3.client("elbv2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]

    def subnets(cidrs: tuple[str, ...]) -> list[str]:
        return [
            ec2.create_subnet(VpcId=vpc, CidrBlock=c, AvailabilityZone=f"{REGION}{z}")["Subnet"]["SubnetId"]
            for c, z in zip(cidrs, "ab", strict=True)
        ]

    lb_subnets, task_subnets = subnets(LB_SUBNETS), subnets(TASK_SUBNETS)
    lb_sg = ec2.create_security_group(GroupName="shop-alb", Description="alb", VpcId=vpc)["GroupId"]
    task_sg = ec2.create_security_group(GroupName="shop-tasks", Description="tasks", VpcId=vpc)["GroupId"]
    lb = elbv2.create_load_balancer(Name="shop-alb", Subnets=lb_subnets, SecurityGroups=[lb_sg], Type="application")[
        "LoadBalancers"
    ][0]
    groups = {}
    for colour in ("blue", "green"):
        extra = green if colour == "green" else {}
        groups[colour] = elbv2.create_target_group(
            Name=f"shop-{colour}", Protocol="HTTP", Port=PORT, VpcId=vpc, TargetType="ip", **extra
        )["TargetGroups"][0]["TargetGroupArn"]

    def listener(port: int, colour: str) -> str:
        arn: str = elbv2.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"],
            Protocol="HTTP",
            Port=port,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": groups[colour]}],
        )["Listeners"][0]["ListenerArn"]
        return arn

    prod, test = listener(80, "blue"), listener(8443, "green")
    codedeploy = boto3.client("codedeploy", region_name=REGION)
    codedeploy.create_application(applicationName="shop", computePlatform="ECS")
    codedeploy.create_deployment_group(
        applicationName="shop",
        deploymentGroupName="shop-dg",
        serviceRoleArn=f"arn:aws:iam::{ACCOUNT}:role/codedeploy",
        deploymentConfigName="CodeDeployDefault.ECSAllAtOnce",
        deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        loadBalancerInfo={
            "targetGroupPairInfoList": [
                {
                    "targetGroups": [{"name": "shop-blue"}, {"name": "shop-green"}],
                    "prodTrafficRoute": {"listenerArns": [prod]},
                    "testTrafficRoute": {"listenerArns": [test]},
                }
            ]
        },
        ecsServices=[{"clusterName": "shop-cluster", "serviceName": "shop-web"}],
    )
    return World(
        session=session,
        vpc=vpc,
        lb_sg=lb_sg,
        task_sg=task_sg,
        lb_name="shop-alb",
        lb_subnets=lb_subnets,
        task_subnets=task_subnets,
        green_tg=groups["green"],
    )


@pytest.fixture
def aws() -> Iterator[boto3.session.Session]:
    install()
    with mock_aws():
        yield boto3.session.Session(region_name=REGION)


@pytest.fixture
def world(aws: boto3.session.Session) -> World:
    return build(aws)


def run(check: Check, ctx: CheckContext) -> CheckResult:
    result = check.run(ctx)
    assert isinstance(result, CheckResult)
    assert result.reason and "\n" not in result.reason
    return result


def cidr(port: int, block: str) -> dict[str, Any]:
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": block}]}


def from_lb(world: World, port: int = PORT, to_port: int | None = None, protocol: str = "tcp") -> dict[str, Any]:
    return {
        "IpProtocol": protocol,
        "FromPort": port,
        "ToPort": to_port or port,
        "UserIdGroupPairs": [{"GroupId": world.lb_sg}],
    }


# --------------------------------------------------------------------------------------------
# the built-in plan: every BeforeInstall check on a sound deployment
# --------------------------------------------------------------------------------------------
def test_the_built_in_before_install_plan_runs_the_three_checks_and_a_sound_deployment_passes(world: World) -> None:
    world.ingress(world.task_sg, from_lb(world))
    world.deploy()
    ctx = world.ctx()

    checks = default_plan(Hook.BEFORE_INSTALL, Settings())
    ids = [c.check_id for c in checks]
    three = [PLAINTEXT_SECRETS_CHECK_ID, SECURITY_GROUPS_CHECK_ID, HEALTH_CHECK_CONFIG_CHECK_ID]
    start = ids.index(PLAINTEXT_SECRETS_CHECK_ID)
    assert ids[start : start + 3] == three
    results = {c.check_id: run(c, ctx) for c in checks if c.check_id in three}
    assert {k: r.outcome for k, r in results.items()} == dict.fromkeys(three, Outcome.PASS)
    plaintext = next(c for c in checks if c.check_id == PLAINTEXT_SECRETS_CHECK_ID)
    assert plaintext.policy.dry_run is True  # warns by default
    # network.vpc_endpoints is informational too (tests/integration/test_checks_iam_network.py).
    dry = {c.check_id for c in checks if c.policy.dry_run}
    assert dry == {PLAINTEXT_SECRETS_CHECK_ID, "network.vpc_endpoints"}


# --------------------------------------------------------------------------------------------
# ec2.security_groups
# --------------------------------------------------------------------------------------------
def test_security_groups_pass_with_ingress_from_the_load_balancers_group(world: World) -> None:
    world.ingress(world.task_sg, from_lb(world))
    world.deploy()

    result = run(SecurityGroupsAllowLoadBalancer(), world.ctx())

    assert result.outcome is Outcome.PASS
    assert result.reason == (
        f"{world.task_sg} (tasks, from the AppSpec) allows ingress from {world.lb_sg} (load balancer shop-alb) "
        f"on tcp/8080, and {world.lb_sg} allows egress to them"
    )
    assert result.details["ingress"]["matched"] == [f"{world.task_sg} tcp/8080 from {world.lb_sg}"]
    assert result.details["egress"]["matched"] == [f"{world.lb_sg} all traffic to 0.0.0.0/0"]


def test_security_groups_fail_naming_the_missing_ingress_rule(world: World) -> None:
    world.ingress(world.task_sg, from_lb(world, port=80))  # the wrong port
    world.deploy()

    result = run(SecurityGroupsAllowLoadBalancer(), world.ctx())

    assert result.outcome is Outcome.FAIL
    assert result.reason == (
        f"{world.task_sg} (tasks) has no ingress from {world.lb_sg} (load balancer shop-alb) on tcp/8080 "
        f"(seen ingress: {world.task_sg} tcp/80 from {world.lb_sg})"
    )
    assert result.value == {"ingress": "missing", "egress": "ok"}


def test_security_groups_fail_naming_the_missing_egress_rule(world: World) -> None:
    world.ingress(world.task_sg, from_lb(world))
    world.egress_only(world.lb_sg, cidr(443, "0.0.0.0/0"))
    world.deploy()

    result = run(SecurityGroupsAllowLoadBalancer(), world.ctx())

    assert result.outcome is Outcome.FAIL
    assert result.reason == (
        f"{world.lb_sg} (load balancer shop-alb) has no egress to {world.task_sg} (tasks) on tcp/8080 "
        f"(seen egress: {world.lb_sg} tcp/443 to 0.0.0.0/0)"
    )


def test_security_groups_accept_a_port_range_or_all_traffic(world: World) -> None:
    world.ingress(world.task_sg, from_lb(world, port=8000, to_port=8999))
    world.deploy()
    assert run(SecurityGroupsAllowLoadBalancer(), world.ctx()).outcome is Outcome.PASS


def test_security_groups_accept_cidrs_that_cover_every_load_balancer_subnet(world: World) -> None:
    world.ingress(world.task_sg, {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "10.0.0.0/23"}]})
    world.egress_only(world.lb_sg, cidr(PORT, "10.0.8.0/21"))
    world.deploy()

    result = run(SecurityGroupsAllowLoadBalancer(), world.ctx())

    assert result.outcome is Outcome.PASS, result.reason
    assert result.details["ingress"]["matched"] == [f"{world.task_sg} all traffic from 10.0.0.0/23"]


def test_security_groups_fail_when_cidrs_cover_only_part_of_the_load_balancer(world: World) -> None:
    world.ingress(world.task_sg, cidr(PORT, "10.0.0.0/24"))
    world.deploy()

    result = run(SecurityGroupsAllowLoadBalancer(), world.ctx())

    assert result.outcome is Outcome.FAIL
    assert result.reason == (
        f"{world.task_sg} (tasks) has no ingress from {world.lb_sg} (load balancer shop-alb) on tcp/8080 "
        f"(no rule covers 10.0.1.0/24) (seen ingress: {world.task_sg} tcp/8080 from 10.0.0.0/24)"
    )


def test_a_load_balancer_without_security_groups_is_judged_by_its_subnets(world: World) -> None:
    elbv2 = world.client("elbv2")
    arn = elbv2.describe_load_balancers(Names=[world.lb_name])["LoadBalancers"][0]["LoadBalancerArn"]
    elbv2.set_security_groups(LoadBalancerArn=arn, SecurityGroups=[])
    world.ingress(world.task_sg, from_lb(world))  # names a group the load balancer no longer has
    world.deploy()

    blocked = run(SecurityGroupsAllowLoadBalancer(), world.ctx())
    world.ingress(world.task_sg, cidr(PORT, "10.0.0.0/23"))
    allowed = run(SecurityGroupsAllowLoadBalancer(), world.ctx())

    assert blocked.outcome is Outcome.FAIL
    assert blocked.reason == (
        f"{world.task_sg} (tasks) has no ingress from the subnets of load balancer shop-alb (10.0.0.0/24, "
        f"10.0.1.0/24) on tcp/8080 (seen ingress: {world.task_sg} tcp/8080 from {world.lb_sg})"
    )
    assert allowed.outcome is Outcome.PASS
    assert allowed.reason == (
        f"{world.task_sg} (tasks, from the AppSpec) allows ingress from the subnets of load balancer shop-alb "
        "(10.0.0.0/24, 10.0.1.0/24) on tcp/8080 (the load balancer has no security groups: no egress rule to judge)"
    )


def test_a_prefix_list_alone_is_inconclusive_and_named(world: World) -> None:
    ec2 = world.client("ec2")
    prefix_list = ec2.create_managed_prefix_list(PrefixListName="alb", MaxEntries=2, AddressFamily="IPv4")[
        "PrefixList"
    ]["PrefixListId"]
    world.ingress(
        world.task_sg,
        {"IpProtocol": "tcp", "FromPort": PORT, "ToPort": PORT, "PrefixListIds": [{"PrefixListId": prefix_list}]},
    )
    world.deploy()

    result = run(SecurityGroupsAllowLoadBalancer(), world.ctx())

    assert result.outcome is Outcome.INCONCLUSIVE
    assert result.reason == (
        f"{world.task_sg} (tasks) allow tcp/8080 from prefix list(s) {prefix_list} only, which this check cannot "
        f"resolve; expected ingress from {world.lb_sg} (load balancer shop-alb)"
    )


def test_the_services_network_configuration_is_used_without_the_appspecs(world: World) -> None:
    world.ingress(world.task_sg, from_lb(world))
    world.deploy(appspec_network=False)

    result = run(SecurityGroupsAllowLoadBalancer(), world.ctx())

    assert result.outcome is Outcome.PASS
    assert result.reason.startswith(f"{world.task_sg} (tasks, from service shop-web) allows ingress")


def test_an_appspec_network_without_groups_is_not_filled_in_from_the_service(world: World) -> None:
    # The AppSpec's awsvpc configuration replaces the service's: with no groups the tasks get the
    # VPC's default group, not the service's groups, so those are not judged in its place.
    world.ingress(world.task_sg, from_lb(world))
    world.deploy(appspec_groups=False)

    result = run(SecurityGroupsAllowLoadBalancer(), world.ctx())

    assert result.outcome is Outcome.PASS
    assert result.reason == (
        "the awsvpc configuration of the AppSpec names no security groups: the tasks get their VPC's default "
        "group, which this check does not read; not judged (expected awsvpc subnets and security groups)"
    )
    assert result.warnings == (result.reason,)


def test_no_network_configuration_anywhere_is_said_not_judged(world: World) -> None:
    world.deploy(appspec_network=False, service_network=False)

    result = run(SecurityGroupsAllowLoadBalancer(), world.ctx())

    assert result.outcome is Outcome.PASS
    assert result.reason == (
        "no awsvpc network configuration in the AppSpec or on service shop-web: the tasks' security groups are "
        "unknown; not judged (expected awsvpc subnets and security groups)"
    )
    assert result.warnings == (result.reason,)


def test_a_deleted_security_group_fails_naming_it(world: World) -> None:
    world.ingress(world.task_sg, from_lb(world))
    world.deploy()
    # The AppSpec names the tasks' group; delete it after the deployment was created.
    world.client("ec2").delete_security_group(GroupId=world.task_sg)

    result = run(SecurityGroupsAllowLoadBalancer(), world.ctx())

    assert result.outcome is Outcome.FAIL
    assert result.reason == (
        f"security group(s) not found: {world.task_sg} (tasks); expected every group of the tasks (the AppSpec) "
        "and of the load balancer to exist"
    )


# --------------------------------------------------------------------------------------------
# elb.health_check_config
# --------------------------------------------------------------------------------------------
def test_health_check_config_passes_with_the_numbers(world: World) -> None:
    world.deploy(grace=150)

    result = run(HealthCheckConfigured(), world.ctx())

    assert result.outcome is Outcome.PASS
    assert result.reason == (
        "green target group shop-green: health check HTTP traffic-port/ reaches container web:8080, matcher 200 "
        "accepts 200; service shop-web grace period 150 s >= interval 30 s x healthy threshold 5 = 150 s"
    )
    assert result.warnings == ()


@pytest.mark.parametrize(
    ("green", "grace", "expected_status", "reason"),
    [
        (
            {"HealthCheckPort": "80"},
            300,
            None,
            "health check port 80 is neither traffic-port nor the container port 8080 (web) nor a port the task "
            "definition maps (8080, 9901)",
        ),
        (
            {"HealthCheckProtocol": "HTTPS"},
            300,
            None,
            "health check protocol HTTPS does not match the target group's protocol HTTP on the traffic port 8080; "
            "expected HTTP",
        ),
        (
            {"Matcher": {"HttpCode": "200-299"}, "HealthCheckPath": "/login"},
            300,
            "200,302",
            "matcher 200-299 does not accept 302, which the health check path /login answers "
            "(expected status 200,302)",
        ),
        (
            {"HealthCheckIntervalSeconds": 20, "HealthyThresholdCount": 4},
            60,
            None,
            "service shop-web healthCheckGracePeriodSeconds 60 s < interval 20 s x healthy threshold 4 = 80 s",
        ),
    ],
    ids=["port", "protocol", "matcher", "grace"],
)
def test_health_check_config_fails_naming_each_mismatch(
    aws: boto3.session.Session, green: dict[str, Any], grace: int, expected_status: str | None, reason: str
) -> None:
    world = build(aws, **green)
    world.deploy(grace=grace)
    check = HealthCheckConfigured(expected_status=StatusSet.parse(expected_status) if expected_status else None)

    result = run(check, world.ctx())

    assert result.outcome is Outcome.FAIL
    assert result.reason == f"green target group shop-green: {reason}"
    assert result.details["mismatches"] == [reason]


def test_a_health_check_on_another_mapped_port_passes(aws: boto3.session.Session) -> None:
    world = build(aws, HealthCheckPort="9901")
    world.deploy()
    assert run(HealthCheckConfigured(), world.ctx()).outcome is Outcome.PASS


def test_every_mismatch_is_named_at_once(aws: boto3.session.Session) -> None:
    world = build(aws, HealthCheckPort="81", Matcher={"HttpCode": "301"})
    world.deploy(grace=10)

    result = run(HealthCheckConfigured(), world.ctx())

    assert result.outcome is Outcome.FAIL
    assert len(result.details["mismatches"]) == 3
    assert result.reason.count("; ") == 2


def test_the_expected_status_comes_from_the_settings(world: World) -> None:
    world.deploy()
    result = run(HealthCheckConfigured(), world.ctx(health_check_status=StatusSet.parse("204")))
    assert result.outcome is Outcome.FAIL
    assert "matcher 200 does not accept 204, which the health check path / answers (expected status 204)" in (
        result.reason
    )


def test_a_service_without_a_grace_period_warns_and_a_plan_can_require_one(world: World) -> None:
    world.deploy(grace=None)
    warning = (
        "service shop-web sets no healthCheckGracePeriodSeconds (0 s) < interval 30 s x healthy threshold 5 = 150 s"
    )

    lenient = run(HealthCheckConfigured(), world.ctx())
    strict = run(HealthCheckConfigured(require_grace_period=True), world.ctx())

    assert lenient.outcome is Outcome.PASS
    assert lenient.warnings == (warning + " (require_grace_period makes this fail)",)
    assert strict.outcome is Outcome.FAIL
    assert strict.reason == f"green target group shop-green: {warning}"


# --------------------------------------------------------------------------------------------
# ecs.plaintext_secrets
# --------------------------------------------------------------------------------------------
AWS_KEY_ID = "AKIA" + "Q3EXAMPLE7Z4KX2P"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
DB_PASSWORD = "hunter2-but-longer"
SECRET_VALUES = (AWS_KEY_ID, AWS_SECRET, DB_PASSWORD)


def test_plaintext_secrets_pass_on_obvious_non_secrets(world: World) -> None:
    world.deploy(
        environment=[
            {"name": "TOKEN_TTL", "value": "300"},
            {"name": "SECRET_NAME", "value": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:shop/db-AbCdEf"},
            {"name": "ENABLE_API_KEY_AUTH", "value": "true"},
            {"name": "PASSWORD_MIN_LENGTH", "value": "12"},
            {"name": "SESSION_TOKEN_RETRIES", "value": "3"},
            {"name": "TOKENIZER_MODEL", "value": "bert-base-uncased"},
            {"name": "LOG_LEVEL", "value": "info"},
        ]
    )

    result = run(PlaintextSecrets(), world.ctx())

    assert result.outcome is Outcome.PASS
    assert result.reason == "no environment variable of 1 container(s) looks like a credential (7 checked)"


def test_plaintext_secrets_name_container_variable_and_rule_never_the_value(world: World) -> None:
    world.deploy(
        environment=[
            {"name": "AWS_ACCESS_KEY_ID", "value": AWS_KEY_ID},
            {"name": "AWS_SECRET_ACCESS_KEY", "value": AWS_SECRET},
            {"name": "DB_PASSWORD", "value": DB_PASSWORD},
            {"name": "LOG_LEVEL", "value": "info"},
        ]
    )

    result = run(PlaintextSecrets(), world.ctx())

    assert result.outcome is Outcome.FAIL
    assert result.reason == (
        "3 environment variable(s) look like credentials in plain text: container web: AWS_ACCESS_KEY_ID "
        "(value:aws-access-key-id), AWS_SECRET_ACCESS_KEY (value:aws-secret-access-key), DB_PASSWORD "
        "(name:password); expected in secrets (Secrets Manager or SSM Parameter Store), not environment"
    )
    shown = repr(result) + json.dumps(dict(result.details)) + json.dumps(result.value)
    for value in SECRET_VALUES:
        assert value not in shown


def test_plaintext_secrets_warn_by_default_and_a_plan_entry_enforces(world: World, log_capture: LogCapture) -> None:
    world.deploy(environment=[{"name": "DB_PASSWORD", "value": DB_PASSWORD}])
    ctx = world.ctx()
    builtin = next(c for c in default_plan(Hook.BEFORE_INSTALL, Settings()) if c.check_id == PLAINTEXT_SECRETS_CHECK_ID)
    plan = parse_plan(
        {"hooks": {"BeforeInstall": [{"id": PLAINTEXT_SECRETS_CHECK_ID}]}}, source="test"
    )
    enforced = plan.checks_for(Hook.BEFORE_INSTALL)
    assert enforced is not None

    warned = [run_check(builtin, ctx)]
    failed = [run_check(check, world.ctx()) for check in enforced]

    assert [(r.outcome, r.dry_run, r.blocks) for r in warned] == [(Outcome.FAIL, True, False)]
    assert [(r.outcome, r.dry_run, r.blocks) for r in failed] == [(Outcome.FAIL, False, True)]
    reason = (
        "1 environment variable(s) look like credentials in plain text: container web: DB_PASSWORD (name:password); "
        "expected in secrets (Secrets Manager or SSM Parameter Store), not environment"
    )
    assert warned[0].reason == failed[0].reason == reason
    records = json.dumps([r.to_dict() for r in (*warned, *failed)])
    assert DB_PASSWORD not in records
    logged = log_capture.text()
    assert "check ecs.plaintext_secrets: fail: 1 environment variable(s)" in logged  # the reason was logged...
    assert DB_PASSWORD not in logged  # ...never the value


def test_the_allow_list_silences_a_name(world: World) -> None:
    world.deploy(environment=[{"name": "PUBLIC_TOKEN", "value": "pk_test_shown_in_the_browser_anyway"}])
    assert run(PlaintextSecrets(), world.ctx()).outcome is Outcome.FAIL
    assert run(PlaintextSecrets(allow=("public_token",)), world.ctx()).outcome is Outcome.PASS
