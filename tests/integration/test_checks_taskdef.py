"""BeforeInstall checks on the new task definition, against moto in-process and real boto3.

Every check is proved both ways (passing and failing). A botocore hook on the checks' session
fails any test in which a secret *value* is read (GetSecretValue, GetParameter, GetParameters).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID

from tests.support.lambda_env import REGION
from trafficgate.aws import AwsClients
from trafficgate.checks.base import Check, CheckError, CheckResult, Outcome
from trafficgate.checks.container_port import CONTAINER_PORT_CHECK_ID, ContainerPortMapped
from trafficgate.checks.ecr import IMAGES_EXIST_CHECK_ID, SCAN_FINDINGS_CHECK_ID, EcrImagesExist, EcrScanFindings
from trafficgate.checks.execution_role import EXECUTION_ROLE_CHECK_ID
from trafficgate.checks.health_check import HEALTH_CHECK_CONFIG_CHECK_ID
from trafficgate.checks.plaintext_secrets import PLAINTEXT_SECRETS_CHECK_ID
from trafficgate.checks.required_env import REQUIRED_ENV_CHECK_ID, RequiredEnvironment
from trafficgate.checks.secrets import SECRETS_CHECK_ID, SecretReferencesExist
from trafficgate.checks.security_groups import SECURITY_GROUPS_CHECK_ID
from trafficgate.checks.task_definition import TASK_DEFINITION_CHECK_ID, TaskDefinitionActive
from trafficgate.checks.task_size import TASK_SIZE_CHECK_ID, TaskSize
from trafficgate.checks.vpc_endpoints import VPC_ENDPOINTS_CHECK_ID
from trafficgate.config import Settings
from trafficgate.context import CheckContext
from trafficgate.discovery import AppSpec, Deployment
from trafficgate.discovery.images import parse_ecr_image
from trafficgate.discovery.secrets import parse_secret_reference
from trafficgate.hooks import Hook
from trafficgate.plan import default_plan
from trafficgate_local.standin import StandInError, ecs_revision, install
from trafficgate_local.standin.ecr import clear_scan, install_ecr, is_ecr_installed, set_scan_findings

ACCOUNT = DEFAULT_ACCOUNT_ID
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
FORBIDDEN = ("secretsmanager.GetSecretValue", "ssm.GetParameter", "ssm.GetParameters", "ssm.GetParametersByPath")


# --------------------------------------------------------------------------------------------
# fixtures and builders
# --------------------------------------------------------------------------------------------
@dataclass
class Aws:
    """moto in-process, boto3 clients to seed it, and the session the checks use (watched)."""

    session: boto3.session.Session
    forbidden_calls: list[str] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION)

    def register(self, family: str = "web", **overrides: Any) -> str:
        """Register a Fargate task definition (web:8080 from ECR) with ``overrides``; return its ARN."""
        container: dict[str, Any] = {
            "name": "web",
            "image": f"{REGISTRY}/app:1",
            "essential": True,
            "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
            "environment": [{"name": "LOG_LEVEL", "value": "info"}],
        }
        container.update(overrides.pop("container", {}))
        request: dict[str, Any] = {
            "family": family,
            "requiresCompatibilities": ["FARGATE"],
            "networkMode": "awsvpc",
            "cpu": "256",
            "memory": "512",
            "containerDefinitions": [container, *overrides.pop("extra_containers", [])],
        }
        request.update(overrides)
        arn: str = self.client("ecs").register_task_definition(**request)["taskDefinition"]["taskDefinitionArn"]
        return arn

    def push(self, repository: str = "app", tag: str = "1") -> str:
        """Create the repository (if needed) and push an image; return its digest."""
        ecr = self.client("ecr")
        try:
            ecr.create_repository(repositoryName=repository)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "RepositoryAlreadyExistsException":
                raise
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"digest": f"sha256:{repository}{tag}".ljust(71, "0"), "size": 1, "mediaType": "x"},
            "layers": [],
        }
        image = ecr.put_image(repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=tag)["image"]
        digest: str = image["imageId"]["imageDigest"]
        return digest

    def ctx(
        self, task_definition_arn: str, *, container: str = "web", port: int = 8080, **settings: Any
    ) -> CheckContext:
        """A BeforeInstall context whose deployment (built by hand) deploys ``task_definition_arn``."""
        deployment = Deployment(
            deployment_id="d-TASKDEF01",
            application="shop",
            deployment_group="shop-dg",
            deployment_config="CodeDeployDefault.ECSAllAtOnce",
            appspec=AppSpec(task_definition_arn=task_definition_arn, container_name=container, container_port=port),
            cluster="shop-cluster",
            service="shop-web",
            prod_listeners=(),
            test_listeners=(),
            target_groups=(),
        )
        ctx = self.real_ctx("d-TASKDEF01", **settings)
        ctx._deployment = deployment
        return ctx

    def real_ctx(self, deployment_id: str, **settings: Any) -> CheckContext:
        return CheckContext(
            hook=Hook.BEFORE_INSTALL,
            deployment_id=deployment_id,
            execution_id="exec-1",
            settings=Settings(**settings),
            aws=AwsClients(session=self.session),
            deadline=time.monotonic() + 30,
        )


@pytest.fixture
def aws() -> Iterator[Aws]:
    install()
    install_ecr()
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        env = Aws(session)

        def forbid(event_name: str, **_kwargs: Any) -> None:
            env.forbidden_calls.append(event_name)
            raise AssertionError(f"a check read a secret value: {event_name}")

        def count(event_name: str, **_kwargs: Any) -> None:
            env.calls.append(event_name.removeprefix("before-call."))

        for operation in FORBIDDEN:
            session.events.register(f"before-call.{operation}", forbid)
        session.events.register("before-call", count)
        yield env
    assert env.forbidden_calls == [], "secret values must never be read"


def run(check: Check, ctx: CheckContext) -> CheckResult:
    result = check.run(ctx)
    assert isinstance(result, CheckResult)
    return result


# --------------------------------------------------------------------------------------------
# the whole plan, through real discovery of a real deployment
# --------------------------------------------------------------------------------------------
def _deploy(aws: Aws, task_definition_arn: str) -> str:
    """ALB, listeners, target groups, CodeDeploy group; a deployment whose AppSpec names the revision."""
    ec2, elbv2 = aws.client("ec2"), aws.client("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}")["Subnet"]["SubnetId"]
        for i, z in enumerate("ab")
    ]
    lb = elbv2.create_load_balancer(Name="shop-alb", Subnets=subnets, Type="application")["LoadBalancers"][0]
    groups = {
        colour: elbv2.create_target_group(
            Name=f"shop-{colour}", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip"
        )["TargetGroups"][0]["TargetGroupArn"]
        for colour in ("blue", "green")
    }
    prod = elbv2.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": groups["blue"]}],
    )["Listeners"][0]["ListenerArn"]
    ecs = aws.client("ecs")
    ecs.create_cluster(clusterName="shop-cluster")
    ecs.create_service(
        cluster="shop-cluster",
        serviceName="shop-web",
        taskDefinition=task_definition_arn,
        desiredCount=1,
        deploymentController={"type": "CODE_DEPLOY"},
    )
    codedeploy = aws.client("codedeploy")
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
                }
            ]
        },
        ecsServices=[{"clusterName": "shop-cluster", "serviceName": "shop-web"}],
    )
    deployment_id: str = codedeploy.create_deployment(
        applicationName="shop",
        deploymentGroupName="shop-dg",
        revision=ecs_revision(task_definition_arn, "web", 8080),
    )["deploymentId"]
    return deployment_id


def test_a_sound_task_definition_passes_every_check_through_real_discovery(aws: Aws) -> None:
    aws.push("app", "1")
    set_scan_findings(REGION, "app", "1", [{"name": "CVE-2024-0001", "severity": "LOW"}])
    secret_arn = aws.client("secretsmanager").create_secret(Name="shop/db", SecretString='{"password": "x"}')["ARN"]
    aws.client("ssm").put_parameter(Name="/shop/api-key", Value="x", Type="SecureString")
    aws.client("ssm").put_parameter(Name="plain-name", Value="x", Type="String")
    role = aws.client("iam").create_role(RoleName="ecsTaskExecution", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    actions = ["ecr:*", "secretsmanager:GetSecretValue", "ssm:GetParameters"]
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
    aws.client("iam").put_role_policy(RoleName="ecsTaskExecution", PolicyName="run", PolicyDocument=json.dumps(policy))
    arn = aws.register(
        executionRoleArn=role,
        container={
            "secrets": [
                {"name": "DB_PASSWORD", "valueFrom": f"{secret_arn}:password::"},
                {"name": "API_KEY", "valueFrom": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/shop/api-key"},
                {"name": "PLAIN", "valueFrom": "plain-name"},
            ]
        },
        extra_containers=[
            {"name": "log-router", "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:2", "essential": False}
        ],
    )
    deployment_id = _deploy(aws, arn)
    ctx = aws.real_ctx(deployment_id, required_env=("LOG_LEVEL", "DB_PASSWORD"), scan_severity="HIGH")

    results = {check.check_id: run(check, ctx) for check in default_plan(Hook.BEFORE_INSTALL, Settings())}

    assert list(results) == [
        TASK_DEFINITION_CHECK_ID,
        CONTAINER_PORT_CHECK_ID,
        TASK_SIZE_CHECK_ID,
        IMAGES_EXIST_CHECK_ID,
        SCAN_FINDINGS_CHECK_ID,
        SECRETS_CHECK_ID,
        REQUIRED_ENV_CHECK_ID,
        PLAINTEXT_SECRETS_CHECK_ID,
        SECURITY_GROUPS_CHECK_ID,
        HEALTH_CHECK_CONFIG_CHECK_ID,
        EXECUTION_ROLE_CHECK_ID,
        VPC_ENDPOINTS_CHECK_ID,
    ]
    for check_id, result in results.items():
        assert result.outcome is Outcome.PASS, (check_id, result.reason)
        assert result.reason and "\n" not in result.reason
    assert ctx.deployment().appspec is not None and ctx.deployment().appspec.task_definition_arn == arn
    # The twelve checks share one DescribeTaskDefinition.
    assert aws.calls.count("ecs.DescribeTaskDefinition") == 1
    assert results[IMAGES_EXIST_CHECK_ID].details["skipped"] == [
        {"container": "log-router", "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:2"}
    ]
    assert results[SCAN_FINDINGS_CHECK_ID].value == {"LOW": 1}
    assert results[SECRETS_CHECK_ID].value == {"references": 3, "missing": 0}
    assert "DescribeSecret" in " ".join(aws.calls) and "ssm.DescribeParameters" in aws.calls


# --------------------------------------------------------------------------------------------
# 1. ecs.task_definition
# --------------------------------------------------------------------------------------------
def test_task_definition_active_passes(aws: Aws) -> None:
    arn = aws.register()
    result = run(TaskDefinitionActive(), aws.ctx(arn))
    assert result.outcome is Outcome.PASS
    assert result.reason == f"task definition {arn} is ACTIVE"
    assert (result.value, result.threshold) == ("ACTIVE", "ACTIVE")


def test_deregistered_task_definition_fails_as_inactive(aws: Aws) -> None:
    arn = aws.register()
    aws.client("ecs").deregister_task_definition(taskDefinition=arn)
    result = run(TaskDefinitionActive(), aws.ctx(arn))
    assert result.outcome is Outcome.FAIL
    assert result.reason == f"task definition {arn} is INACTIVE: deploy an ACTIVE revision"
    assert result.value == "INACTIVE"


def test_unknown_task_definition_fails_and_the_other_checks_cannot_judge(aws: Aws) -> None:
    arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/ghost:7"
    ctx = aws.ctx(arn)
    result = run(TaskDefinitionActive(), ctx)
    assert result.outcome is Outcome.FAIL
    assert result.reason.startswith(f"task definition {arn} not found")
    with pytest.raises(CheckError, match="not found"):
        TaskSize().run(ctx)
    # Cached: the second check did not call ECS again.
    assert aws.calls.count("ecs.DescribeTaskDefinition") == 1


def test_a_deployment_without_appspec_content_cannot_be_judged(aws: Aws) -> None:
    ctx = aws.ctx("unused")
    assert ctx._deployment is not None
    ctx._deployment = Deployment(**{**ctx._deployment.__dict__, "appspec": None})
    with pytest.raises(CheckError, match="carries no AppSpec content"):
        TaskDefinitionActive().run(ctx)


# --------------------------------------------------------------------------------------------
# 2. ecs.container_port
# --------------------------------------------------------------------------------------------
def test_container_port_mapped_passes(aws: Aws) -> None:
    result = run(ContainerPortMapped(), aws.ctx(aws.register()))
    assert result.outcome is Outcome.PASS
    assert result.reason == "container web maps port 8080 (portMappings [8080])"


def test_container_port_not_mapped_fails(aws: Aws) -> None:
    arn = aws.register(container={"portMappings": [{"containerPort": 80}]})
    result = run(ContainerPortMapped(), aws.ctx(arn, port=8080))
    assert result.outcome is Outcome.FAIL
    assert result.reason == "container web port 8080 not in portMappings [80]"
    assert (result.value, result.threshold) == ([80], 8080)


def test_container_missing_from_task_definition_fails(aws: Aws) -> None:
    arn = aws.register(
        container={"name": "app"}, extra_containers=[{"name": "sidecar", "image": "busybox", "essential": False}]
    )
    result = run(ContainerPortMapped(), aws.ctx(arn, container="web"))
    assert result.outcome is Outcome.FAIL
    assert result.reason == "container web not in task definition (containers: app, sidecar)"


def test_udp_port_mapping_fails(aws: Aws) -> None:
    arn = aws.register(container={"portMappings": [{"containerPort": 8080, "protocol": "udp"}]})
    result = run(ContainerPortMapped(), aws.ctx(arn))
    assert result.outcome is Outcome.FAIL
    assert result.reason == "container web port 8080 is mapped as udp; the load balancer needs tcp"


# --------------------------------------------------------------------------------------------
# 3. ecs.task_size (the rules themselves are unit-tested in tests/unit/test_task_size.py)
# --------------------------------------------------------------------------------------------
def test_valid_fargate_size_passes(aws: Aws) -> None:
    result = run(TaskSize(), aws.ctx(aws.register(cpu="1024", memory="3072")))
    assert result.outcome is Outcome.PASS
    assert result.reason == "FARGATE cpu 1024 / memory 3072 MiB is a valid Fargate size"
    assert result.value == {"launch_type": "FARGATE", "cpu": 1024, "memory": 3072}


def test_bad_fargate_size_fails(aws: Aws) -> None:
    result = run(TaskSize(), aws.ctx(aws.register(cpu="256", memory="4096")))
    assert result.outcome is Outcome.FAIL
    assert result.reason == (
        "FARGATE cpu 256 with memory 4096 MiB is not a valid combination (cpu 256 allows memory 512, 1024, 2048 MiB)"
    )
    assert result.threshold == "cpu 256: memory 512, 1024, 2048 MiB"


def test_ec2_cpu_out_of_range_fails(aws: Aws) -> None:
    arn = aws.register(requiresCompatibilities=["EC2"], networkMode="bridge", cpu="64", memory="512")
    result = run(TaskSize(), aws.ctx(arn))
    assert result.outcome is Outcome.FAIL
    assert result.reason == "EC2 task cpu 64 is outside 128..196608 CPU units"


# --------------------------------------------------------------------------------------------
# 4. ecr.images_exist
# --------------------------------------------------------------------------------------------
def test_images_in_ecr_exist_and_others_are_skipped(aws: Aws) -> None:
    digest = aws.push("app", "1")
    aws.push("sidecar", "2")
    arn = aws.register(
        extra_containers=[
            {"name": "sidecar", "image": f"{REGISTRY}/sidecar@{aws_digest(aws, 'sidecar', '2')}", "memory": 64},
            {"name": "proxy", "image": "nginx:1.27", "memory": 64},
        ]
    )
    result = run(EcrImagesExist(), aws.ctx(arn))
    assert result.outcome is Outcome.PASS, result.reason
    assert result.reason == "2 ECR image(s) exist; 1 image(s) outside ECR skipped"
    assert result.details["skipped"] == [{"container": "proxy", "image": "nginx:1.27"}]
    assert result.details["found"][0]["digest"] == digest


def aws_digest(aws: Aws, repository: str, tag: str) -> str:
    images = aws.client("ecr").describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
    digest: str = images["imageDetails"][0]["imageDigest"]
    return digest


def test_missing_tag_and_missing_repository_fail_naming_why(aws: Aws) -> None:
    aws.push("app", "1")
    arn = aws.register(
        container={"image": f"{REGISTRY}/app:2"},
        extra_containers=[{"name": "worker", "image": f"{REGISTRY}/worker:1", "memory": 64}],
    )
    result = run(EcrImagesExist(), aws.ctx(arn))
    assert result.outcome is Outcome.FAIL
    assert f"{REGISTRY}/app:2 (container web): tag 2 not found in repository" in result.reason
    assert (
        f"{REGISTRY}/worker:1 (container worker): repository worker not found in registry {ACCOUNT} ({REGION})"
        in result.reason
    )
    assert result.value == {"checked": 2, "missing": 2, "skipped": 0}


def test_missing_digest_fails(aws: Aws) -> None:
    aws.push("app", "1")
    digest = "sha256:" + "0" * 64
    result = run(EcrImagesExist(), aws.ctx(aws.register(container={"image": f"{REGISTRY}/app@{digest}"})))
    assert result.outcome is Outcome.FAIL
    assert f"digest {digest} not found in repository" in result.reason


# --------------------------------------------------------------------------------------------
# 5. ecr.scan_findings
# --------------------------------------------------------------------------------------------
def test_clean_scan_passes(aws: Aws) -> None:
    aws.push("app", "1")
    set_scan_findings(REGION, "app", "1", [])
    result = run(EcrScanFindings(), aws.ctx(aws.register()))
    assert result.outcome is Outcome.PASS
    assert result.reason == "no findings at or above CRITICAL in 1 scanned ECR image(s)"
    assert (result.value, result.threshold, result.warnings) == ({}, "CRITICAL", ())


def test_critical_findings_fail(aws: Aws) -> None:
    aws.push("app", "1")
    set_scan_findings(
        REGION,
        "app",
        "1",
        [
            {"name": "CVE-2024-1111", "severity": "CRITICAL"},
            {"name": "CVE-2024-2222", "severity": "CRITICAL"},
            {"name": "CVE-2024-3333", "severity": "HIGH"},
        ],
    )
    result = run(EcrScanFindings(), aws.ctx(aws.register()))
    assert result.outcome is Outcome.FAIL
    assert result.reason == "image app:1 has 2 CRITICAL findings (CVE-2024-1111, CVE-2024-2222)"
    assert result.value == {"CRITICAL": 2, "HIGH": 1}


def test_high_finding_passes_under_a_critical_threshold_and_fails_under_high(aws: Aws) -> None:
    aws.push("app", "1")
    set_scan_findings(REGION, "app", "1", [{"name": "CVE-2024-4444", "severity": "HIGH"}])
    arn = aws.register()
    under_critical = run(EcrScanFindings(), aws.ctx(arn, scan_severity="CRITICAL"))
    assert under_critical.outcome is Outcome.PASS
    assert under_critical.value == {"HIGH": 1}
    under_high = run(EcrScanFindings(), aws.ctx(arn, scan_severity="HIGH"))
    assert under_high.outcome is Outcome.FAIL
    assert under_high.reason == "image app:1 has 1 HIGH finding (CVE-2024-4444)"


@pytest.mark.parametrize(
    ("policy", "outcome"), [("warn", Outcome.PASS), ("pass", Outcome.PASS), ("fail", Outcome.FAIL)]
)
def test_unscanned_image_applies_scan_no_data(aws: Aws, policy: str, outcome: Outcome) -> None:
    aws.push("app", "1")
    result = run(EcrScanFindings(), aws.ctx(aws.register(), scan_no_data=policy))
    assert result.outcome is outcome
    assert "image app:1 has no scan results (never scanned)" in result.reason or policy != "fail"
    if policy == "warn":
        assert result.warnings == (
            "image app:1 has no scan results (never scanned): enable scan on push or start a scan",
        )
    else:
        assert result.warnings == ()
    assert result.details["images"][0]["no_data"] == "never scanned"


def test_failed_scan_counts_as_no_data(aws: Aws) -> None:
    aws.push("app", "1")
    set_scan_findings(REGION, "app", "1", [], status="FAILED")
    result = run(EcrScanFindings(), aws.ctx(aws.register(), scan_no_data="fail"))
    assert result.outcome is Outcome.FAIL
    assert result.reason == "image app:1 has no scan results (scan status FAILED) (scan_no_data=fail)"


def test_image_pinned_by_digest_is_judged_by_its_scan(aws: Aws) -> None:
    digest = aws.push("app", "1")
    set_scan_findings(REGION, "app", "1", [{"name": "CVE-2024-5555", "severity": "CRITICAL"}])
    result = run(EcrScanFindings(), aws.ctx(aws.register(container={"image": f"{REGISTRY}/app@{digest}"})))
    assert result.outcome is Outcome.FAIL
    assert result.reason == f"image app@{digest[:19]} has 1 CRITICAL finding (CVE-2024-5555)"


# --------------------------------------------------------------------------------------------
# 6. secrets.references_exist
# --------------------------------------------------------------------------------------------
def test_existing_secret_references_pass(aws: Aws) -> None:
    secret = aws.client("secretsmanager").create_secret(Name="shop/db", SecretString="x")["ARN"]
    aws.client("ssm").put_parameter(Name="/shop/token", Value="x", Type="SecureString")
    arn = aws.register(
        container={
            "secrets": [
                {"name": "DB", "valueFrom": secret},
                {"name": "DB_USER", "valueFrom": f"{secret}:user:AWSCURRENT:"},
                {"name": "TOKEN", "valueFrom": "/shop/token"},
            ],
            "repositoryCredentials": {"credentialsParameter": secret},
        }
    )
    result = run(SecretReferencesExist(), aws.ctx(arn))
    assert result.outcome is Outcome.PASS, result.reason
    assert result.reason == "3 secret reference(s) exist"  # the repeated ARN is described once


def test_missing_secrets_manager_secret_fails_naming_who_needs_it(aws: Aws) -> None:
    ghost = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:shop/ghost-AbCdEf"
    arn = aws.register(container={"secrets": [{"name": "DB_PASSWORD", "valueFrom": f"{ghost}:password::"}]})
    result = run(SecretReferencesExist(), aws.ctx(arn))
    assert result.outcome is Outcome.FAIL
    assert result.reason == f"missing secret reference(s): secret {ghost} not found (container web secret DB_PASSWORD)"


def test_missing_ssm_parameters_fail_by_name_and_by_arn(aws: Aws) -> None:
    aws.client("ssm").put_parameter(Name="/shop/present", Value="x", Type="String")
    arn = aws.register(
        container={
            "secrets": [
                {"name": "PRESENT", "valueFrom": "/shop/present"},
                {"name": "BY_NAME", "valueFrom": "/shop/absent"},
                {"name": "BY_ARN", "valueFrom": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/shop/gone"},
            ]
        }
    )
    result = run(SecretReferencesExist(), aws.ctx(arn))
    assert result.outcome is Outcome.FAIL
    assert result.reason == (
        "missing secret reference(s): parameter /shop/absent not found (container web secret BY_NAME); "
        "parameter /shop/gone not found (container web secret BY_ARN)"
    )
    assert result.value == {"references": 3, "missing": 2}


def test_secret_scheduled_for_deletion_or_without_the_stage_fails(aws: Aws) -> None:
    sm = aws.client("secretsmanager")
    doomed = sm.create_secret(Name="doomed", SecretString="x")["ARN"]
    sm.delete_secret(SecretId=doomed, RecoveryWindowInDays=7)
    kept = sm.create_secret(Name="kept", SecretString="x")["ARN"]
    arn = aws.register(
        container={
            "secrets": [
                {"name": "A", "valueFrom": doomed},
                {"name": "B", "valueFrom": f"{kept}::AWSPREVIOUS:"},
            ]
        }
    )
    result = run(SecretReferencesExist(), aws.ctx(arn))
    assert result.outcome is Outcome.FAIL
    assert f"secret {doomed} is scheduled for deletion (container web secret A)" in result.reason
    assert f"secret {kept} has no version labelled AWSPREVIOUS (container web secret B)" in result.reason


def test_reading_a_secret_value_would_fail_the_test(aws: Aws) -> None:
    """The guard is real: a GetSecretValue through the checks' session is caught."""
    clients = AwsClients(session=aws.session)
    with pytest.raises(AssertionError, match="read a secret value"):
        clients.client("secretsmanager").get_secret_value(SecretId="anything")
    aws.forbidden_calls.clear()


