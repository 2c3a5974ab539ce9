"""CloudWatch alarm and metric checks against moto (extended by the stand-in) through real boto3."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from tests.support.lambda_env import REGION
from trafficgate.attempts import run_check
from trafficgate.aws import AwsClients
from trafficgate.checks.alarms import ALARMS_CHECK_ID, AlarmsCheck
from trafficgate.checks.base import Check, Outcome, Policy
from trafficgate.checks.metrics import (
    BAKE_STARTED_AT,
    FIVE_XX_RATE_CHECK_ID,
    TARGET_P95_CHECK_ID,
    UNHEALTHY_HOSTS_CHECK_ID,
    FiveXxRate,
    TargetP95,
    UnhealthyHosts,
    arn_suffix,
)
from trafficgate.config import Settings
from trafficgate.context import CheckContext
from trafficgate.discovery import Deployment, Listener, TargetGroup, TaskSet
from trafficgate.hooks import Hook
from trafficgate.plan import default_plan
from trafficgate_local.standin import StandIn, ecs_revision
from trafficgate_local.standin.cloudwatch import install_cloudwatch

pytestmark = pytest.mark.integration

ACCOUNT = "123456789012"
ELB = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}"
GREEN_TG = f"{ELB}:targetgroup/shop-green/6d0ecf831eec9f09"
LB = f"{ELB}:loadbalancer/app/shop/50dc6c495c0c9188"
DIMENSIONS = [
    {"Name": "TargetGroup", "Value": "targetgroup/shop-green/6d0ecf831eec9f09"},
    {"Name": "LoadBalancer", "Value": "app/shop/50dc6c495c0c9188"},
]


def hand_built(alarm_configuration: dict[str, Any] | None = None) -> Deployment:
    return Deployment(
        deployment_id="d-TESTTEST1",
        application="shop",
        deployment_group="shop-dg",
        deployment_config="CodeDeployDefault.ECSAllAtOnce",
        appspec=None,
        cluster="shop-cluster",
        service="shop-web",
        prod_listeners=(
            Listener(
                arn=f"{ELB}:listener/app/shop/50dc6c495c0c9188/1",
                protocol="HTTP",
                port=80,
                load_balancer_arn=LB,
                dns_name="shop.example",
            ),
        ),
        test_listeners=(),
        target_groups=(
            TargetGroup(name="shop-blue", arn=f"{ELB}:targetgroup/shop-blue/1111111111111111"),
            TargetGroup(name="shop-green", arn=GREEN_TG),
        ),
        alarm_configuration=alarm_configuration or {},
        task_sets=(
            TaskSet(
                identifier="ecs-svc/2",
                label="GREEN",
                desired=2,
                pending=0,
                running=2,
                status="ACTIVE",
                traffic_weight=100.0,
                target_group="shop-green",
            ),
        ),
    )


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        install_cloudwatch()
        yield


def make_ctx(deployment: Deployment | None = None, *, deadline_s: float = 30, **settings: Any) -> CheckContext:
    """A context whose bake, unless a test sets ``bake_seconds``, already ran for a minute.

    The window is the bake widened to whole minutes. A one-minute bake that is already over (its
    start is back-dated in the per-invocation cache) reads every datum put in the last minute without
    sleeping, even when a minute boundary passes between the put and the read.
    """
    baked = "bake_seconds" not in settings
    ctx = CheckContext(
        hook=Hook.AFTER_ALLOW_TRAFFIC,
        deployment_id="d-TESTTEST1",
        execution_id="exec-1",
        settings=Settings(**{"bake_seconds": 60.0, **settings}),
        aws=AwsClients(),
        deadline=time.monotonic() + deadline_s,
    )
    if baked:
        ctx.cache[BAKE_STARTED_AT] = time.time() - 60.0
    ctx._deployment = deployment or hand_built()
    return ctx


def put(name: str, *, value: float | None = None, values: list[float] | None = None) -> None:
    datum: dict[str, Any] = {"MetricName": name, "Dimensions": DIMENSIONS, "Timestamp": datetime.now(UTC)}
    if values is not None:
        datum["Values"] = values
    else:
        datum["Value"] = value
    boto3.client("cloudwatch").put_metric_data(Namespace="AWS/ApplicationELB", MetricData=[datum])


def metric_alarm(name: str, state: str = "OK") -> None:
    cloudwatch = boto3.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        MetricName="HTTPCode_Target_5XX_Count",
        Namespace="AWS/ApplicationELB",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )
    if state != "OK":
        cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason=f"{name} breached")


def deny(ctx: CheckContext, operation: str = "DescribeAlarms") -> None:
    """Make the context's CloudWatch client get AccessDenied for ``operation`` (as IAM would answer)."""

    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        error = {"Code": "AccessDenied", "Message": "not authorized"}
        return AWSResponse("https://monitoring", 403, {}, None), {"Error": error, "ResponseMetadata": {}}

    ctx.aws.client("cloudwatch").meta.events.register(f"before-call.cloudwatch.{operation}", answer)


