"""The embedded CodeDeploy stand-in, exercised through real boto3 clients.

Most tests run twice: against ``moto.mock_aws()`` in-process (driven by ``StandIn``) and against a
stand-in server on 127.0.0.1 (driven over HTTP by ``StandInAdmin``). Both control objects have the
same methods and return types, so one test body covers both modes.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.codedeploy.models import CodeDeployBackend
from moto.codedeploy.responses import CodeDeployResponse

from tests.support.lambda_env import EVENTS, load_event
from tests.support.shapes import assert_fits
from trafficgate.hooks import Hook
from trafficgate_local.standin import (
    ECS_LIFECYCLE_EVENTS,
    StandIn,
    StandInAdmin,
    StandInAdminError,
    StandInError,
    StandInServer,
    TaskSet,
    install,
    is_installed,
)

pytestmark = pytest.mark.integration

TEST_REGION = "eu-west-1"
CLUSTER = "shop-cluster"
SERVICE = "shop-web"
TARGET_ID = f"{CLUSTER}:{SERVICE}"
FIXED_ID = "d-EXAMPLE11"
DEPLOYMENT_ID_RE = re.compile(r"^d-[A-Z0-9]{9}$")

BLUE = {
    "identifer": "ecs-svc/1111111111111111111",
    "desiredCount": 2,
    "pendingCount": 0,
    "runningCount": 2,
    "status": "PRIMARY",
    "trafficWeight": 100.0,
    "targetGroup": {"name": "shop-blue"},
    "taskSetLabel": "Blue",
}
GREEN = {
    "identifer": "ecs-svc/2222222222222222222",
    "desiredCount": 2,
    "pendingCount": 2,
    "runningCount": 0,
    "status": "ACTIVE",
    "trafficWeight": 0.0,
    "targetGroup": {"name": "shop-green"},
    "taskSetLabel": "Green",
}


# ---------------------------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def region() -> str:
    return TEST_REGION


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any, region: str) -> None:
    """Fake credentials only, and no shared config: nothing here may ever reach real AWS."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_CODEDEPLOY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_SECURITY_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    monkeypatch.setenv("AWS_REGION", region)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))


@pytest.fixture(scope="module")
def standin_server() -> Iterator[StandInServer]:
    with StandInServer(region_name=TEST_REGION) as server:
        yield server


def _moto_reset(endpoint_url: str) -> None:
    requests.post(f"{endpoint_url}/moto-api/reset", timeout=10).raise_for_status()


@dataclass
class Harness:
    """One way of running the stand-in: a control object plus how boto3 reaches CodeDeploy."""

    mode: str
    control: StandIn | StandInAdmin
    region: str
    endpoint_url: str | None = None

    def client(self, max_attempts: int = 0) -> Any:
        # botocore's legacy-named "max_attempts" counts *retries* (total = max_attempts + 1).
        config = Config(retries={"mode": "standard", "max_attempts": max_attempts})
        return boto3.client("codedeploy", region_name=self.region, endpoint_url=self.endpoint_url, config=config)


@pytest.fixture(params=["in-process", "server"])
def harness(request: pytest.FixtureRequest, region: str) -> Iterator[Harness]:
    if request.param == "in-process":
        with mock_aws():
            yield Harness("in-process", StandIn(region), region)
    else:
        server: StandInServer = request.getfixturevalue("standin_server")
        _moto_reset(server.endpoint_url)
        admin = server.admin(region)
        try:
            yield Harness("server", admin, region, server.endpoint_url)
        finally:
            admin.close()
            _moto_reset(server.endpoint_url)


@pytest.fixture
def deployment(harness: Harness) -> str:
    return harness.control.create_ecs_deployment(
        application_name="shop", deployment_group_name="shop-dg", cluster_name=CLUSTER, service_name=SERVICE
    )