# --------------------------------------------------------------------------------------------
# 7. ecs.required_env
# --------------------------------------------------------------------------------------------
def test_no_required_variables_passes_trivially(aws: Aws) -> None:
    result = run(RequiredEnvironment(), aws.ctx(aws.register()))
    assert result.outcome is Outcome.PASS
    assert result.reason == "no required variables configured"


def test_required_variables_set_in_environment_or_secrets_pass(aws: Aws) -> None:
    arn = aws.register(
        container={"secrets": [{"name": "DB_URL", "valueFrom": "/shop/db"}]},
        extra_containers=[{"name": "helper", "image": "busybox", "essential": False}],
    )
    result = run(RequiredEnvironment(), aws.ctx(arn, required_env=("LOG_LEVEL", "DB_URL")))
    assert result.outcome is Outcome.PASS
    assert result.reason == "1 essential container(s) set LOG_LEVEL, DB_URL"


def test_missing_required_variable_fails(aws: Aws) -> None:
    arn = aws.register(extra_containers=[{"name": "sidecar", "image": "busybox", "environment": []}])
    result = run(RequiredEnvironment(), aws.ctx(arn, required_env=("LOG_LEVEL", "REGION_NAME")))
    assert result.outcome is Outcome.FAIL
    assert result.reason == (
        "container web does not set REGION_NAME; container sidecar does not set LOG_LEVEL, REGION_NAME "
        "(environment or secrets)"
    )
    assert result.value == {"web": ["REGION_NAME"], "sidecar": ["LOG_LEVEL", "REGION_NAME"]}