# --- cloudwatch.alarms ------------------------------------------------------------------------
def test_no_alarms_configured_passes(aws: None) -> None:
    result = AlarmsCheck().run(make_ctx())
    assert result.outcome is Outcome.PASS
    assert result.reason == "no alarms configured"


def test_group_alarm_in_alarm_fails_through_discovery(aws: None) -> None:
    """The deployment group's alarmConfiguration, read by discovery from the stand-in."""
    StandIn(REGION)
    deployment_id = _real_deployment(
        {"enabled": True, "ignorePollAlarmFailure": False, "alarms": [{"name": "shop-5xx"}, {"name": "shop-cpu"}]}
    )
    metric_alarm("shop-5xx", "ALARM")
    metric_alarm("shop-cpu")
    ctx = dataclasses.replace(make_ctx(), deployment_id=deployment_id, _deployment=None)
    result = AlarmsCheck().run(ctx)
    assert result.outcome is Outcome.FAIL
    assert result.reason == "1 in ALARM: shop-5xx (shop-5xx breached)"
    assert result.value == ["shop-5xx"]
    assert result.threshold == "none in ALARM"


def test_disabled_group_alarms_are_not_watched(aws: None) -> None:
    metric_alarm("shop-5xx", "ALARM")
    deployment = hand_built({"enabled": False, "alarms": [{"name": "shop-5xx"}]})
    assert AlarmsCheck().run(make_ctx(deployment)).reason == "no alarms configured"


def test_prefix_and_composite_alarms(aws: None) -> None:
    metric_alarm("shop-a")
    metric_alarm("shop-b")
    cloudwatch = boto3.client("cloudwatch")
    cloudwatch.put_composite_alarm(AlarmName="shop-composite", AlarmRule='ALARM("shop-a") OR ALARM("shop-b")')
    ok = AlarmsCheck().run(make_ctx(alarms=("shop-*",)))
    assert ok.outcome is Outcome.PASS, ok.reason
    assert ok.reason == "3 alarms, none in ALARM"
    cloudwatch.set_alarm_state(AlarmName="shop-composite", StateValue="ALARM", StateReason="children in ALARM")
    bad = AlarmsCheck().run(make_ctx(alarms=("shop-*",)))
    assert bad.outcome is Outcome.FAIL
    assert bad.value == ["shop-composite"]


def test_named_alarm_not_found_fails(aws: None) -> None:
    metric_alarm("shop-a")
    result = AlarmsCheck().run(make_ctx(alarms=("shop-a", "shop-typo", "nothing-*")))
    assert result.outcome is Outcome.FAIL
    assert result.reason == "alarm not found: shop-typo · no alarm matches nothing-*"


def test_unreadable_alarms_fail(aws: None) -> None:
    ctx = make_ctx(hand_built({"enabled": True, "alarms": [{"name": "shop-5xx"}]}))
    deny(ctx)
    result = AlarmsCheck().run(ctx)
    assert result.outcome is Outcome.FAIL
    assert result.reason == "could not read CloudWatch alarms: AWS error AccessDenied"


def test_unreadable_alarms_pass_with_ignore_poll_alarm_failure(aws: None) -> None:
    config = {"enabled": True, "ignorePollAlarmFailure": True, "alarms": [{"name": "shop-5xx"}]}
    ctx = make_ctx(hand_built(config))
    deny(ctx)
    result = AlarmsCheck().run(ctx)
    assert result.outcome is Outcome.PASS
    assert result.warnings and "ignorePollAlarmFailure" in result.warnings[0]