def _error(exc_info: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = exc_info.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


# ---------------------------------------------------------------------------------------------
# PutLifecycleEventHookExecutionStatus
# ---------------------------------------------------------------------------------------------
def test_put_status_is_accepted_and_recorded(harness: Harness, deployment: str) -> None:
    execution_id = harness.control.register_hook_execution(deployment, "AfterAllowTestTraffic")

    answer = harness.client().put_lifecycle_event_hook_execution_status(
        deploymentId=deployment, lifecycleEventHookExecutionId=execution_id, status="Succeeded"
    )

    assert answer["lifecycleEventHookExecutionId"] == execution_id
    [record] = harness.control.statuses()
    assert (record.deployment_id, record.execution_id) == (deployment, execution_id)
    assert (record.lifecycle_event_name, record.status) == ("AfterAllowTestTraffic", "Succeeded")
    assert record.time.tzinfo is not None
    [call] = harness.control.report_calls()
    assert call.accepted and call.error_code is None and call.status == "Succeeded"
    assert harness.control.statuses(deployment_id="d-OTHER0000") == []


def test_second_report_is_rejected_and_first_is_kept(harness: Harness, deployment: str) -> None:
    client = harness.client()
    execution_id = harness.control.register_hook_execution(deployment, "BeforeAllowTraffic")
    client.put_lifecycle_event_hook_execution_status(
        deploymentId=deployment, lifecycleEventHookExecutionId=execution_id, status="Failed"
    )

    with pytest.raises(ClientError) as exc_info:
        client.put_lifecycle_event_hook_execution_status(
            deploymentId=deployment, lifecycleEventHookExecutionId=execution_id, status="Succeeded"
        )

    assert _error(exc_info) == ("LifecycleEventAlreadyCompletedException", 400)
    assert [(r.status, r.execution_id) for r in harness.control.statuses()] == [("Failed", execution_id)]
    assert [(c.status, c.error_code) for c in harness.control.report_calls()] == [
        ("Failed", None),
        ("Succeeded", "LifecycleEventAlreadyCompletedException"),
    ]
    target = client.get_deployment_target(deploymentId=deployment, targetId=TARGET_ID)["deploymentTarget"]
    events = {e["lifecycleEventName"]: e for e in target["ecsTarget"]["lifecycleEvents"]}
    assert events["BeforeAllowTraffic"]["status"] == "Failed"


@pytest.mark.parametrize(
    ("case", "expected_code"),
    [
        ("malformed-deployment-id", "InvalidDeploymentIdException"),
        ("lowercase-deployment-id", "InvalidDeploymentIdException"),
        ("unknown-deployment", "DeploymentDoesNotExistException"),
        ("status-in-progress", "InvalidLifecycleEventHookExecutionStatusException"),
        ("status-bogus", "InvalidLifecycleEventHookExecutionStatusException"),
        ("unregistered-execution", "InvalidLifecycleEventHookExecutionIdException"),
        ("execution-of-other-deployment", "InvalidLifecycleEventHookExecutionIdException"),
    ],
)
def test_put_status_validation_errors(harness: Harness, deployment: str, case: str, expected_code: str) -> None:
    execution_id = harness.control.register_hook_execution(deployment, "AfterInstall")
    other = harness.control.create_ecs_deployment(application_name="shop", deployment_group_name="shop-dg")
    other_execution = harness.control.register_hook_execution(other, "AfterInstall")
    request = {
        "deploymentId": deployment,
        "lifecycleEventHookExecutionId": execution_id,
        "status": "Succeeded",
    }
    overrides: dict[str, dict[str, str]] = {
        "malformed-deployment-id": {"deploymentId": "12345678-aaaa-bbbb-cccc-1234567890ab"},
        "lowercase-deployment-id": {"deploymentId": "d-example11"},
        "unknown-deployment": {"deploymentId": "d-NOSUCH000"},
        "status-in-progress": {"status": "InProgress"},
        "status-bogus": {"status": "Bogus"},
        "unregistered-execution": {"lifecycleEventHookExecutionId": "not-a-registered-execution"},
        "execution-of-other-deployment": {"lifecycleEventHookExecutionId": other_execution},
    }
    request.update(overrides[case])

    with pytest.raises(ClientError) as exc_info:
        harness.client().put_lifecycle_event_hook_execution_status(**request)

    assert _error(exc_info) == (expected_code, 400)
    assert harness.control.statuses() == []
    [call] = harness.control.report_calls()
    assert call.error_code == expected_code and not call.accepted
    assert call.deployment_id == request["deploymentId"]


def test_put_status_is_unsupported_for_server_deployments(harness: Harness) -> None:
    client = harness.client()
    client.create_application(applicationName="legacy", computePlatform="Server")
    client.create_deployment_group(
        applicationName="legacy",
        deploymentGroupName="legacy-dg",
        serviceRoleArn="arn:aws:iam::123456789012:role/cd",
    )
    deployment_id = client.create_deployment(
        applicationName="legacy",
        deploymentGroupName="legacy-dg",
        revision={"revisionType": "S3", "s3Location": {"bucket": "b", "key": "k", "bundleType": "zip"}},
    )["deploymentId"]
    execution_id = harness.control.register_hook_execution(deployment_id, "AfterInstall")

    with pytest.raises(ClientError) as exc_info:
        client.put_lifecycle_event_hook_execution_status(
            deploymentId=deployment_id, lifecycleEventHookExecutionId=execution_id, status="Succeeded"
        )

    assert _error(exc_info) == ("UnsupportedActionForDeploymentTypeException", 400)


# ---------------------------------------------------------------------------------------------
# fault injection
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("error_code", "http_status"), [("ThrottlingException", 400), ("InternalFailure", 500)])
def test_one_retryable_fault_then_success_records_exactly_one_status(
    harness: Harness, deployment: str, error_code: str, http_status: int
) -> None:
    execution_id = harness.control.register_hook_execution(deployment, "AfterAllowTraffic")
    harness.control.inject_fault(error_code=error_code, http_status=http_status, times=1)
    assert [(f.error_code, f.remaining) for f in harness.control.faults()] == [(error_code, 1)]

    answer = harness.client(max_attempts=3).put_lifecycle_event_hook_execution_status(
        deploymentId=deployment, lifecycleEventHookExecutionId=execution_id, status="Succeeded"
    )

    assert answer["ResponseMetadata"]["RetryAttempts"] == 1
    assert [r.status for r in harness.control.statuses()] == ["Succeeded"]
    assert [c.error_code for c in harness.control.report_calls()] == [error_code, None]
    assert harness.control.faults() == []


def test_fault_without_retries_reaches_the_caller(harness: Harness, deployment: str) -> None:
    execution_id = harness.control.register_hook_execution(deployment, "BeforeInstall")
    harness.control.inject_fault(error_code="InternalFailure", http_status=500, times=1)

    with pytest.raises(ClientError) as exc_info:
        harness.client(max_attempts=0).put_lifecycle_event_hook_execution_status(
            deploymentId=deployment, lifecycleEventHookExecutionId=execution_id, status="Succeeded"
        )

    assert _error(exc_info) == ("InternalFailure", 500)
    assert harness.control.statuses() == []


