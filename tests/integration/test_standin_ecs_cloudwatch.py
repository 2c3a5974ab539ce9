"""The stand-in's ECS/ELBv2 and CloudWatch extensions of moto, seen through real boto3 clients."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.support.lambda_env import REGION
from trafficgate_local.standin import StandInError, StandInServer
from trafficgate_local.standin.cloudwatch import (
    install_cloudwatch,
    is_cloudwatch_installed,
    percentile,
    trimmed_mean,
)
from trafficgate_local.standin.ecs import (
    add_task,
    clear_target_health,
    install_ecs,
    is_ecs_installed,
    set_target_health,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        install_ecs()
        install_cloudwatch()
        yield


def _task_definition() -> str:
    ecs = boto3.client("ecs")
    ecs.create_cluster(clusterName="c1")
    arn: str = ecs.register_task_definition(
        family="web",
        networkMode="awsvpc",
        containerDefinitions=[
            {"name": "app", "image": "app:1", "memory": 256},
            {"name": "sidecar", "image": "envoy:1", "memory": 64},
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    return arn


def test_install_is_idempotent() -> None:
    install_ecs()
    install_ecs()
    install_cloudwatch()
    install_cloudwatch()
    assert is_ecs_installed() and is_cloudwatch_installed()


# --- ECS --------------------------------------------------------------------------------------
def test_added_tasks_are_listed_by_started_by_and_described(aws: None) -> None:
    task_def = _task_definition()
    running = add_task(REGION, "c1", task_def, "ecs-svc/green")
    stopped = add_task(
        REGION,
        "c1",
        task_def,
        "ecs-svc/green",
        last_status="STOPPED",
        stopped_reason="Essential container in task exited",
        stop_code="EssentialContainerExited",
        container_reason="OutOfMemoryError: Container killed due to memory usage",
        exit_code=137,
    )
    add_task(REGION, "c1", task_def, "ecs-svc/blue", last_status="STOPPED")
    ecs = boto3.client("ecs")
    assert ecs.list_tasks(cluster="c1", startedBy="ecs-svc/green")["taskArns"] == [running, stopped]
    assert ecs.list_tasks(cluster="c1", startedBy="ecs-svc/green", desiredStatus="STOPPED")["taskArns"] == [stopped]

    for _ in range(3):  # moto's state machine would move a normal task on every describe
        tasks = {t["taskArn"]: t for t in ecs.describe_tasks(cluster="c1", tasks=[running, stopped])["tasks"]}
    assert tasks[running]["lastStatus"] == "RUNNING"
    task = tasks[stopped]
    assert (task["lastStatus"], task["desiredStatus"]) == ("STOPPED", "STOPPED")
    assert task["stoppedReason"] == "Essential container in task exited"
    assert task["stopCode"] == "EssentialContainerExited"
    assert task["startedBy"] == "ecs-svc/green"
    assert [(c["name"], c["reason"], c["exitCode"]) for c in task["containers"]] == [
        ("app", "OutOfMemoryError: Container killed due to memory usage", 137),
        ("sidecar", "OutOfMemoryError: Container killed due to memory usage", 137),
    ]


def test_add_task_names_what_is_missing(aws: None) -> None:
    task_def = _task_definition()
    with pytest.raises(StandInError, match="cluster 'nope'"):
        add_task(REGION, "nope", task_def, "x")
    with pytest.raises(StandInError, match="last_status"):
        add_task(REGION, "c1", task_def, "x", last_status="EXPLODED")


def test_target_health_override(aws: None) -> None:
    ec2, elbv2 = boto3.client("ec2"), boto3.client("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    tg = elbv2.create_target_group(Name="green", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip")[
        "TargetGroups"
    ][0]["TargetGroupArn"]
    elbv2.register_targets(TargetGroupArn=tg, Targets=[{"Id": "10.0.1.5", "Port": 8080}, {"Id": "10.0.1.6"}])
    set_target_health(REGION, tg, "10.0.1.5", 8080, "unhealthy", "Target.Timeout", "Request timed out")

    def states() -> dict[str, tuple[str, str | None]]:
        answer = elbv2.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
        return {d["Target"]["Id"]: (d["TargetHealth"]["State"], d["TargetHealth"].get("Reason")) for d in answer}

    # No listener forwards to the group: what is not overridden reads unused, as on a real load balancer.
    assert states() == {"10.0.1.5": ("unhealthy", "Target.Timeout"), "10.0.1.6": ("unused", "Target.NotInUse")}
    clear_target_health(REGION, tg)
    assert states()["10.0.1.5"] == ("unused", "Target.NotInUse")
    with pytest.raises(StandInError, match="state"):
        set_target_health(REGION, tg, "10.0.1.5", 8080, "sick")
    with pytest.raises(StandInError, match="does not exist"):
        set_target_health(REGION, tg + "x", "10.0.1.5")


# --- CloudWatch -------------------------------------------------------------------------------
def _metric_query(query_id: str, stat: str) -> dict[str, Any]:
    return {
        "Id": query_id,
        "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "Latency"}, "Period": 300, "Stat": stat},
    }


def _get(cloudwatch: Any, *stats: str) -> dict[str, list[float]]:
    now = datetime.now(UTC)
    answer = cloudwatch.get_metric_data(
        MetricDataQueries=[_metric_query(f"q{i}", stat) for i, stat in enumerate(stats)],
        StartTime=now - timedelta(minutes=5),
        EndTime=now + timedelta(minutes=1),
    )
    return {r["Id"]: r["Values"] for r in answer["MetricDataResults"]}


def test_percentiles_from_raw_values(aws: None) -> None:
    cloudwatch = boto3.client("cloudwatch")
    values = [float(v) for v in range(1, 101)]
    when = datetime.now(UTC) - timedelta(seconds=30)  # one timestamp: no period boundary in between
    cloudwatch.put_metric_data(
        Namespace="App", MetricData=[{"MetricName": "Latency", "Values": values, "Timestamp": when}]
    )
    got = _get(cloudwatch, "p95", "p50", "p99.9", "tm90", "Maximum")
    assert got == {"q0": [95.0], "q1": [50.0], "q2": [100.0], "q3": [45.5], "q4": [100.0]}


def test_percentile_of_statistic_sets_has_no_datapoint(aws: None) -> None:
    cloudwatch = boto3.client("cloudwatch")
    stats = {"SampleCount": 10, "Sum": 10, "Minimum": 1, "Maximum": 1}
    cloudwatch.put_metric_data(Namespace="App", MetricData=[{"MetricName": "Latency", "StatisticValues": stats}])
    assert _get(cloudwatch, "p95", "Sum") == {"q0": [], "q1": [10.0]}


def test_composite_alarms_are_listed_as_composite(aws: None) -> None:
    cloudwatch = boto3.client("cloudwatch")
    cloudwatch.put_composite_alarm(AlarmName="shop-any", AlarmRule='ALARM("shop-5xx")')
    answer = cloudwatch.describe_alarms(AlarmNames=["shop-any"], AlarmTypes=["CompositeAlarm", "MetricAlarm"])
    assert answer["MetricAlarms"] == []
    assert [(a["AlarmName"], a["AlarmRule"]) for a in answer["CompositeAlarms"]] == [("shop-any", 'ALARM("shop-5xx")')]


def test_percentile_helpers() -> None:
    assert percentile([], 95) is None
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert trimmed_mean([1.0, 2.0, 3.0, 100.0], 75) == 2.0


def test_extensions_work_through_the_server() -> None:
    install_ecs()
    install_cloudwatch()
    with StandInServer(region_name=REGION) as server:
        cloudwatch = boto3.client("cloudwatch", region_name=REGION, endpoint_url=server.endpoint_url)
        # One explicit timestamp for all values: they must not straddle a period boundary.
        when = datetime.now(UTC) - timedelta(seconds=30)
        cloudwatch.put_metric_data(
            Namespace="App",
            MetricData=[{"MetricName": "Latency", "Values": [0.1] * 90 + [2.0] * 10, "Timestamp": when}],
        )
        assert _get(cloudwatch, "p95") == {"q0": [2.0]}