# --- cloudwatch metrics -----------------------------------------------------------------------
def test_healthy_green_passes_all_three_with_one_read(aws: None) -> None:
    put("RequestCount", value=200)
    put("HTTPCode_Target_5XX_Count", value=1)
    put("TargetResponseTime", values=[0.05] * 95 + [0.4] * 5)
    put("UnHealthyHostCount", value=0)
    calls: list[str] = []
    progress: list[tuple[str, int, int]] = []
    ctx = dataclasses.replace(make_ctx(bake_seconds=1.0), on_progress=lambda *a: progress.append(a))
    ctx.aws.client("cloudwatch").meta.events.register(
        "before-call.cloudwatch.GetMetricData", lambda **_: calls.append("GetMetricData")
    )
    results = [check.run(ctx) for check in metric_checks()]
    assert [r.outcome for r in results] == [Outcome.PASS] * 3, [r.reason for r in results]
    # Baked once, by the first check, and really waited (progress from 0 s to 1 s); read once.
    assert {check_id for check_id, _, _ in progress} == {FIVE_XX_RATE_CHECK_ID}
    assert progress[0] == (FIVE_XX_RATE_CHECK_ID, 0, 1) and progress[-1] == (FIVE_XX_RATE_CHECK_ID, 1, 1)
    assert calls == ["GetMetricData"]
    assert results[0].value == 0.005
    assert results[1].value == 50.0
    assert results[0].details["dimensions"] == {d["Name"]: d["Value"] for d in DIMENSIONS}


def test_5xx_rate_breach_fails(aws: None) -> None:
    put("RequestCount", value=200)
    put("HTTPCode_Target_5XX_Count", value=10)
    result = FiveXxRate().run(make_ctx(max_5xx_rate=0.01))
    assert result.outcome is Outcome.FAIL
    assert result.reason.startswith("5xx rate 0.0500 > 0.0100 (10/200 requests, ")
    assert (result.value, result.threshold) == (0.05, 0.01)


def test_p95_breach_fails(aws: None) -> None:
    put("RequestCount", value=100)
    put("TargetResponseTime", values=[0.1] * 90 + [2.0] * 10)
    result = TargetP95().run(make_ctx(max_target_p95_ms=1000))
    assert result.outcome is Outcome.FAIL
    assert result.reason.startswith("target p95 2000 ms > 1000 ms (100 requests, ")


def test_unhealthy_hosts_fail(aws: None) -> None:
    put("UnHealthyHostCount", value=0)
    put("UnHealthyHostCount", value=2)
    result = UnhealthyHosts().run(make_ctx(max_unhealthy_hosts=0))
    assert result.outcome is Outcome.FAIL
    assert result.reason.startswith("max UnHealthyHostCount 2 > 0 (")


@pytest.mark.parametrize(
    ("policy", "outcome"),
    [("pass", Outcome.PASS), ("fail", Outcome.FAIL), ("inconclusive", Outcome.INCONCLUSIVE)],
)
def test_too_little_traffic_applies_the_no_data_policy(aws: None, policy: str, outcome: Outcome) -> None:
    # The check reports what it saw and on how many requests; the runner's one no-data rule, with
    # TRAFFICGATE_MIN_SAMPLES / TRAFFICGATE_METRICS_NO_DATA as this family's defaults, judges it.
    put("RequestCount", value=12)
    put("HTTPCode_Target_5XX_Count", value=12)
    ctx = make_ctx(min_samples=100, metrics_no_data=policy)
    record = run_check(FiveXxRate(), ctx)
    assert record.outcome is outcome
    assert record.reason.startswith("12 requests < 100 minimum")
    assert "5xx rate 1.0000 > 0.0100 (12/12 requests" in record.reason  # what was seen stays in the reason
    if policy == "pass":
        assert record.reason.startswith("12 requests < 100 minimum: not judged (seen: 5xx rate")
        assert record.warnings == ("12 requests < 100 minimum",)
    else:
        assert record.reason.startswith(f"12 requests < 100 minimum (no_data={policy}): ")
    assert run_check(TargetP95(), ctx).outcome is outcome


def test_a_plan_policy_overrides_the_operator_defaults_of_the_no_data_rule(aws: None) -> None:
    put("RequestCount", value=12)
    ctx = make_ctx(min_samples=100, metrics_no_data="pass")
    strict = FiveXxRate(policy=Policy(min_samples=5, no_data="fail"))
    assert run_check(strict, ctx).outcome is Outcome.PASS  # 12 >= 5: judged, and 0 errors pass
    stricter = FiveXxRate(policy=Policy(no_data="fail"))  # min_samples from the operator: 100
    record = run_check(stricter, ctx)
    assert record.outcome is Outcome.FAIL
    assert record.reason.startswith("12 requests < 100 minimum (no_data=fail): ")


@pytest.mark.parametrize(
    ("policy", "outcome"),
    [("pass", Outcome.PASS), ("fail", Outcome.FAIL), ("inconclusive", Outcome.INCONCLUSIVE)],
)
def test_no_datapoints_apply_the_no_data_policy(aws: None, policy: str, outcome: Outcome) -> None:
    ctx = make_ctx(metrics_no_data=policy)
    records = [run_check(check, ctx) for check in metric_checks()]
    assert [r.outcome for r in records] == [outcome] * 3
    assert records[0].reason.startswith("0 requests < 10 minimum")
    assert "no RequestCount datapoints" in records[0].reason
    assert records[2].reason.startswith("0 datapoints < 1 minimum")
    assert "no UnHealthyHostCount datapoints" in records[2].reason