def test_fault_on_another_operation_counts_down(harness: Harness, deployment: str) -> None:
    client = harness.client(max_attempts=0)
    harness.control.inject_fault(operation="ListDeploymentTargets", error_code="AccessDeniedException", times=2)

    for _ in range(2):
        with pytest.raises(ClientError) as exc_info:
            client.list_deployment_targets(deploymentId=deployment)
        assert _error(exc_info) == ("AccessDeniedException", 400)

    assert client.list_deployment_targets(deploymentId=deployment)["targetIds"] == [TARGET_ID]
    assert harness.control.report_calls() == []


def test_fault_arguments_are_validated(harness: Harness) -> None:
    with pytest.raises(StandInError, match="not a CodeDeploy operation"):
        harness.control.inject_fault(operation="PutLifecycleStatus")
    with pytest.raises(StandInError, match="400-599"):
        harness.control.inject_fault(http_status=200)
    harness.control.inject_fault(times=3)
    harness.control.clear_faults()
    assert harness.control.faults() == []


# ---------------------------------------------------------------------------------------------
# deployment targets
# ---------------------------------------------------------------------------------------------
def test_targets_list_get_and_batch_report_task_sets(harness: Harness, deployment: str) -> None:
    client = harness.client()
    harness.control.set_task_sets(deployment, [BLUE, GREEN])

    assert client.list_deployment_targets(deploymentId=deployment)["targetIds"] == [TARGET_ID]
    target = client.get_deployment_target(deploymentId=deployment, targetId=TARGET_ID)["deploymentTarget"]
    [batched] = client.batch_get_deployment_targets(deploymentId=deployment, targetIds=[TARGET_ID])["deploymentTargets"]

    assert batched == target
    assert target["deploymentTargetType"] == "ECSTarget"
    ecs = target["ecsTarget"]
    assert (ecs["deploymentId"], ecs["targetId"], ecs["status"]) == (deployment, TARGET_ID, "InProgress")
    assert ecs["targetArn"] == f"arn:aws:ecs:{harness.region}:123456789012:service/{CLUSTER}/{SERVICE}"
    assert ecs["lastUpdatedAt"].tzinfo is not None
    assert [e["lifecycleEventName"] for e in ecs["lifecycleEvents"]] == list(ECS_LIFECYCLE_EVENTS)
    assert {e["status"] for e in ecs["lifecycleEvents"]} == {"Pending"}
    assert ecs["taskSetsInfo"] == [BLUE, GREEN]


def test_replacement_counts_rise_when_the_owner_sets_them(harness: Harness, deployment: str) -> None:
    client = harness.client()
    harness.control.set_task_sets(deployment, [BLUE, GREEN])
    grown = TaskSet.from_mapping({**GREEN, "pendingCount": 0, "runningCount": 2, "taskSetLabel": "GREEN"})
    harness.control.set_task_sets(deployment, [BLUE, grown])

    ecs = client.get_deployment_target(deploymentId=deployment, targetId=TARGET_ID)["deploymentTarget"]["ecsTarget"]

    green = next(ts for ts in ecs["taskSetsInfo"] if ts["taskSetLabel"] == "Green")
    assert (green["runningCount"], green["pendingCount"], green["desiredCount"]) == (2, 0, 2)


def test_lifecycle_events_follow_hook_reports(harness: Harness, deployment: str) -> None:
    client = harness.client()
    execution_id = harness.control.register_hook_execution(deployment, "AfterInstall")
    harness.control.set_lifecycle_event_status(deployment, "Install", "Succeeded")

    def events() -> dict[str, dict[str, Any]]:
        target = client.get_deployment_target(deploymentId=deployment, targetId=TARGET_ID)["deploymentTarget"]
        return {e["lifecycleEventName"]: e for e in target["ecsTarget"]["lifecycleEvents"]}

    running = events()
    assert running["AfterInstall"]["status"] == "InProgress" and "endTime" not in running["AfterInstall"]
    assert running["Install"]["status"] == "Succeeded"
    assert running["BeforeAllowTraffic"]["status"] == "Pending"

    client.put_lifecycle_event_hook_execution_status(
        deploymentId=deployment, lifecycleEventHookExecutionId=execution_id, status="Succeeded"
    )

    done = events()["AfterInstall"]
    assert done["status"] == "Succeeded"
    assert done["startTime"] <= done["endTime"]


def test_target_status_and_filter(harness: Harness, deployment: str) -> None:
    client = harness.client()
    succeeded_only = {"TargetStatus": ["Succeeded"]}
    assert client.list_deployment_targets(deploymentId=deployment, targetFilters=succeeded_only)["targetIds"] == []

    harness.control.set_target_status(deployment, "Succeeded")

    assert client.list_deployment_targets(deploymentId=deployment, targetFilters=succeeded_only)["targetIds"] == [
        TARGET_ID
    ]
    target = client.get_deployment_target(deploymentId=deployment, targetId=TARGET_ID)["deploymentTarget"]
    assert target["ecsTarget"]["status"] == "Succeeded"


