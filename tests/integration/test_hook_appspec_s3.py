"""AppSpec revisions stored in S3 (``revisionType: S3``), through the real BeforeInstall handler.

The deployment's revision names an object in the stand-in's S3 (moto) instead of carrying the
AppSpec. BeforeInstall must read it (YAML or JSON, a given object version), only from the
buckets in ``TRAFFICGATE_APPSPEC_BUCKETS``, at most 64 KiB of it, and judge the task definition it
names. Every refusal is a Failed verdict whose reason says what to change.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.standin_env import BlueGreen, StandInEnv, aws_side_check_ids, invoke_hook
from trafficgate.config import Settings
from trafficgate.discovery.appspec import MAX_APPSPEC_BYTES
from trafficgate.hooks import Hook
from trafficgate.plan import default_plan
from trafficgate.runner import get_runner, reset_runner
from trafficgate_local.lambda_context import LocalLambdaContext

pytestmark = pytest.mark.integration

ContextFactory = Callable[..., LocalLambdaContext]
BUCKET = "acme-appspecs"
KEY = "shop/appspec.yaml"
BEFORE_INSTALL_CHECKS = [c.check_id for c in default_plan(Hook.BEFORE_INSTALL, Settings())]


def appspec_yaml(task_definition_arn: str, port: int = 8080) -> str:
    return f"""\
version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: "{task_definition_arn}"
        LoadBalancerInfo:
          ContainerName: "web"
          ContainerPort: {port}
"""


def appspec_json(task_definition_arn: str, port: int = 8080) -> str:
    service = {
        "Type": "AWS::ECS::Service",
        "Properties": {
            "TaskDefinition": task_definition_arn,
            "LoadBalancerInfo": {"ContainerName": "web", "ContainerPort": port},
        },
    }
    return json.dumps({"version": 0.0, "Resources": [{"TargetService": service}]})


@dataclass
class S3World:
    """The ``blue_green`` group, a bucket for its AppSpecs and a task definition green would run."""

    standin: StandInEnv
    world: BlueGreen
    task_definition_arn: str
    s3_calls: list[dict[str, Any]]

    def put(self, body: str | bytes, key: str = KEY) -> str | None:
        """Store an AppSpec object; its version id (None unless the bucket is versioned)."""
        answer = self.standin.client("s3").put_object(Bucket=BUCKET, Key=key, Body=body)
        version: str | None = answer.get("VersionId")
        return version

    def deploy(self, *, bucket: str = BUCKET, key: str = KEY, bundle: str = "YAML", version: str | None = None) -> str:
        location = {"bucket": bucket, "key": key, "bundleType": bundle}
        if version is not None:
            location["version"] = version
        return self.world.topology.deploy_revision(self.standin, {"revisionType": "S3", "s3Location": location})


@pytest.fixture
def s3_world(standin: StandInEnv, blue_green: BlueGreen, monkeypatch: pytest.MonkeyPatch) -> Iterator[S3World]:
    standin.client("s3").create_bucket(Bucket=BUCKET)
    arn = standin.client("ecs").register_task_definition(
        family="shop-web",
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
        containerDefinitions=[
            {
                "name": "web",
                "image": "registry.example.test/shop-web:2",  # outside ECR: the image checks skip it
                "essential": True,
                "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    monkeypatch.setenv(
        "TRAFFICGATE_DISABLED_CHECKS",
        ",".join(c for c in aws_side_check_ids().split(",") if c not in BEFORE_INSTALL_CHECKS),
    )
    monkeypatch.setenv("TRAFFICGATE_APPSPEC_BUCKETS", f"other-bucket,{BUCKET}")
    reset_runner()
    calls: list[dict[str, Any]] = []
    yield S3World(standin, blue_green, arn, calls)


def watch_s3(world: S3World) -> None:
    """Record every S3 call the hook's container makes (call after the last ``reset_runner``)."""

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        world.s3_calls.append({"operation": model.name, **params})

    get_runner().clients.client("s3").meta.events.register("before-parameter-build.s3", record)


def run_before_install(world: S3World, deployment_id: str, context: LocalLambdaContext) -> dict[str, Any]:
    watch_s3(world)
    return invoke_hook(world.standin, Hook.BEFORE_INSTALL, deployment_id, context)


def assert_failed_reading_the_appspec(summary: dict[str, Any], expected: str) -> None:
    """Failed, and every check that needs the AppSpec says why it could not have it (the first one leads)."""
    assert summary["status"] == "Failed"
    assert summary["reason"].startswith(f"ecs.task_definition: {expected}"), summary["reason"]
    needing = [c for c in summary["checks"] if c["id"] != "ecs.required_env"]  # the one that reads no AppSpec
    assert [(c["outcome"], c["reason"]) for c in needing] == [("error", expected)] * len(needing)


def recorded(world: S3World, deployment_id: str) -> list[tuple[str, str]]:
    return [(s.lifecycle_event_name, s.status) for s in world.standin.control.statuses(deployment_id)]