def test_the_bake_is_cut_so_that_the_read_and_the_later_checks_fit(aws: None) -> None:
    # 60 s of bake asked for, 10.5 s left, 10 s kept for the read: half a second of bake at most,
    # and the reason says so (not only a warning): less traffic was judged than configured.
    put("UnHealthyHostCount", value=0)
    ctx = make_ctx(bake_seconds=60, deadline_s=10.5)
    result = UnhealthyHosts().run(ctx)
    assert result.outcome is Outcome.PASS
    note = "bake cut to 0 s of 60 s so that the metric read and the checks after it fit before the hook's deadline"
    assert any(w.startswith(note) for w in result.warnings)
    assert note in result.reason and "TRAFFICGATE_BAKE_SECONDS" in result.reason


def test_the_checks_after_the_bake_are_left_their_time(aws: None) -> None:
    ctx = make_ctx(bake_seconds=60, deadline_s=14)
    ctx.time_after_s = 3.5  # what the runner says the checks after this one need
    result = UnhealthyHosts().run(ctx)
    assert any(w.startswith("bake cut to 0 s of 60 s") for w in result.warnings)


def test_unreadable_metrics_error_once_for_every_check(aws: None) -> None:
    ctx = make_ctx()
    deny(ctx, "GetMetricData")
    with pytest.raises(Exception, match="could not read CloudWatch metrics of shop-green: AWS error AccessDenied"):
        FiveXxRate().run(ctx)
    with pytest.raises(Exception, match="AccessDenied"):
        UnhealthyHosts().run(ctx)


def test_dimension_values_are_arn_suffixes() -> None:
    assert arn_suffix(GREEN_TG, "targetgroup") == "targetgroup/shop-green/6d0ecf831eec9f09"
    assert arn_suffix(LB, "loadbalancer") == "app/shop/50dc6c495c0c9188"
    with pytest.raises(Exception, match="not an Application Load Balancer"):
        arn_suffix("arn:aws:ecs:us-east-1:1:cluster/x", "loadbalancer")


def test_check_lists_have_stable_ids() -> None:
    ids = [c.check_id for c in default_plan(Hook.AFTER_ALLOW_TRAFFIC, Settings())]
    assert ids[:4] == [ALARMS_CHECK_ID, FIVE_XX_RATE_CHECK_ID, TARGET_P95_CHECK_ID, UNHEALTHY_HOSTS_CHECK_ID]
    assert default_plan(Hook.BEFORE_ALLOW_TRAFFIC, Settings())[0].check_id == ALARMS_CHECK_ID


def metric_checks() -> list[Check]:
    return [FiveXxRate(), TargetP95(), UnhealthyHosts()]


def _real_deployment(alarm_configuration: dict[str, Any]) -> str:
    ec2, elbv2, codedeploy = boto3.client("ec2"), boto3.client("elbv2"), boto3.client("codedeploy")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}")["Subnet"]["SubnetId"]
        for i, z in ((1, "a"), (2, "b"))
    ]
    lb = elbv2.create_load_balancer(Name="shop", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    for name in ("shop-blue", "shop-green"):
        elbv2.create_target_group(Name=name, Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip")
    blue = elbv2.describe_target_groups(Names=["shop-blue"])["TargetGroups"][0]["TargetGroupArn"]
    listener = elbv2.create_listener(
        LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[{"Type": "forward", "TargetGroupArn": blue}]
    )["Listeners"][0]["ListenerArn"]
    codedeploy.create_application(applicationName="shop", computePlatform="ECS")
    codedeploy.create_deployment_group(
        applicationName="shop",
        deploymentGroupName="shop-dg",
        serviceRoleArn=f"arn:aws:iam::{ACCOUNT}:role/codedeploy",
        deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        ecsServices=[{"clusterName": "shop-cluster", "serviceName": "shop-web"}],
        alarmConfiguration=alarm_configuration,
        loadBalancerInfo={
            "targetGroupPairInfoList": [
                {
                    "targetGroups": [{"name": "shop-blue"}, {"name": "shop-green"}],
                    "prodTrafficRoute": {"listenerArns": [listener]},
                }
            ]
        },
    )
    deployment_id: str = codedeploy.create_deployment(
        applicationName="shop",
        deploymentGroupName="shop-dg",
        revision=ecs_revision(f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/shop:2", "web", 8080),
    )["deploymentId"]
    return deployment_id