@pytest.mark.parametrize(
    ("call", "expected_code"),
    [
        ("get-unknown-target", "DeploymentTargetDoesNotExistException"),
        ("batch-unknown-target", "DeploymentTargetDoesNotExistException"),
        ("batch-too-many", "DeploymentTargetListSizeExceededException"),
        ("list-malformed-id", "InvalidDeploymentIdException"),
        ("list-unknown-deployment", "DeploymentDoesNotExistException"),
        ("get-unknown-deployment", "DeploymentDoesNotExistException"),
        ("list-bad-filter", "InvalidTargetFilterNameException"),
    ],
)
def test_target_errors(harness: Harness, deployment: str, call: str, expected_code: str) -> None:
    client = harness.client()
    calls = {
        "get-unknown-target": lambda: client.get_deployment_target(deploymentId=deployment, targetId="c:other"),
        "batch-unknown-target": lambda: client.batch_get_deployment_targets(
            deploymentId=deployment, targetIds=[TARGET_ID, "c:other"]
        ),
        "batch-too-many": lambda: client.batch_get_deployment_targets(
            deploymentId=deployment, targetIds=[f"c:s{i}" for i in range(26)]
        ),
        "list-malformed-id": lambda: client.list_deployment_targets(deploymentId="deployment-1"),
        "list-unknown-deployment": lambda: client.list_deployment_targets(deploymentId="d-NOSUCH000"),
        "get-unknown-deployment": lambda: client.get_deployment_target(deploymentId="d-NOSUCH000", targetId="a:b"),
        "list-bad-filter": lambda: client.list_deployment_targets(
            deploymentId=deployment, targetFilters={"Colour": ["Blue"]}
        ),
    }

    with pytest.raises(ClientError) as exc_info:
        calls[call]()

    assert _error(exc_info) == (expected_code, 400)


# ---------------------------------------------------------------------------------------------
# deployment groups and deployments through boto3
# ---------------------------------------------------------------------------------------------
ALARMS = {
    "enabled": True,
    "ignorePollAlarmFailure": False,
    "alarms": [{"name": "shop-5xx"}, {"name": "shop-p95"}],
}


def _create_ecs_group(client: Any, alarm_configuration: dict[str, Any] | None = None) -> None:
    client.create_application(applicationName="shop", computePlatform="ECS")
    extra = {"alarmConfiguration": alarm_configuration} if alarm_configuration else {}
    client.create_deployment_group(
        applicationName="shop",
        deploymentGroupName="shop-dg",
        serviceRoleArn="arn:aws:iam::123456789012:role/cd",
        deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        ecsServices=[{"serviceName": SERVICE, "clusterName": CLUSTER}],
        **extra,
    )


def test_alarm_configuration_round_trip(harness: Harness) -> None:
    client = harness.client()
    _create_ecs_group(client, ALARMS)

    got = client.get_deployment_group(applicationName="shop", deploymentGroupName="shop-dg")
    assert got["deploymentGroupInfo"]["alarmConfiguration"] == ALARMS

    changed = {"enabled": False, "ignorePollAlarmFailure": True, "alarms": [{"name": "shop-latency"}]}
    answer = client.update_deployment_group(
        applicationName="shop", currentDeploymentGroupName="shop-dg", alarmConfiguration=changed
    )
    assert answer["hooksNotCleanedUp"] == []

    batch = client.batch_get_deployment_groups(applicationName="shop", deploymentGroupNames=["shop-dg", "gone"])
    [info] = batch["deploymentGroupsInfo"]
    assert info["alarmConfiguration"] == changed
    assert info["ecsServices"] == [{"serviceName": SERVICE, "clusterName": CLUSTER}]
    assert "gone" in batch["errorMessage"]


def test_group_without_alarms_reports_them_disabled(harness: Harness) -> None:
    client = harness.client()
    _create_ecs_group(client)

    info = client.get_deployment_group(applicationName="shop", deploymentGroupName="shop-dg")["deploymentGroupInfo"]

    assert info["alarmConfiguration"] == {"enabled": False, "ignorePollAlarmFailure": False, "alarms": []}


def test_boto3_created_deployment_gets_a_real_shaped_id_and_targets(harness: Harness) -> None:
    client = harness.client()
    _create_ecs_group(client)

    deployment_id = client.create_deployment(
        applicationName="shop",
        deploymentGroupName="shop-dg",
        revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": "{}"}},
    )["deploymentId"]

    assert DEPLOYMENT_ID_RE.match(deployment_id)
    assert client.get_deployment(deploymentId=deployment_id)["deploymentInfo"]["deploymentId"] == deployment_id
    assert client.list_deployment_targets(deploymentId=deployment_id)["targetIds"] == [TARGET_ID]
    execution_id = harness.control.register_hook_execution(deployment_id, "BeforeInstall")
    client.put_lifecycle_event_hook_execution_status(
        deploymentId=deployment_id, lifecycleEventHookExecutionId=execution_id, status="Succeeded"
    )
    assert [r.lifecycle_event_name for r in harness.control.statuses(deployment_id)] == ["BeforeInstall"]


# ---------------------------------------------------------------------------------------------
# seeding fixed ids
# ---------------------------------------------------------------------------------------------
def test_seed_with_fixed_ids_from_a_sample_event(harness: Harness) -> None:
    client = harness.client()
    sample_execution = "eyJlbmNyeXB0ZWREYXRhIjoiRVhBTVBMRSJ9"  # what events/*.json would carry

    deployment_id = harness.control.create_ecs_deployment(
        deployment_id=FIXED_ID, cluster_name=CLUSTER, service_name=SERVICE, task_sets=[BLUE]
    )
    execution_id = harness.control.register_hook_execution(FIXED_ID, "AfterAllowTestTraffic", sample_execution)

    assert (deployment_id, execution_id) == (FIXED_ID, sample_execution)
    assert harness.control.register_hook_execution(FIXED_ID, "AfterAllowTestTraffic", sample_execution) == (
        sample_execution
    )
    with pytest.raises(StandInError, match="already registered"):
        harness.control.register_hook_execution(FIXED_ID, "BeforeAllowTraffic", sample_execution)
    client.put_lifecycle_event_hook_execution_status(
        deploymentId=FIXED_ID, lifecycleEventHookExecutionId=sample_execution, status="Succeeded"
    )
    assert [(r.deployment_id, r.execution_id) for r in harness.control.statuses()] == [(FIXED_ID, sample_execution)]