@pytest.mark.parametrize(("render", "bundle"), [(appspec_yaml, "YAML"), (appspec_json, "JSON")], ids=["yaml", "json"])
def test_before_install_reads_the_appspec_from_s3_and_judges_its_task_definition(
    render: Callable[[str], str], bundle: str, s3_world: S3World, lambda_context: ContextFactory
) -> None:
    key = f"shop/appspec.{bundle.lower()}"
    s3_world.put(render(s3_world.task_definition_arn), key)
    deployment_id = s3_world.deploy(key=key, bundle=bundle)

    summary = run_before_install(s3_world, deployment_id, lambda_context())

    assert summary["status"] == "Succeeded", summary["reason"]
    assert [c["id"] for c in summary["checks"]] == BEFORE_INSTALL_CHECKS
    checks = {c["id"]: c for c in summary["checks"]}
    assert checks["ecs.task_definition"]["reason"] == f"task definition {s3_world.task_definition_arn} is ACTIVE"
    assert checks["ecs.container_port"]["reason"] == "container web maps port 8080 (portMappings [8080])"
    assert [(c["operation"], c["Bucket"], c["Key"]) for c in s3_world.s3_calls] == [("GetObject", BUCKET, key)]
    assert recorded(s3_world, deployment_id) == [("BeforeInstall", "Succeeded")]


def test_the_object_version_named_by_the_revision_is_the_one_judged(
    s3_world: S3World, lambda_context: ContextFactory
) -> None:
    s3 = s3_world.standin.client("s3")
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    deployed = s3_world.put(appspec_yaml(s3_world.task_definition_arn))
    s3_world.put(appspec_yaml(s3_world.task_definition_arn, port=9090))  # a later upload, not deployed
    assert deployed is not None
    deployment_id = s3_world.deploy(version=deployed)

    summary = run_before_install(s3_world, deployment_id, lambda_context())

    assert summary["status"] == "Succeeded", summary["reason"]
    assert [c.get("VersionId") for c in s3_world.s3_calls] == [deployed]


@pytest.mark.parametrize("allowed", [None, "other-bucket"], ids=["unset", "other-bucket"])
def test_a_bucket_the_gate_may_not_read_fails_naming_the_variable_and_the_bucket(
    allowed: str | None, s3_world: S3World, monkeypatch: pytest.MonkeyPatch, lambda_context: ContextFactory
) -> None:
    if allowed is None:
        monkeypatch.delenv("TRAFFICGATE_APPSPEC_BUCKETS")
    else:
        monkeypatch.setenv("TRAFFICGATE_APPSPEC_BUCKETS", allowed)
    reset_runner()
    s3_world.put(appspec_yaml(s3_world.task_definition_arn))
    deployment_id = s3_world.deploy()

    summary = run_before_install(s3_world, deployment_id, lambda_context())

    expected = (
        f"the AppSpec of {deployment_id} is in s3://{BUCKET}/{KEY}, and bucket {BUCKET} is not one the gate may "
        f"read (TRAFFICGATE_APPSPEC_BUCKETS allows: {allowed or 'none'})"
    )
    assert_failed_reading_the_appspec(summary, expected)
    assert s3_world.s3_calls == []  # not even tried
    assert recorded(s3_world, deployment_id) == [("BeforeInstall", "Failed")]


def padded(size: int, task_definition_arn: str) -> bytes:
    """A valid YAML AppSpec of exactly ``size`` bytes (a comment fills it up)."""
    body = appspec_yaml(task_definition_arn).encode() + b"# "
    return body + b"x" * (size - len(body))


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("missing", "could not read the AppSpec s3://{bucket}/{key} of {deployment}: AWS error NoSuchKey"),
        ("too-large", "the AppSpec s3://{bucket}/{key} of {deployment} is larger than 65536 bytes"),
        ("zip", "the S3 revision s3://{bucket}/{key} of {deployment} is a ZIP bundle; an ECS AppSpec is YAML or JSON"),
        ("not-an-appspec", "AppSpec of {deployment} has no AWS::ECS::Service resource"),
    ],
)
def test_an_unusable_object_fails_with_a_clear_reason(
    case: str, reason: str, s3_world: S3World, lambda_context: ContextFactory
) -> None:
    if case == "too-large":
        s3_world.put(padded(MAX_APPSPEC_BYTES + 1, s3_world.task_definition_arn))
    elif case == "not-an-appspec":
        s3_world.put("version: 0.0\nResources: []\n")
    elif case == "zip":
        s3_world.put(b"PK\x03\x04 not an AppSpec")
    deployment_id = s3_world.deploy(bundle="zip" if case == "zip" else "YAML")

    summary = run_before_install(s3_world, deployment_id, lambda_context())

    assert_failed_reading_the_appspec(summary, reason.format(bucket=BUCKET, key=KEY, deployment=deployment_id))
    assert recorded(s3_world, deployment_id) == [("BeforeInstall", "Failed")]
    # Every BeforeInstall check fails on the same discovery, which asked S3 once (a ZIP bundle not at
    # all), not once per check.
    assert len(summary["checks"]) > 1
    assert [c["operation"] for c in s3_world.s3_calls] == ([] if case == "zip" else ["GetObject"])


def test_an_appspec_of_exactly_the_limit_is_read(s3_world: S3World, lambda_context: ContextFactory) -> None:
    s3_world.put(padded(MAX_APPSPEC_BYTES, s3_world.task_definition_arn))
    deployment_id = s3_world.deploy()

    summary = run_before_install(s3_world, deployment_id, lambda_context())

    assert summary["status"] == "Succeeded", summary["reason"]
