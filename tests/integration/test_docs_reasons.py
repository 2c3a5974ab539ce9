"""Every reason text the docs quote is what Trafficgate really prints: produced here, on the stand-in.

The quoting convention of ``docs/*.md`` (see the top of docs/troubleshooting.md): a fenced block
whose info string is ``text reason=<key>`` holds one line, as the verdict prints it,
``<check id>: <reason>`` (the gate's own messages without a check id are quoted as they are
raised). Whatever differs from run to run (an ARN, a security group id, a task id) is written as
``<placeholder>`` or ``…``; each matches any text. The rest must match verbatim.

For each key a *producer* below builds the situation in moto (extended by the stand-in) and runs
the real check under the runner's own attempt loop (:func:`trafficgate.attempts.run_check`), so the
reason is the one a hook would log and report. Every quote needs a producer, every producer a quote.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, ConnectTimeoutError
from moto import mock_aws
from moto.backends import get_backend

from tests.integration.test_checks_ecs import BLUE_ID, GREEN_ID, _task_set
from tests.integration.test_checks_guide import World, build, from_lb
from tests.integration.test_checks_iam_network import _role
from tests.integration.test_checks_taskdef import REGISTRY, Aws
from tests.support.lambda_env import REGION
from tests.support.markdown_docs import ROOT, Block, fenced_blocks
from trafficgate.attempts import run_check
from trafficgate.aws import AwsClients
from trafficgate.checks.base import Check, CheckResult
from trafficgate.checks.container_port import ContainerPortMapped
from trafficgate.checks.ecr import EcrImagesExist, EcrScanFindings
from trafficgate.checks.execution_role import ExecutionRole
from trafficgate.checks.health_check import HealthCheckConfigured
from trafficgate.checks.plaintext_secrets import PlaintextSecrets
from trafficgate.checks.required_env import RequiredEnvironment
from trafficgate.checks.secrets import SecretReferencesExist
from trafficgate.checks.security_groups import SecurityGroupsAllowLoadBalancer
from trafficgate.checks.stopped_tasks import StoppedTasks
from trafficgate.checks.targets import TargetsHealthy
from trafficgate.checks.task_definition import TaskDefinitionActive
from trafficgate.checks.task_size import TaskSize
from trafficgate.checks.vpc_endpoints import VpcEndpoints
from trafficgate.config import Settings
from trafficgate.context import CheckContext
from trafficgate.exceptions import ReportError
from trafficgate.hooks import Hook
from trafficgate.probe.spec import StatusSet
from trafficgate.reporting import CodeDeployReporter
from trafficgate.verdict import decide
from trafficgate.watchdog import PlanRun
from trafficgate_local.standin import StandIn, add_task, install, install_ecr, set_scan_findings, set_target_health
from trafficgate_local.standin.ecs import install_ecs

pytestmark = pytest.mark.integration

DOCS = ROOT / "docs"
#: ``<anything but blanks first>`` or an ellipsis: the run-specific part of a quote.
PLACEHOLDER = re.compile(r"<[^<>\s][^<>]*>|…")
_KEY = re.compile(r"^reason=([a-z0-9][a-z0-9-]*)$")


# --------------------------------------------------------------------------------------------
# the quotes
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Quote:
    key: str
    text: str
    block: Block


def quotes(docs: Path = DOCS) -> list[Quote]:
    """Every ``text reason=<key>`` block of ``docs/*.md``; a malformed one fails loudly."""
    found: list[Quote] = []
    for path in sorted(docs.glob("*.md")):
        for block in fenced_blocks(path, lang="text"):
            if not block.info.startswith("reason"):
                continue
            key = _KEY.match(block.info)
            assert key, f"{block.where()}: write the info string as `text reason=<key>`, not {block.info!r}"
            lines = block.text.strip().splitlines()
            assert len(lines) == 1, f"{block.where()}: a reason quote is one line, as the verdict prints it"
            found.append(Quote(key.group(1), lines[0].strip(), block))
    return found


def pattern(quote: str) -> re.Pattern[str]:
    """The quote as a regex: placeholders match any text (lazily), everything else itself."""
    return re.compile(".+?".join(re.escape(part) for part in PLACEHOLDER.split(quote)), re.DOTALL)


def matches(quote: str, produced: str) -> bool:
    return pattern(quote).fullmatch(produced) is not None


QUOTES = quotes()


# --------------------------------------------------------------------------------------------
# the stand-in and the producers
# --------------------------------------------------------------------------------------------
@dataclass
class Stand:
    """moto with the stand-in's extensions, and the builders of the neighbouring check tests."""

    session: boto3.session.Session

    def client(self, service: str) -> Any:
        make: Any = boto3.client  # typed per service name; these names are chosen at run time
        return make(service, region_name=REGION)

    def guide(self, **green: Any) -> World:
        """A whole deployment found by real discovery (tests/integration/test_checks_guide.py)."""
        return build(self.session, **green)

    def taskdef(self) -> Aws:
        """Task definitions with a hand-built deployment (tests/integration/test_checks_taskdef.py)."""
        return Aws(self.session)

    def refuse(self, operation: str, error: Exception) -> None:
        """Make every later ``operation`` (``ecs.DescribeTaskDefinition``) of the checks' session raise ``error``."""

        def raise_it(**_kwargs: Any) -> None:
            raise error

        self.session.events.register(f"before-call.{operation}", raise_it)


#: Services whose state a producer builds; EC2 is kept between producers (each world has its own
#: VPC, subnets and groups), since a fresh EC2 backend costs most of a producer's time.
RESET = ("codedeploy", "ecs", "elbv2", "ecr", "iam", "secretsmanager", "ssm")


@pytest.fixture(scope="module")
def moto_for_the_module() -> Iterator[None]:
    install()
    install_ecr()
    with mock_aws():
        install_ecs()
        yield


@pytest.fixture
def stand(moto_for_the_module: None) -> Stand:
    backends: Any = get_backend  # typed per service name literal
    for service in RESET:
        backends(service).reset()
    return Stand(boto3.session.Session(region_name=REGION))


Producer = Callable[[Stand], str]
PRODUCERS: dict[str, Producer] = {}


def producer(key: str) -> Callable[[Producer], Producer]:
    def register(fn: Producer) -> Producer:
        assert key not in PRODUCERS, f"two producers for {key}"
        PRODUCERS[key] = fn
        return fn

    return register


def printed(check: Check, ctx: CheckContext) -> str:
    """What the verdict prints for one check: ``<check id>: <reason>`` after the runner's attempt loop."""
    record = run_check(check, ctx)
    return f"{record.check_id}: {record.reason}"


def _access_denied(operation: str) -> ClientError:
    return ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}, operation)


def _after_install(world: World) -> CheckContext:
    return dataclasses.replace(world.ctx(), hook=Hook.AFTER_INSTALL)


# --- deployment failures: the task definition ---------------------------------------------------
@producer("taskdef-inactive")
def _taskdef_inactive(stand: Stand) -> str:
    aws = stand.taskdef()
    arn = aws.register()
    aws.client("ecs").deregister_task_definition(taskDefinition=arn)
    return printed(TaskDefinitionActive(), aws.ctx(arn))


@producer("taskdef-not-found")
def _taskdef_not_found(stand: Stand) -> str:
    aws = stand.taskdef()
    never_registered = aws.register().rsplit(":", 1)[0] + ":7"
    return printed(TaskDefinitionActive(), aws.ctx(never_registered))


@producer("task-size-fargate")
def _task_size_fargate(stand: Stand) -> str:
    aws = stand.taskdef()
    return printed(TaskSize(), aws.ctx(aws.register(cpu="256", memory="4096")))


# --- deployment failures: IAM ----------------------------------------------------------------------
@producer("execution-role-cannot-pull")
def _execution_role_cannot_pull(stand: Stand) -> str:
    aws = stand.taskdef()
    role = _role(
        aws,
        "ecsTaskExecution",
        {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {"Effect": "Allow", "Action": "ecr:GetDownloadUrlForLayer", "Resource": "*"},
    )
    return printed(ExecutionRole(), aws.ctx(aws.register(executionRoleArn=role)))


@producer("execution-role-cannot-read-secret")
def _execution_role_cannot_read_secret(stand: Stand) -> str:
    aws = stand.taskdef()
    secret = aws.client("secretsmanager").create_secret(Name="shop/db", SecretString="x")["ARN"]
    role = _role(aws, "ecsTaskExecution", {"Effect": "Allow", "Action": "ecr:*", "Resource": "*"})
    arn = aws.register(executionRoleArn=role, container={"secrets": [{"name": "DB_PASSWORD", "valueFrom": secret}]})
    return printed(ExecutionRole(), aws.ctx(arn))


@producer("execution-role-none")
def _execution_role_none(stand: Stand) -> str:
    aws = stand.taskdef()
    return printed(ExecutionRole(), aws.ctx(aws.register()))


@producer("task-role-missing")
def _task_role_missing(stand: Stand) -> str:
    aws = stand.taskdef()
    role = _role(aws, "ecsTaskExecution", {"Effect": "Allow", "Action": "ecr:*", "Resource": "*"})
    ghost = role.replace("role/ecsTaskExecution", "role/shop-task")
    return printed(ExecutionRole(), aws.ctx(aws.register(executionRoleArn=role, taskRoleArn=ghost)))


# --- deployment failures: the load balancer configuration (discovery) ----------------------------
def _discovery_error(stand: Stand, load_balancer_info: Callable[[World], dict[str, Any]]) -> str:
    """The deployment group's ``loadBalancerInfo`` replaced; what the first BeforeInstall check prints."""
    world = stand.guide()
    info = load_balancer_info(world)
    stand.client("codedeploy").update_deployment_group(
        applicationName="shop", currentDeploymentGroupName="shop-dg", loadBalancerInfo=info
    )
    world.deploy()
    return printed(TaskDefinitionActive(), world.ctx())


def _listener_arn(stand: Stand, port: int) -> str:
    elbv2 = stand.client("elbv2")
    (balancer,) = elbv2.describe_load_balancers()["LoadBalancers"]
    listeners = elbv2.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])["Listeners"]
    arn: str = next(item["ListenerArn"] for item in listeners if item["Port"] == port)
    return arn


@producer("discovery-no-target-group-pair")
def _discovery_no_pair(stand: Stand) -> str:
    return _discovery_error(stand, lambda _world: {})


@producer("discovery-no-prod-listener")
def _discovery_no_prod_listener(stand: Stand) -> str:
    pair = {"targetGroups": [{"name": "shop-blue"}, {"name": "shop-green"}]}
    return _discovery_error(stand, lambda _world: {"targetGroupPairInfoList": [pair]})


@producer("discovery-listener-gone")
def _discovery_listener_gone(stand: Stand) -> str:
    def gone(_world: World) -> dict[str, Any]:
        arn = _listener_arn(stand, 80)
        stand.client("elbv2").delete_listener(ListenerArn=arn)
        pair = {"targetGroups": [{"name": "shop-blue"}, {"name": "shop-green"}]}
        return {"targetGroupPairInfoList": [{**pair, "prodTrafficRoute": {"listenerArns": [arn]}}]}

    return _discovery_error(stand, gone)


@producer("discovery-target-group-gone")
def _discovery_target_group_gone(stand: Stand) -> str:
    def renamed(_world: World) -> dict[str, Any]:
        pair = {
            "targetGroups": [{"name": "shop-blue"}, {"name": "shop-green-old"}],
            "prodTrafficRoute": {"listenerArns": [_listener_arn(stand, 80)]},
        }
        return {"targetGroupPairInfoList": [pair]}

    return _discovery_error(stand, renamed)


# --- the green target group's health check ---------------------------------------------------------
def _health_check(stand: Stand, grace: int = 300, expected: str | None = None, **green: Any) -> str:
    world = stand.guide(**green)
    world.deploy(grace=grace)
    check = HealthCheckConfigured(expected_status=StatusSet.parse(expected) if expected else None)
    return printed(check, world.ctx())


@producer("health-check-port")
def _health_check_port(stand: Stand) -> str:
    return _health_check(stand, HealthCheckPort="80")


@producer("health-check-protocol")
def _health_check_protocol(stand: Stand) -> str:
    return _health_check(stand, HealthCheckProtocol="HTTPS")


@producer("health-check-matcher")
def _health_check_matcher(stand: Stand) -> str:
    return _health_check(stand, expected="200,302", Matcher={"HttpCode": "200-299"}, HealthCheckPath="/login")


@producer("health-check-grace")
def _health_check_grace(stand: Stand) -> str:
    return _health_check(stand, grace=60, HealthCheckIntervalSeconds=20, HealthyThresholdCount=4)


@producer("targets-unhealthy")
def _targets_unhealthy(stand: Stand) -> str:
    world = stand.guide()
    world.deploy()
    stand.client("elbv2").register_targets(
        TargetGroupArn=world.green_tg, Targets=[{"Id": "10.0.10.5", "Port": 8080}, {"Id": "10.0.11.7", "Port": 8080}]
    )
    set_target_health(
        REGION,
        world.green_tg,
        "10.0.10.5",
        8080,
        "unhealthy",
        "Target.Timeout",
        "Request timed out",
    )
    return printed(TargetsHealthy(timeout_s=0), _after_install(world))


@producer("targets-none")
def _targets_none(stand: Stand) -> str:
    world = stand.guide()
    world.deploy()
    return printed(TargetsHealthy(timeout_s=0), _after_install(world))


# --- the container port ----------------------------------------------------------------------------
@producer("container-port-unmapped")
def _container_port_unmapped(stand: Stand) -> str:
    aws = stand.taskdef()
    return printed(ContainerPortMapped(), aws.ctx(aws.register(container={"portMappings": [{"containerPort": 80}]})))


@producer("container-missing")
def _container_missing(stand: Stand) -> str:
    aws = stand.taskdef()
    return printed(ContainerPortMapped(), aws.ctx(aws.register(container={"name": "app"})))


@producer("container-port-udp")
def _container_port_udp(stand: Stand) -> str:
    aws = stand.taskdef()
    arn = aws.register(container={"portMappings": [{"containerPort": 8080, "protocol": "udp"}]})
    return printed(ContainerPortMapped(), aws.ctx(arn))


# --- security groups -------------------------------------------------------------------------------
@producer("sg-missing-ingress")
def _sg_missing_ingress(stand: Stand) -> str:
    world = stand.guide()
    world.ingress(world.task_sg, from_lb(world, port=80))
    world.deploy()
    return printed(SecurityGroupsAllowLoadBalancer(), world.ctx())


@producer("sg-missing-egress")
def _sg_missing_egress(stand: Stand) -> str:
    world = stand.guide()
    world.ingress(world.task_sg, from_lb(world))
    world.egress_only(
        world.lb_sg, {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    )
    world.deploy()
    return printed(SecurityGroupsAllowLoadBalancer(), world.ctx())


@producer("sg-passes")
def _sg_passes(stand: Stand) -> str:
    world = stand.guide()
    world.ingress(world.task_sg, from_lb(world))
    world.deploy()
    return printed(SecurityGroupsAllowLoadBalancer(), world.ctx())


# --- container start: stopped tasks ----------------------------------------------------------------
def _stopped(stand: Stand, **task: Any) -> str:
    world = stand.guide()
    world.deploy()
    StandIn(REGION).set_task_sets(
        world.deployment_id,
        [_task_set(BLUE_ID, "Blue", 2, 2, 0, "shop-blue"), _task_set(GREEN_ID, "Green", 2, 1, 1, "shop-green")],
    )
    add_task(REGION, "shop-cluster", world.task_definition, GREEN_ID, last_status="STOPPED", **task)
    return printed(StoppedTasks(), _after_install(world))


@producer("stopped-out-of-memory")
def _stopped_out_of_memory(stand: Stand) -> str:
    return _stopped(
        stand,
        stop_code="EssentialContainerExited",
        stopped_reason="Essential container in task exited",
        container_reason="OutOfMemoryError: Container killed due to memory usage",
        exit_code=137,
    )


@producer("stopped-cannot-pull")
def _stopped_cannot_pull(stand: Stand) -> str:
    return _stopped(
        stand,
        stop_code="TaskFailedToStart",
        stopped_reason="CannotPullContainerError: pull image manifest has been retried 5 time(s): "
        "failed to resolve ref",
    )


@producer("stopped-registry-auth")
def _stopped_registry_auth(stand: Stand) -> str:
    return _stopped(
        stand,
        stop_code="TaskFailedToStart",
        stopped_reason="ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
        "retrieval failed: unable to retrieve ecr registry auth: service call has been retried 3 time(s): "
        "AccessDeniedException",
    )


# --- container start: images -----------------------------------------------------------------------
@producer("ecr-tag-missing")
def _ecr_tag_missing(stand: Stand) -> str:
    aws = stand.taskdef()
    aws.push("app", "1")
    return printed(EcrImagesExist(), aws.ctx(aws.register(container={"image": f"{REGISTRY}/app:2"})))


@producer("ecr-repository-missing")
def _ecr_repository_missing(stand: Stand) -> str:
    aws = stand.taskdef()
    return printed(EcrImagesExist(), aws.ctx(aws.register(container={"image": f"{REGISTRY}/worker:1"})))


@producer("scan-critical")
def _scan_critical(stand: Stand) -> str:
    aws = stand.taskdef()
    aws.push("app", "1")
    set_scan_findings(
        REGION,
        "app",
        "1",
        [{"name": "CVE-2024-1111", "severity": "CRITICAL"}, {"name": "CVE-2024-3333", "severity": "HIGH"}],
    )
    return printed(EcrScanFindings(), aws.ctx(aws.register()))


@producer("scan-never-scanned")
def _scan_never_scanned(stand: Stand) -> str:
    aws = stand.taskdef()
    aws.push("app", "1")
    return printed(EcrScanFindings(), aws.ctx(aws.register(), scan_no_data="fail"))


# --- container start: environment and secrets --------------------------------------------------------
@producer("required-env-missing")
def _required_env_missing(stand: Stand) -> str:
    aws = stand.taskdef()
    return printed(RequiredEnvironment(), aws.ctx(aws.register(), required_env=("LOG_LEVEL", "DATABASE_URL")))


@producer("secret-missing")
def _secret_missing(stand: Stand) -> str:
    aws = stand.taskdef()
    ghost = f"arn:aws:secretsmanager:{REGION}:123456789012:secret:shop/db-AbCdEf"
    arn = aws.register(container={"secrets": [{"name": "DB_PASSWORD", "valueFrom": f"{ghost}:password::"}]})
    return printed(SecretReferencesExist(), aws.ctx(arn))


@producer("parameter-missing")
def _parameter_missing(stand: Stand) -> str:
    aws = stand.taskdef()
    arn = aws.register(container={"secrets": [{"name": "API_KEY", "valueFrom": "/shop/api-key"}]})
    return printed(SecretReferencesExist(), aws.ctx(arn))


@producer("plaintext-secret")
def _plaintext_secret(stand: Stand) -> str:
    aws = stand.taskdef()
    environment = [
        {"name": "DB_PASSWORD", "value": "hunter2-but-longer"},
        {"name": "AWS_ACCESS_KEY_ID", "value": "AKIA" + "Q3EXAMPLE7Z4KX2P"},
        {"name": "LOG_LEVEL", "value": "info"},
    ]
    return printed(PlaintextSecrets(), aws.ctx(aws.register(container={"environment": environment})))


# --- the network of the tasks ------------------------------------------------------------------------
def _isolated_subnets(stand: Stand, interfaces: tuple[str, ...], *, s3_gateway: bool) -> str:
    """The guide world's tasks in subnets with no egress, with these interface endpoints (no groups
    given, so the VPC's default one) and optionally the S3 gateway; what network.vpc_endpoints prints."""
    world = stand.guide()
    ec2 = stand.client("ec2")
    ec2.modify_vpc_attribute(VpcId=world.vpc, EnableDnsHostnames={"Value": True})  # private DNS needs it
    table = ec2.create_route_table(VpcId=world.vpc)["RouteTable"]["RouteTableId"]
    for subnet in world.task_subnets:
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    for name in interfaces:
        ec2.create_vpc_endpoint(
            VpcId=world.vpc,
            ServiceName=f"com.amazonaws.{REGION}.{name}",
            VpcEndpointType="Interface",
            SubnetIds=world.task_subnets,
        )
    if s3_gateway:
        s3 = f"com.amazonaws.{REGION}.s3"
        ec2.create_vpc_endpoint(VpcId=world.vpc, ServiceName=s3, VpcEndpointType="Gateway", RouteTableIds=[table])
    world.deploy()
    # The guide world's image is on ECR Public: use one in this account's ECR, as a private VPC would.
    aws = stand.taskdef()
    arn = aws.register(container={"portMappings": [{"containerPort": 8080}]})
    ctx = world.ctx()
    appspec = dataclasses.replace(ctx.appspec(), task_definition_arn=arn)
    ctx._deployment = dataclasses.replace(ctx.deployment(), appspec=appspec)
    return printed(VpcEndpoints(), ctx)


@producer("vpc-endpoints-missing")
def _vpc_endpoints_missing(stand: Stand) -> str:
    return _isolated_subnets(stand, ("ecr.api", "ecr.dkr", "logs"), s3_gateway=False)


@producer("vpc-endpoint-closed")
def _vpc_endpoint_closed(stand: Stand) -> str:
    # Interface endpoints created without groups get the VPC's default group: closed to the tasks.
    return _isolated_subnets(stand, ("ecr.api", "ecr.dkr"), s3_gateway=True)


# --- the gate's own failure modes ------------------------------------------------------------------
@dataclass(kw_only=True)
class _Stuck(Check):
    """A check stuck in I/O: it returns only when the hook walks away from it."""

    def run(self, ctx: CheckContext) -> CheckResult:
        ctx.cancelled.wait(30)
        return CheckResult.passed("too late")


@producer("deadline")
def _deadline(stand: Stand) -> str:
    ctx = CheckContext(
        hook=Hook.AFTER_INSTALL,
        deployment_id="d-DEADLINE1",
        execution_id="exec-1",
        settings=Settings(),
        aws=AwsClients(session=stand.session),
        deadline=time.monotonic() + 30,
    )
    plan = [_Stuck(check_id="ecs.taskset_steady"), _Stuck(check_id="elb.targets_healthy")]
    records = PlanRun(Hook.AFTER_INSTALL, ctx, plan).wait(time.monotonic() + 0.3)
    status, reason = decide(records)
    assert status == "Failed"
    return reason


@producer("vpc-no-route")
def _vpc_no_route(stand: Stand) -> str:
    world = stand.guide()
    world.deploy()
    stand.refuse(
        "codedeploy.GetDeployment", ConnectTimeoutError(endpoint_url=f"https://codedeploy.{REGION}.amazonaws.com/")
    )
    return printed(TaskDefinitionActive(), world.ctx())


@producer("vpc-no-route-to-iam")
def _vpc_no_route_to_iam(stand: Stand) -> str:
    # A gate in a VPC outside us-east-1 with the template's endpoints: every call but IAM's goes through.
    aws = stand.taskdef()
    role = _role(aws, "ecsTaskExecution", {"Effect": "Allow", "Action": "ecr:*", "Resource": "*"})
    stand.refuse("iam.SimulatePrincipalPolicy", ConnectTimeoutError(endpoint_url="https://iam.amazonaws.com/"))
    return printed(ExecutionRole(), aws.ctx(aws.register(executionRoleArn=role)))


@producer("access-denied-discovery")
def _access_denied_discovery(stand: Stand) -> str:
    world = stand.guide()
    world.deploy()
    stand.refuse("codedeploy.GetDeployment", _access_denied("GetDeployment"))
    return printed(TaskDefinitionActive(), world.ctx())


@producer("access-denied-task-definition")
def _access_denied_task_definition(stand: Stand) -> str:
    world = stand.guide()
    world.deploy()
    stand.refuse("ecs.DescribeTaskDefinition", _access_denied("DescribeTaskDefinition"))
    return printed(TaskDefinitionActive(), world.ctx())


class _RefusingClients:
    """Report clients whose CodeDeploy refuses ``PutLifecycleEventHookExecutionStatus`` (the real reporter's edge)."""

    def reporting_client(self, read_timeout_s: float = 2.0) -> Any:
        def put(**_kwargs: Any) -> None:
            raise _access_denied("PutLifecycleEventHookExecutionStatus")

        return type("RefusingCodeDeploy", (), {"put_lifecycle_event_hook_execution_status": staticmethod(put)})()


@producer("report-access-denied")
def _report_access_denied(stand: Stand) -> str:
    reporter = CodeDeployReporter(_RefusingClients())
    with pytest.raises(ReportError) as raised:
        reporter.report(deployment_id="d-REPORT001", execution_id="exec-1", status="Succeeded")
    return f"ReportError: {raised.value}"


# --------------------------------------------------------------------------------------------
# the tests
# --------------------------------------------------------------------------------------------
def test_every_quote_has_a_producer_and_every_producer_a_quote() -> None:
    quoted = {q.key for q in QUOTES}
    assert quoted, "no `text reason=<key>` block in docs/*.md"
    unproduced = sorted(f"{q.block.where()}: {q.key}" for q in QUOTES if q.key not in PRODUCERS)
    assert not unproduced, f"quotes without a producer in {Path(__file__).name}: {unproduced}"
    unused = sorted(set(PRODUCERS) - quoted)
    assert not unused, f"producers no doc quotes (quote them or remove them): {unused}"


KEYS = sorted({q.key for q in QUOTES})


@pytest.mark.parametrize("key", KEYS)
def test_the_quoted_reason_is_what_the_check_prints(key: str, stand: Stand) -> None:
    """One situation, produced once; every quote of it (a reason may be quoted in both documents) matches."""
    quoted = [q for q in QUOTES if q.key == key]
    make = PRODUCERS.get(key)
    if make is None:
        pytest.fail(f"{quoted[0].block.where()}: no producer for reason={key}")
    produced = make(stand)
    assert "\n" not in produced
    for quote in quoted:
        assert matches(quote.text, produced), (
            f"{quote.block.where()}: the quote no longer matches what Trafficgate prints\n"
            f"  quoted:   {quote.text}\n  produced: {produced}"
        )


def test_placeholders_match_run_specific_text_and_nothing_else_is_loose() -> None:
    produced = "ec2.security_groups: sg-0abc (tasks) has no ingress from sg-0def (load balancer shop-alb) on tcp/8080"
    quoted = "ec2.security_groups: <task sg> (tasks) has no ingress from … (load balancer shop-alb) on tcp/8080"
    assert matches(quoted, produced)
    assert not matches(quoted.replace("tcp/8080", "tcp/80"), produced)
    assert not matches(quoted.replace("has no", "lacks"), produced)
    assert not matches(quoted + ")", produced)
    # "60 s < interval" is a comparison in a reason, not a placeholder: it must match itself.
    grace = "service shop-web healthCheckGracePeriodSeconds 60 s < interval 20 s"
    assert matches(grace, grace) and not matches(grace, grace.replace("60 s <", "61 s <"))


def test_a_drifted_quote_is_caught(tmp_path: Path, stand: Stand) -> None:
    """The machinery bites: a doc whose quote lost one word fails the comparison with the real check."""
    (tmp_path / "drift.md").write_text(
        "# drift\n\n```text reason=container-port-unmapped\n"
        "ecs.container_port: container web port 8080 not in portMappings [8080]\n```\n",
        encoding="utf-8",
    )
    (drifted,) = quotes(tmp_path)
    produced = PRODUCERS[drifted.key](stand)
    assert produced == "ecs.container_port: container web port 8080 not in portMappings [80]"
    assert not matches(drifted.text, produced)