def test_rename_moves_the_deployment_and_its_executions(harness: Harness, deployment: str) -> None:
    client = harness.client()
    execution_id = harness.control.register_hook_execution(deployment, "AfterInstall")
    harness.control.set_task_sets(deployment, [GREEN])

    harness.control.rename_deployment(deployment, FIXED_ID)

    with pytest.raises(ClientError) as exc_info:
        client.get_deployment(deploymentId=deployment)
    assert _error(exc_info)[0] == "DeploymentDoesNotExistException"
    assert client.get_deployment(deploymentId=FIXED_ID)["deploymentInfo"]["deploymentId"] == FIXED_ID
    client.put_lifecycle_event_hook_execution_status(
        deploymentId=FIXED_ID, lifecycleEventHookExecutionId=execution_id, status="Succeeded"
    )
    assert [r.deployment_id for r in harness.control.statuses()] == [FIXED_ID]
    target = client.get_deployment_target(deploymentId=FIXED_ID, targetId=TARGET_ID)["deploymentTarget"]
    assert target["ecsTarget"]["taskSetsInfo"] == [GREEN]


@pytest.mark.parametrize("bad_id", ["d-short", "d-lowercase", "deployment-123"])
def test_rename_rejects_ids_the_service_would_reject(harness: Harness, deployment: str, bad_id: str) -> None:
    with pytest.raises(StandInError, match="must match"):
        harness.control.rename_deployment(deployment, bad_id)


def test_control_api_rejects_unknown_deployments_and_events(harness: Harness, deployment: str) -> None:
    with pytest.raises(StandInError, match="does not exist"):
        harness.control.register_hook_execution("d-NOSUCH000", "AfterInstall")
    with pytest.raises(StandInError, match="not one of"):
        harness.control.register_hook_execution(deployment, "Install")
    with pytest.raises(StandInError, match="not one of"):
        harness.control.set_target_status(deployment, "Done")


# ---------------------------------------------------------------------------------------------
# reset
# ---------------------------------------------------------------------------------------------
def test_reset_clears_moto_data_and_extension_state(harness: Harness, deployment: str) -> None:
    client = harness.client()
    execution_id = harness.control.register_hook_execution(deployment, "AfterInstall")
    client.put_lifecycle_event_hook_execution_status(
        deploymentId=deployment, lifecycleEventHookExecutionId=execution_id, status="Succeeded"
    )
    harness.control.inject_fault(times=5)

    harness.control.reset()

    assert harness.control.statuses() == []
    assert harness.control.report_calls() == []
    assert harness.control.faults() == []
    assert client.list_applications()["applications"] == []
    with pytest.raises(ClientError) as exc_info:
        client.get_deployment(deploymentId=deployment)
    assert _error(exc_info)[0] == "DeploymentDoesNotExistException"


def test_moto_api_reset_also_clears_extension_state(standin_server: StandInServer, region: str) -> None:
    admin = standin_server.admin(region)
    deployment_id = admin.create_ecs_deployment(deployment_id=FIXED_ID)
    admin.register_hook_execution(deployment_id, "AfterInstall")
    admin.inject_fault(times=2)

    _moto_reset(standin_server.endpoint_url)

    assert admin.faults() == []
    with pytest.raises(StandInAdminError, match="does not exist"):
        admin.register_hook_execution(deployment_id, "AfterInstall")


def test_state_does_not_survive_a_new_mock_session(region: str) -> None:
    with mock_aws():
        stand_in = StandIn(region)
        deployment_id = stand_in.create_ecs_deployment(deployment_id=FIXED_ID)
        stand_in.register_hook_execution(deployment_id, "AfterInstall")
        stand_in.inject_fault()
    with mock_aws():
        assert stand_in.faults() == []
        assert FIXED_ID not in stand_in.backend.deployments
        assert stand_in.create_ecs_deployment(deployment_id=FIXED_ID) == FIXED_ID


def test_install_is_idempotent() -> None:
    install()
    method = CodeDeployBackend.put_lifecycle_event_hook_execution_status
    call_action = CodeDeployResponse.call_action
    install()

    assert is_installed()
    assert CodeDeployBackend.put_lifecycle_event_hook_execution_status is method
    assert CodeDeployResponse.call_action is call_action


# ---------------------------------------------------------------------------------------------
# admin HTTP surface and the standalone process
# ---------------------------------------------------------------------------------------------
def test_admin_http_errors(standin_server: StandInServer, region: str) -> None:
    base = f"{standin_server.endpoint_url}/_trafficgate"

    not_found = requests.get(f"{base}/nothing-here", timeout=10)
    wrong_method = requests.get(f"{base}/reset", timeout=10)
    bad_json = requests.post(f"{base}/faults", data="{not json", timeout=10)
    missing_field = requests.post(f"{base}/hook-executions", json={"deploymentId": FIXED_ID}, timeout=10)

    assert (not_found.status_code, not_found.json()["error"]) == (404, "NotFound")
    assert (wrong_method.status_code, wrong_method.json()["error"]) == (405, "MethodNotAllowed")
    assert (bad_json.status_code, bad_json.json()["error"]) == (400, "BadRequest")
    assert missing_field.status_code == 400
    assert "lifecycleEventName" in missing_field.json()["message"]
    assert requests.get(f"{base}/health", timeout=10).json()["region"] == region


def test_server_refuses_non_loopback_hosts() -> None:
    with pytest.raises(StandInError, match="loopback"):
        StandInServer(host="0.0.0.0")