def test_environment_files_cannot_be_verified_and_warn(aws: Aws) -> None:
    arn = aws.register(container={"environmentFiles": [{"value": "arn:aws:s3:::shop-config/web.env", "type": "s3"}]})
    result = run(RequiredEnvironment(), aws.ctx(arn, required_env=("FEATURE_FLAGS",)))
    assert result.outcome is Outcome.PASS
    assert result.warnings == ("container web: cannot verify environmentFiles for FEATURE_FLAGS",)


# --------------------------------------------------------------------------------------------
# parsing (pure, kept next to the checks that use it)
# --------------------------------------------------------------------------------------------
def test_parse_ecr_image() -> None:
    image = parse_ecr_image("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app:v1.2")
    assert image is not None
    assert (image.account, image.region, image.repository, image.tag, image.digest) == (
        "123456789012",
        "eu-west-1",
        "team/app",
        "v1.2",
        None,
    )
    assert image.image_id == {"imageTag": "v1.2"} and image.label == "team/app:v1.2"
    untagged = parse_ecr_image("123456789012.dkr.ecr.us-east-1.amazonaws.com/app")
    assert untagged is not None and untagged.image_id == {"imageTag": "latest"}
    digest = "sha256:" + "a" * 64
    pinned = parse_ecr_image(f"123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1@{digest}")
    assert pinned is not None and pinned.image_id == {"imageDigest": digest}
    for other in ("nginx:1.27", "public.ecr.aws/nginx/nginx:1", "ghcr.io/org/app:1", "localhost:5000/app"):
        assert parse_ecr_image(other) is None


