"""BeforeInstall ``iam.execution_role`` and ``network.vpc_endpoints`` against the stand-in, both ways.

The execution role is judged by the stand-in's SimulatePrincipalPolicy (real policy documents on
moto's IAM); the network by moto's subnets, route tables, gateways and VPC endpoints.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from tests.integration.test_checks_taskdef import ACCOUNT, Aws, aws, run
from tests.support.lambda_env import REGION
from trafficgate.checks.base import CheckError, Outcome
from trafficgate.checks.execution_role import ExecutionRole, denials, secret_resource
from trafficgate.checks.vpc_endpoints import VPC_ENDPOINTS_CHECK_ID, VpcEndpoints
from trafficgate.config import Settings
from trafficgate.context import CheckContext
from trafficgate.hooks import Hook
from trafficgate.plan import default_plan
from trafficgate.plan.loader import parse_plan_text

__all__ = ["aws"]  # the fixture, shared with the task definition checks

pytestmark = pytest.mark.integration

REPO_ARN = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/app"
PULL = {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}
LAYERS = {"Effect": "Allow", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], "Resource": REPO_ARN}


def _role(aws: Aws, name: str, *statements: dict[str, Any]) -> str:
    iam = aws.client("iam")
    arn: str = iam.create_role(RoleName=name, AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    if statements:
        document = json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
        iam.put_role_policy(RoleName=name, PolicyName="task-execution", PolicyDocument=document)
    return arn


# --------------------------------------------------------------------------------------------
# iam.execution_role
# --------------------------------------------------------------------------------------------
def test_secret_resources_are_the_arns_the_role_needs() -> None:
    where = {"partition": "aws", "region": REGION, "account": ACCOUNT}
    secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:shop/db-AbCdEf"
    assert secret_resource(f"{secret}:password::", **where) == ("secretsmanager:GetSecretValue", secret)
    assert secret_resource("/shop/key", **where) == (
        "ssm:GetParameters",
        f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/shop/key",
    )
    assert secret_resource("plain", **where) == ("ssm:GetParameters", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/plain")
    assert secret_resource(f"arn:aws:s3:::bucket/{ACCOUNT}", **where) is None
    assert secret_resource("arn:aws:ssm:eu-west-1", **where) is None  # too short to be any ARN
    # A registry login by secret name: that secret, whatever its random suffix.
    assert secret_resource("dockerhub-login", **where, bare="secretsmanager") == (
        "secretsmanager:GetSecretValue",
        f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:dockerhub-login-??????",
    )
    # The older answer shape: one result per resource, no ResourceSpecificResults.
    assert denials([{"EvalActionName": "a:B", "EvalResourceName": "r", "EvalDecision": "implicitDeny"}]) == [
        ("a:B", "r", "implicitDeny")
    ]


def test_an_execution_role_that_may_pull_and_read_passes(aws: Aws) -> None:
    secret = aws.client("secretsmanager").create_secret(Name="shop/db", SecretString="x")["ARN"]
    parameter = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/shop/api-key"
    role = _role(
        aws,
        "ecsTaskExecution",
        PULL,
        LAYERS,
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": f"{secret[:-6]}*"},
        {
            "Effect": "Allow",
            "Action": "ssm:GetParameter?",
            "Resource": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/shop/*",
        },
    )
    task_role = _role(aws, "shop-task")
    arn = aws.register(
        executionRoleArn=role,
        taskRoleArn=task_role,
        container={
            "secrets": [
                {"name": "DB_PASSWORD", "valueFrom": f"{secret}:password::"},
                {"name": "API_KEY", "valueFrom": "/shop/api-key"},
            ]
        },
        extra_containers=[{"name": "sidecar", "image": "busybox:1", "essential": False}],
    )

    result = run(ExecutionRole(), aws.ctx(arn))

    assert result.outcome is Outcome.PASS, result.reason
    assert (
        result.reason
        == "execution role ecsTaskExecution may make the 5 call(s) the task needs; task role shop-task exists"
    )
    assert result.warnings == ("image busybox:1 of container sidecar is not in ECR: pull not simulated",)
    assert result.details["checked"] == [
        "ecr:GetAuthorizationToken on *",
        f"ecr:BatchGetImage on {REPO_ARN}",
        f"ecr:GetDownloadUrlForLayer on {REPO_ARN}",
        f"secretsmanager:GetSecretValue on {secret}",
        f"ssm:GetParameters on {parameter}",
    ]
    assert aws.calls.count("iam.SimulatePrincipalPolicy") == 4 and "iam.GetRole" in aws.calls


def test_a_role_that_cannot_pull_or_read_fails_naming_role_action_resource_and_decision(aws: Aws) -> None:
    secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/db-AbCdEf"
    role = _role(
        aws,
        "ecsTaskExecution",
        {"Effect": "Allow", "Action": "ecr:Get*", "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": "ecr:BatchGetImage",
            "Resource": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/other",
        },
        {"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"},
        {
            "Effect": "Deny",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "arn:aws:secretsmanager:*:*:secret:prod/*",
        },
    )
    arn = aws.register(executionRoleArn=role, container={"secrets": [{"name": "DB", "valueFrom": secret}]})

    result = run(ExecutionRole(), aws.ctx(arn))

    assert result.outcome is Outcome.FAIL
    assert result.reason == (
        f"execution role ecsTaskExecution cannot ecr:BatchGetImage on {REPO_ARN} (implicitDeny); "
        f"execution role ecsTaskExecution cannot secretsmanager:GetSecretValue on {secret} (explicitDeny); "
        "expected the execution role to allow every pull and secret read and the task role to exist"
    )
    assert result.value == {"checked": 4, "denied": 2}


def test_a_registry_login_by_secret_name_is_simulated_as_that_secret(aws: Aws) -> None:
    # credentialsParameter may name the secret instead of giving its ARN; it is never an SSM parameter.
    login = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:dockerhub-login-*"
    allowed = _role(aws, "mayLogIn", {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": login})
    other = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:other-*"
    refused = _role(aws, "mayNot", {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": other})
    container = {"image": "docker.io/acme/web:1", "repositoryCredentials": {"credentialsParameter": "dockerhub-login"}}

    passed = run(ExecutionRole(), aws.ctx(aws.register(executionRoleArn=allowed, container=container)))
    failed = run(ExecutionRole(), aws.ctx(aws.register(executionRoleArn=refused, container=container)))

    assert passed.outcome is Outcome.PASS, passed.reason
    assert passed.details["checked"] == [f"secretsmanager:GetSecretValue on {login[:-1]}??????"]
    assert failed.outcome is Outcome.FAIL
    assert failed.reason.startswith(
        f"execution role mayNot cannot secretsmanager:GetSecretValue on {login[:-1]}?????? (implicitDeny)"
    )


def test_no_execution_role_fails_naming_what_needs_one(aws: Aws) -> None:
    arn = aws.register(container={"secrets": [{"name": "KEY", "valueFrom": "/shop/key"}]})

    result = run(ExecutionRole(), aws.ctx(arn))

    assert result.outcome is Outcome.FAIL
    assert result.reason == (
        "task definition web has no executionRoleArn, but ECS needs one to pull or read: "
        "image app:1 of container web; secret KEY of container web; "
        "expected the execution role to allow every pull and secret read and the task role to exist"
    )
    assert "iam.SimulatePrincipalPolicy" not in aws.calls


def test_a_public_image_without_secrets_needs_no_execution_role(aws: Aws) -> None:
    arn = aws.register(container={"image": "nginx:1.27"})

    result = run(ExecutionRole(), aws.ctx(arn))

    assert result.outcome is Outcome.PASS
    assert result.reason == "no ECR image or secret needs the execution role"
    assert result.warnings == ("image nginx:1.27 of container web is not in ECR: pull not simulated",)


def test_missing_execution_and_task_roles_fail(aws: Aws) -> None:
    ghost = f"arn:aws:iam::{ACCOUNT}:role/ghost"
    task = f"arn:aws:iam::{ACCOUNT}:role/app/ghost-task"
    arn = aws.register(executionRoleArn=ghost, taskRoleArn=task)

    result = run(ExecutionRole(), aws.ctx(arn))

    assert result.outcome is Outcome.FAIL
    assert result.reason == (
        f"execution role ghost does not exist ({ghost}); task role ghost-task does not exist ({task}); "
        "expected the execution role to allow every pull and secret read and the task role to exist"
    )


def test_conditions_the_simulator_skipped_are_warned_about(aws: Aws) -> None:
    role = _role(aws, "cond", {**PULL, "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}}}, LAYERS)
    result = run(ExecutionRole(), aws.ctx(aws.register(executionRoleArn=role)))
    assert result.outcome is Outcome.PASS
    assert result.warnings == ("execution role cond: conditions on aws:SourceVpce were not evaluated by the simulator",)


def test_a_simulator_that_refuses_is_an_error_not_a_verdict(aws: Aws) -> None:
    user = f"arn:aws:iam::{ACCOUNT}:user/bob"  # the stand-in simulates roles only: InvalidInput
    with pytest.raises(CheckError, match=r"could not read what execution role bob may do .*InvalidInput"):
        ExecutionRole().run(aws.ctx(aws.register(executionRoleArn=user)))


# --------------------------------------------------------------------------------------------
# network.vpc_endpoints
# --------------------------------------------------------------------------------------------
@dataclasses.dataclass
class Vpc:
    vpc: str
    subnet: str
    table: str
    #: The tasks' security group, and the endpoints' (it admits tcp/443 from the tasks').
    tasks_sg: str = ""
    endpoint_sg: str = ""


def _vpc(aws: Aws, *, egress: str | None = None, explicit: bool = True) -> Vpc:
    """A VPC with one subnet; its route table (explicit, or the main one) routes 0.0.0.0/0 per ``egress``."""
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    # Interface endpoints with private DNS need the VPC's DNS hostnames (AWS refuses them otherwise).
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.1.0/24")["Subnet"]["SubnetId"]
    tasks_sg = ec2.create_security_group(GroupName="tasks", Description="tasks", VpcId=vpc)["GroupId"]
    endpoint_sg = ec2.create_security_group(GroupName="endpoints", Description="endpoints", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=endpoint_sg,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "UserIdGroupPairs": [{"GroupId": tasks_sg}]}
        ],
    )
    if explicit:
        table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    else:
        tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"]
        table = next(t["RouteTableId"] for t in tables if any(a.get("Main") for a in t["Associations"]))
    if egress is not None:
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
        if egress == "igw":
            ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
        else:
            nat = ec2.create_nat_gateway(SubnetId=subnet)["NatGateway"]["NatGatewayId"]
            ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
    return Vpc(vpc, subnet, table, tasks_sg, endpoint_sg)


def _endpoints(
    aws: Aws, net: Vpc, *names: str, s3: str = "gateway", groups: list[str] | None = None, private_dns: bool = True
) -> list[str]:
    """Interface endpoints for ``names`` (in the endpoints' group unless ``groups`` says); their ids."""
    ec2 = aws.client("ec2")
    ids = []
    for name in names:
        request: dict[str, Any] = {
            "VpcId": net.vpc,
            "ServiceName": f"com.amazonaws.{REGION}.{name}",
            "VpcEndpointType": "Interface",
            "SubnetIds": [net.subnet],
            "PrivateDnsEnabled": private_dns,
        }
        if groups is None or groups:
            request["SecurityGroupIds"] = [net.endpoint_sg] if groups is None else groups
        ids.append(ec2.create_vpc_endpoint(**request)["VpcEndpoint"]["VpcEndpointId"])
    if s3 == "gateway":
        ec2.create_vpc_endpoint(
            VpcId=net.vpc,
            ServiceName=f"com.amazonaws.{REGION}.s3",
            VpcEndpointType="Gateway",
            RouteTableIds=[net.table],
        )
    return ids


def _ctx(aws: Aws, task_definition_arn: str, net: Vpc, *, public_ip: bool = False) -> CheckContext:
    """A context whose AppSpec runs the service in ``net``'s subnet."""
    ctx = aws.ctx(task_definition_arn)
    assert ctx._deployment is not None and ctx._deployment.appspec is not None
    awsvpc = {
        "Subnets": [net.subnet],
        "SecurityGroups": [net.tasks_sg],
        "AssignPublicIp": "ENABLED" if public_ip else "DISABLED",
    }
    raw = {
        "Resources": [
            {
                "TargetService": {
                    "Type": "AWS::ECS::Service",
                    "Properties": {"NetworkConfiguration": {"AwsvpcConfiguration": awsvpc}},
                }
            }
        ]
    }
    appspec = dataclasses.replace(ctx._deployment.appspec, raw=raw)
    ctx._deployment = dataclasses.replace(ctx._deployment, appspec=appspec)
    return ctx


def _logged_with_secret(aws: Aws) -> str:
    secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:shop/db-AbCdEf"
    logs = {
        "logDriver": "awslogs",
        "options": {"awslogs-group": "shop", "awslogs-region": REGION, "awslogs-stream-prefix": "w"},
    }
    return aws.register(container={"logConfiguration": logs, "secrets": [{"name": "DB", "valueFrom": secret}]})


def test_an_isolated_subnet_with_every_endpoint_passes(aws: Aws) -> None:
    net = _vpc(aws)
    _endpoints(aws, net, "ecr.api", "ecr.dkr", "logs", "secretsmanager")

    result = run(VpcEndpoints(), _ctx(aws, _logged_with_secret(aws), net))

    assert result.outcome is Outcome.PASS
    assert result.reason == "1 subnet(s) without egress have every endpoint the task needs"
    assert result.warnings == ()


def test_missing_endpoints_are_named_and_the_built_in_entry_only_reports_them(aws: Aws) -> None:
    net = _vpc(aws, explicit=False)  # the main route table applies: no association of its own
    _endpoints(aws, net, "ecr.api", s3="none")
    arn = _logged_with_secret(aws)
    where = f"subnet {net.subnet} has no route to a NAT or internet gateway and VPC {net.vpc}"
    missing = [
        f"{where} has no endpoint com.amazonaws.{REGION}.ecr.dkr (image pulls)",
        f"{where} has no endpoint com.amazonaws.{REGION}.s3 (image layers)",
        f"{where} has no endpoint com.amazonaws.{REGION}.logs (awslogs logging)",
        f"{where} has no endpoint com.amazonaws.{REGION}.secretsmanager (secrets)",
    ]
    (built_in,) = [c for c in default_plan(Hook.BEFORE_INSTALL, Settings()) if c.check_id == VPC_ENDPOINTS_CHECK_ID]

    result = run(built_in, _ctx(aws, arn, net))

    assert result.outcome is Outcome.FAIL
    assert result.reason == "; ".join(missing) + "; expected egress or these endpoints"
    assert result.details["missing"] == missing
    # Informational by default: the built-in entry is a dry run; a plan entry enforces it.
    assert built_in.policy.dry_run is True
    plan = parse_plan_text(
        '{"version": 1, "hooks": {"BeforeInstall": [{"id": "network.vpc_endpoints"}]}}', source="test"
    )
    (enforced,) = plan.checks_for(Hook.BEFORE_INSTALL) or []
    assert isinstance(enforced, VpcEndpoints) and enforced.policy.dry_run is False


def test_an_s3_gateway_endpoint_on_another_route_table_does_not_count(aws: Aws) -> None:
    net = _vpc(aws)
    _endpoints(aws, net, "ecr.api", "ecr.dkr", s3="none")
    other = aws.client("ec2").create_route_table(VpcId=net.vpc)["RouteTable"]["RouteTableId"]
    _endpoints(aws, dataclasses.replace(net, table=other))

    result = run(VpcEndpoints(), _ctx(aws, aws.register(), net))

    assert result.outcome is Outcome.FAIL
    assert f"VPC {net.vpc} has no endpoint com.amazonaws.{REGION}.s3 (image layers)" in result.reason


def test_an_endpoint_in_the_vpcs_default_group_is_closed_to_the_tasks(aws: Aws) -> None:
    # Created without groups, an interface endpoint gets its VPC's default group, which admits only
    # its own members: the tasks' pulls time out (CannotPullContainerError).
    net = _vpc(aws)
    [api] = _endpoints(aws, net, "ecr.api", groups=[])
    _endpoints(aws, net, "ecr.dkr", s3="none")
    [default] = aws.client("ec2").describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [net.vpc]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"]

    result = run(VpcEndpoints(), _ctx(aws, aws.register(), net))

    assert result.outcome is Outcome.FAIL
    where = f"subnet {net.subnet} has no route to a NAT or internet gateway and VPC {net.vpc}"
    assert result.reason == (
        f"{where}: endpoint {api} (com.amazonaws.{REGION}.ecr.api) admits no tcp/443 from the tasks "
        f"({net.tasks_sg}, subnet {net.subnet} (10.1.1.0/24)) (seen ingress: {default['GroupId']} all traffic from "
        f"{default['GroupId']}); expected egress or these endpoints"
    )


def test_an_endpoint_with_private_dns_off_does_not_serve_the_tasks(aws: Aws) -> None:
    net = _vpc(aws)
    [dkr] = _endpoints(aws, net, "ecr.dkr", private_dns=False)
    _endpoints(aws, net, "ecr.api", s3="none")

    result = run(VpcEndpoints(), _ctx(aws, aws.register(), net))

    assert result.outcome is Outcome.FAIL
    assert (
        f"endpoint {dkr} (com.amazonaws.{REGION}.ecr.dkr) has private DNS off: the tasks resolve the service's "
        "public name, which they cannot reach" in result.reason
    )


def test_an_endpoint_open_to_the_subnets_cidr_serves_the_tasks(aws: Aws) -> None:
    net = _vpc(aws)
    ec2 = aws.client("ec2")
    by_cidr = ec2.create_security_group(GroupName="by-cidr", Description="vpc", VpcId=net.vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=by_cidr,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.1.0.0/16"}]}],
    )
    _endpoints(aws, net, "ecr.api", "ecr.dkr", groups=[by_cidr])

    result = run(VpcEndpoints(), _ctx(aws, aws.register(), net))

    assert result.outcome is Outcome.PASS, result.reason
    assert result.warnings == ()


def test_an_image_outside_ecr_cannot_be_pulled_from_an_isolated_subnet(aws: Aws) -> None:
    net = _vpc(aws)
    result = run(VpcEndpoints(), _ctx(aws, aws.register(container={"image": "nginx:1.27"}), net))
    assert result.outcome is Outcome.FAIL
    assert result.reason == (
        f"subnet {net.subnet} has no route to a NAT or internet gateway and VPC {net.vpc} cannot pull image "
        "nginx:1.27: it is not in ECR (no endpoint serves it); expected egress or these endpoints"
    )


@pytest.mark.parametrize(("egress", "public_ip"), [("nat", False), ("igw", True)])
def test_a_nat_route_or_an_igw_route_with_a_public_ip_is_egress(aws: Aws, egress: str, public_ip: bool) -> None:
    net = _vpc(aws, egress=egress)

    result = run(VpcEndpoints(), _ctx(aws, _logged_with_secret(aws), net, public_ip=public_ip))

    assert result.outcome is Outcome.PASS
    assert result.reason == f"every subnet of the tasks ({net.subnet}) has egress"
    assert str(result.details["egress"][net.subnet]).startswith(f"{egress}-")


def test_subnets_with_egress_leave_the_endpoints_groups_unread(aws: Aws) -> None:
    # A NAT route makes the endpoints irrelevant: their groups are not read (one call fewer that
    # could be denied), and an endpoint closed to the tasks is no problem there.
    net = _vpc(aws, egress="nat")
    _endpoints(aws, net, "ecr.api", "ecr.dkr", groups=[])
    aws.calls.clear()

    result = run(VpcEndpoints(), _ctx(aws, aws.register(), net))

    assert result.outcome is Outcome.PASS, result.reason
    assert "ec2.DescribeVpcEndpoints" in aws.calls and "ec2.DescribeSecurityGroups" not in aws.calls


def test_an_igw_route_without_a_public_ip_is_no_egress(aws: Aws) -> None:
    net = _vpc(aws, egress="igw")
    result = run(VpcEndpoints(), _ctx(aws, aws.register(), net, public_ip=False))
    assert result.outcome is Outcome.FAIL
    assert f"subnet {net.subnet} has no route to a NAT or internet gateway" in result.reason


def test_no_network_configuration_is_not_judged(aws: Aws) -> None:
    # The hand-built deployment names cluster shop-cluster, which does not exist: no service to read.
    result = run(VpcEndpoints(), aws.ctx(aws.register()))
    assert result.outcome is Outcome.PASS
    assert result.reason == "no awsvpc subnets in the AppSpec or on the service: endpoints not judged"