def test_standalone_server_process_driven_over_http(region: str) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "trafficgate_local.standin", "--port", "0", "--region", region],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # printed once the port is bound
        match = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert match, f"unexpected banner: {line!r}"
        endpoint_url = match.group(0)
        admin = StandInAdmin(endpoint_url, region_name=region)
        client = boto3.client(
            "codedeploy",
            region_name=region,
            endpoint_url=endpoint_url,
            config=Config(retries={"mode": "standard", "max_attempts": 3}),
        )

        deployment_id = admin.create_ecs_deployment(deployment_id=FIXED_ID, task_sets=[BLUE, GREEN])
        execution_id = admin.register_hook_execution(deployment_id, "AfterAllowTestTraffic")
        admin.inject_fault()
        client.put_lifecycle_event_hook_execution_status(
            deploymentId=deployment_id, lifecycleEventHookExecutionId=execution_id, status="Succeeded"
        )

        assert [r.status for r in admin.statuses()] == ["Succeeded"]
        assert [c.error_code for c in admin.report_calls()] == ["ThrottlingException", None]
        admin.reset_moto()
        assert admin.statuses() == []
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.returncode == 0


def test_standalone_server_refuses_public_bind() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "trafficgate_local.standin", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "loopback" in result.stderr


def test_every_sample_event_can_be_seeded(harness: Harness) -> None:
    client = harness.client()
    names = sorted(path.stem for path in EVENTS.glob("*.json"))
    assert names, "events/ holds the sample events"
    samples = {Hook.parse(name): load_event(name) for name in names}
    deployment_ids = {event["DeploymentId"] for event in samples.values()}
    assert len(deployment_ids) == 1
    [deployment_id] = deployment_ids
    harness.control.create_ecs_deployment(deployment_id=deployment_id, cluster_name=CLUSTER, service_name=SERVICE)

    for hook, event in samples.items():
        registered = harness.control.register_hook_execution(
            deployment_id, hook.value, event["LifecycleEventHookExecutionId"]
        )
        client.put_lifecycle_event_hook_execution_status(
            deploymentId=deployment_id, lifecycleEventHookExecutionId=registered, status="Succeeded"
        )

    assert sorted(r.lifecycle_event_name for r in harness.control.statuses(deployment_id)) == sorted(
        hook.value for hook in samples
    )


# ---------------------------------------------------------------------------------------------
# lifecycle events: one in progress at a time, in CodeDeploy's order
# ---------------------------------------------------------------------------------------------
def _target(client: Any, deployment_id: str) -> dict[str, Any]:
    answer = client.get_deployment_target(deploymentId=deployment_id, targetId=TARGET_ID)
    assert_fits("codedeploy", "GetDeploymentTarget", answer)
    target: dict[str, Any] = answer["deploymentTarget"]["ecsTarget"]
    return target


def _statuses(client: Any, deployment_id: str) -> list[str]:
    return [e["status"] for e in _target(client, deployment_id)["lifecycleEvents"]]


def _assert_in_order(events: list[dict[str, Any]], current: str) -> None:
    """``current`` is the one event in progress; those before it succeeded, those after it wait."""
    position = ECS_LIFECYCLE_EVENTS.index(current)
    assert [e["lifecycleEventName"] for e in events] == list(ECS_LIFECYCLE_EVENTS)
    expected = ["Succeeded"] * position + ["InProgress"] + ["Pending"] * (len(ECS_LIFECYCLE_EVENTS) - position - 1)
    assert [e["status"] for e in events] == expected
    for event in events:
        # Times only once they happened: a start from InProgress on, an end once it ended; never null.
        assert ("startTime" in event) == (event["status"] != "Pending"), event
        assert ("endTime" in event) == (event["status"] == "Succeeded"), event
        assert "diagnostics" not in event  # ECS hooks have no diagnostics


def test_registering_a_hook_moves_the_deployment_to_its_event(harness: Harness, deployment: str) -> None:
    client = harness.client()
    info = client.get_deployment(deploymentId=deployment)["deploymentInfo"]
    assert info["status"] == "Created" and "startTime" not in info
    assert set(_statuses(client, deployment)) == {"Pending"}

    execution_id = harness.control.register_hook_execution(deployment, "AfterInstall")

    _assert_in_order(_target(client, deployment)["lifecycleEvents"], "AfterInstall")
    info = client.get_deployment(deploymentId=deployment)["deploymentInfo"]
    assert info["status"] == "InProgress" and info["startTime"] >= info["createTime"]
    assert "completeTime" not in info

    client.put_lifecycle_event_hook_execution_status(
        deploymentId=deployment, lifecycleEventHookExecutionId=execution_id, status="Succeeded"
    )
    assert "InProgress" not in _statuses(client, deployment)  # until CodeDeploy moves on
    harness.control.set_lifecycle_event_status(deployment, "AllowTestTraffic", "InProgress")
    _assert_in_order(_target(client, deployment)["lifecycleEvents"], "AllowTestTraffic")
    harness.control.register_hook_execution(deployment, "AfterAllowTraffic")
    _assert_in_order(_target(client, deployment)["lifecycleEvents"], "AfterAllowTraffic")


@pytest.mark.parametrize(
    "sequence",
    [
        ["BeforeInstall", "AfterInstall", "AfterAllowTestTraffic", "BeforeAllowTraffic", "AfterAllowTraffic"],
        ["AfterAllowTraffic", "BeforeInstall", "AfterAllowTestTraffic", "AfterInstall"],  # backwards too
    ],
)
def test_exactly_one_event_is_in_progress_whatever_is_registered(
    harness: Harness, deployment: str, sequence: list[str]
) -> None:
    client = harness.client()
    for event in sequence:
        harness.control.register_hook_execution(deployment, event)
        statuses = _statuses(client, deployment)
        assert statuses.count("InProgress") == 1, (event, statuses)
        _assert_in_order(_target(client, deployment)["lifecycleEvents"], event)