def test_parse_secret_reference() -> None:
    ref = parse_secret_reference("arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf:password:AWSCURRENT:")
    assert ref.kind == "secretsmanager"
    assert ref.target == "arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf"
    assert (ref.region, ref.account, ref.json_key, ref.version_stage, ref.version_id) == (
        "eu-west-1",
        "111122223333",
        "password",
        "AWSCURRENT",
        None,
    )
    assert parse_secret_reference("arn:aws:ssm:us-east-1:111122223333:parameter/a/b").target == "/a/b"
    assert parse_secret_reference("arn:aws:ssm:us-east-1:111122223333:parameter/flat").target == "flat"
    assert parse_secret_reference("/a/b").kind == "ssm"
    assert parse_secret_reference("arn:aws:s3:::bucket/key").kind == "unknown"
    # Starts like an ARN, too short to be one: neither a parameter name nor a secret.
    assert parse_secret_reference("arn:aws:ssm:eu-west-1").kind == "unknown"
    # A bare name is a parameter in secrets[], a secret in repositoryCredentials.
    login = parse_secret_reference("dockerhub-login", bare="secretsmanager")
    assert (login.kind, login.target, login.region) == ("secretsmanager", "dockerhub-login", None)


def test_a_registry_login_given_by_secret_name_is_a_secret_not_a_parameter(aws: Aws) -> None:
    # repositoryCredentials.credentialsParameter takes a secret's ARN or, in the task's region, its
    # name; the same name in secrets[] would be an SSM parameter.
    aws.client("secretsmanager").create_secret(Name="dockerhub-login", SecretString="{}")
    arn = aws.register(container={"repositoryCredentials": {"credentialsParameter": "dockerhub-login"}})
    result = run(SecretReferencesExist(), aws.ctx(arn))
    assert result.outcome is Outcome.PASS, result.reason
    assert result.reason == "1 secret reference(s) exist"

    ghost = aws.register(container={"repositoryCredentials": {"credentialsParameter": "ghost-login"}})
    result = run(SecretReferencesExist(), aws.ctx(ghost))
    assert result.outcome is Outcome.FAIL
    assert result.reason == (
        "missing secret reference(s): secret ghost-login not found (container web repositoryCredentials)"
    )


# --------------------------------------------------------------------------------------------
# the ECR stand-in extension itself
# --------------------------------------------------------------------------------------------
def test_ecr_extension_pins_findings_for_tag_and_digest_lookups(aws: Aws) -> None:
    install_ecr()  # idempotent
    assert is_ecr_installed()
    digest = aws.push("app", "1")
    ecr = aws.client("ecr")
    with pytest.raises(ClientError) as raised:
        ecr.describe_image_scan_findings(repositoryName="app", imageId={"imageTag": "1"})
    assert raised.value.response["Error"]["Code"] == "ScanNotFoundException"

    set_scan_findings(REGION, "app", "1", [{"name": "CVE-1", "severity": "critical"}])
    for image_id in ({"imageTag": "1"}, {"imageDigest": digest}):
        answer = ecr.describe_image_scan_findings(repositoryName="app", imageId=image_id)
        assert answer["imageScanStatus"]["status"] == "COMPLETE"
        assert answer["imageScanFindings"]["findingSeverityCounts"] == {"CRITICAL": 1}
        assert [f["name"] for f in answer["imageScanFindings"]["findings"]] == ["CVE-1"]

    clear_scan(REGION, "app", "1")
    with pytest.raises(ClientError) as raised:
        ecr.describe_image_scan_findings(repositoryName="app", imageId={"imageTag": "1"})
    assert raised.value.response["Error"]["Code"] == "ScanNotFoundException"


def test_ecr_extension_leaves_unpinned_images_to_moto(aws: Aws) -> None:
    aws.push("app", "1")
    ecr = aws.client("ecr")
    ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "1"})
    answer = ecr.describe_image_scan_findings(repositoryName="app", imageId={"imageTag": "1"})
    assert answer["imageScanFindings"]["findingSeverityCounts"] == {"HIGH": 1}  # moto's canned finding


def test_ecr_extension_rejects_unknown_images_and_bad_findings(aws: Aws) -> None:
    aws.push("app", "1")
    with pytest.raises(StandInError, match="repository 'nope'"):
        set_scan_findings(REGION, "nope", "1", [])
    with pytest.raises(StandInError, match="app:9"):
        set_scan_findings(REGION, "app", "9", [])
    with pytest.raises(StandInError, match="name and severity"):
        set_scan_findings(REGION, "app", "1", [{"name": "CVE-1"}])