def test_a_failed_hook_ends_its_event_and_nothing_moves_on(harness: Harness, deployment: str) -> None:
    client = harness.client()
    execution_id = harness.control.register_hook_execution(deployment, "AfterAllowTestTraffic")
    client.put_lifecycle_event_hook_execution_status(
        deploymentId=deployment, lifecycleEventHookExecutionId=execution_id, status="Failed"
    )
    events = _target(client, deployment)["lifecycleEvents"]
    assert [e["status"] for e in events] == ["Succeeded"] * 4 + ["Failed"] + ["Pending"] * 3
    assert events[4]["startTime"] <= events[4]["endTime"]


def test_a_hook_registered_ahead_of_time_leaves_the_lifecycle_alone(harness: Harness, deployment: str) -> None:
    # How sample events are seeded: all five at once, each invoked later in any order.
    client = harness.client()
    executions = {
        event: harness.control.register_hook_execution(deployment, event, start_event=False)
        for event in ("AfterInstall", "BeforeInstall")
    }
    assert set(_statuses(client, deployment)) == {"Pending"}
    assert client.get_deployment(deploymentId=deployment)["deploymentInfo"]["status"] == "Created"

    client.put_lifecycle_event_hook_execution_status(
        deploymentId=deployment, lifecycleEventHookExecutionId=executions["AfterInstall"], status="Succeeded"
    )
    statuses = dict(zip(ECS_LIFECYCLE_EVENTS, _statuses(client, deployment), strict=True))
    assert statuses["AfterInstall"] == "Succeeded"
    assert {s for name, s in statuses.items() if name != "AfterInstall"} == {"Pending"}


def test_deployment_status_and_its_complete_time(harness: Harness, deployment: str) -> None:
    client = harness.client()
    harness.control.register_hook_execution(deployment, "BeforeInstall")

    harness.control.set_deployment_status(deployment, "Failed")

    info = client.get_deployment(deploymentId=deployment)["deploymentInfo"]
    assert info["status"] == "Failed"
    assert info["createTime"] <= info["startTime"] <= info["completeTime"]
    with pytest.raises(StandInError, match="deployment status 'Done' is not one of Created, Queued"):
        harness.control.set_deployment_status(deployment, "Done")


def test_admin_refuses_a_start_event_that_is_not_a_boolean(standin_server: StandInServer, region: str) -> None:
    admin = standin_server.admin(region)
    deployment_id = admin.create_ecs_deployment(deployment_id=FIXED_ID)
    try:
        answer = requests.post(
            f"{standin_server.endpoint_url}/_trafficgate/hook-executions",
            json={"deploymentId": deployment_id, "lifecycleEventName": "AfterInstall", "startEvent": "no"},
            timeout=10,
        )
        assert answer.status_code == 400
        assert "'startEvent' must be true or false" in answer.json()["message"]
    finally:
        admin.reset_moto()
        admin.close()


# ---------------------------------------------------------------------------------------------
# absent members are omitted, never {} or null; every answer fits botocore's model
# ---------------------------------------------------------------------------------------------
def _empty_members(value: Any, path: str = "$") -> list[str]:
    """Paths of every ``{}``, ``""`` or ``None`` in an answer (empty lists are values, and stay)."""
    if value is None or value == {} or value == "":
        return [path]
    if isinstance(value, dict):
        return [
            p for key, item in value.items() if key != "ResponseMetadata" for p in _empty_members(item, f"{path}.{key}")
        ]
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in _empty_members(item, f"{path}[{i}]")]
    return []


def test_absent_members_are_omitted_and_every_answer_fits_the_model(harness: Harness) -> None:
    client = harness.client()
    _create_ecs_group(client)  # no deploymentConfigName, no load balancer, no rollback configuration
    deployment_id = client.create_deployment(
        applicationName="shop",
        deploymentGroupName="shop-dg",
        revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": '{"version": 0.0}'}},
    )["deploymentId"]
    harness.control.set_task_sets(deployment_id, [BLUE, GREEN])
    harness.control.register_hook_execution(deployment_id, "AfterInstall")

    answers = {
        "GetDeployment": client.get_deployment(deploymentId=deployment_id),
        "BatchGetDeployments": client.batch_get_deployments(deploymentIds=[deployment_id]),
        "GetDeploymentGroup": client.get_deployment_group(applicationName="shop", deploymentGroupName="shop-dg"),
        "BatchGetDeploymentGroups": client.batch_get_deployment_groups(
            applicationName="shop", deploymentGroupNames=["shop-dg"]
        ),
        "ListDeploymentTargets": client.list_deployment_targets(deploymentId=deployment_id),
        "GetDeploymentTarget": client.get_deployment_target(deploymentId=deployment_id, targetId=TARGET_ID),
        "BatchGetDeploymentTargets": client.batch_get_deployment_targets(
            deploymentId=deployment_id, targetIds=[TARGET_ID]
        ),
    }

    for operation, answer in answers.items():
        assert_fits("codedeploy", operation, answer)
        assert _empty_members(answer) == [], operation
    info = answers["GetDeployment"]["deploymentInfo"]
    assert answers["BatchGetDeployments"]["deploymentsInfo"] == [info]
    for member in ("previousRevision", "errorInformation", "rollbackInfo", "completeTime", "targetInstances"):
        assert member not in info
    assert info["deploymentConfigName"] == "CodeDeployDefault.ECSAllAtOnce"  # the group's default, not "None"
    # The service names an inline revision by its digest; its content is "always null" there.
    assert info["revision"]["appSpecContent"] == {"sha256": hashlib.sha256(b'{"version": 0.0}').hexdigest()}
    group = answers["GetDeploymentGroup"]["deploymentGroupInfo"]
    for member in ("targetRevision", "lastSuccessfulDeployment", "lastAttemptedDeployment", "loadBalancerInfo"):
        assert member not in group
    assert group["deploymentConfigName"] == "CodeDeployDefault.ECSAllAtOnce"
    assert answers["BatchGetDeploymentGroups"]["deploymentGroupsInfo"] == [group]


def test_the_empty_member_check_finds_what_it_should() -> None:
    answer = {"a": {}, "b": [{"c": None}, {"d": ""}], "e": [], "f": False, "g": {"h": 0}}
    assert _empty_members(answer) == ["$.a", "$.b[0].c", "$.b[1].d"]


# ---------------------------------------------------------------------------------------------
# GetDeploymentConfig
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "routing"),
    [
        ("CodeDeployDefault.ECSAllAtOnce", {"type": "AllAtOnce"}),
        (
            "CodeDeployDefault.ECSLinear10PercentEvery1Minutes",
            {"type": "TimeBasedLinear", "timeBasedLinear": {"linearPercentage": 10, "linearInterval": 1}},
        ),
        (
            "CodeDeployDefault.ECSLinear10PercentEvery3Minutes",
            {"type": "TimeBasedLinear", "timeBasedLinear": {"linearPercentage": 10, "linearInterval": 3}},
        ),
        (
            "CodeDeployDefault.ECSCanary10Percent5Minutes",
            {"type": "TimeBasedCanary", "timeBasedCanary": {"canaryPercentage": 10, "canaryInterval": 5}},
        ),
        (
            "CodeDeployDefault.ECSCanary10Percent15Minutes",
            {"type": "TimeBasedCanary", "timeBasedCanary": {"canaryPercentage": 10, "canaryInterval": 15}},
        ),
    ],
)
def test_get_deployment_config_for_the_predefined_ecs_configs(
    harness: Harness, name: str, routing: dict[str, Any]
) -> None:
    answer = harness.client().get_deployment_config(deploymentConfigName=name)

    assert_fits("codedeploy", "GetDeploymentConfig", answer)
    info = answer["deploymentConfigInfo"]
    assert (info["deploymentConfigName"], info["computePlatform"]) == (name, "ECS")
    assert info["trafficRoutingConfig"] == routing
    assert "minimumHealthyHosts" not in info  # EC2/On-Premises configs only
    assert re.fullmatch(r"00000000-0000-0000-0000-\d{12}", info["deploymentConfigId"])


@pytest.mark.parametrize("name", ["CodeDeployDefault.ECSCanary20Percent5Minutes", "my-config"])
def test_unknown_deployment_config_does_not_exist(harness: Harness, name: str) -> None:
    with pytest.raises(ClientError) as exc_info:
        harness.client().get_deployment_config(deploymentConfigName=name)
    assert _error(exc_info) == ("DeploymentConfigDoesNotExistException", 400)


# ---------------------------------------------------------------------------------------------
# malformed deployment ids are invalid; well-formed unknown ones do not exist
# ---------------------------------------------------------------------------------------------
MALFORMED_IDS = ["12345678-aaaa-bbbb-cccc-1234567890ab", "d-example11", "d-SHORT", "d-EXAMPLE111", "D-EXAMPLE11"]
ID_OPERATIONS = {
    "GetDeployment": lambda c, d: c.get_deployment(deploymentId=d),
    "BatchGetDeployments": lambda c, d: c.batch_get_deployments(deploymentIds=[d]),
    "ListDeploymentTargets": lambda c, d: c.list_deployment_targets(deploymentId=d),
    "GetDeploymentTarget": lambda c, d: c.get_deployment_target(deploymentId=d, targetId=TARGET_ID),
    "BatchGetDeploymentTargets": lambda c, d: c.batch_get_deployment_targets(deploymentId=d, targetIds=[TARGET_ID]),
    "PutLifecycleEventHookExecutionStatus": lambda c, d: c.put_lifecycle_event_hook_execution_status(
        deploymentId=d, lifecycleEventHookExecutionId="x", status="Succeeded"
    ),
}


@pytest.mark.parametrize("operation", sorted(ID_OPERATIONS))
def test_malformed_deployment_ids_are_invalid(harness: Harness, deployment: str, operation: str) -> None:
    client = harness.client()
    for bad_id in MALFORMED_IDS:
        with pytest.raises(ClientError) as exc_info:
            ID_OPERATIONS[operation](client, bad_id)
        assert _error(exc_info) == ("InvalidDeploymentIdException", 400), bad_id


@pytest.mark.parametrize("operation", sorted(ID_OPERATIONS))
def test_well_formed_unknown_deployment_ids_do_not_exist(harness: Harness, deployment: str, operation: str) -> None:
    client = harness.client()
    if operation == "BatchGetDeployments":  # a batch leaves out what it cannot find
        assert client.batch_get_deployments(deploymentIds=["d-NOSUCH000", deployment])["deploymentsInfo"] == [
            client.get_deployment(deploymentId=deployment)["deploymentInfo"]
        ]
        return
    with pytest.raises(ClientError) as exc_info:
        ID_OPERATIONS[operation](client, "d-NOSUCH000")
    assert _error(exc_info) == ("DeploymentDoesNotExistException", 400)
