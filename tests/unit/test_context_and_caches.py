"""The check context's per-invocation resources, discovery's paging, the caches a new container
forgets, and the verdict's EMF blobs: one home each, nothing that outlives its invocation."""

from __future__ import annotations

import io
import json
import time
import warnings
from contextlib import redirect_stdout
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tests.support.fakes import FakeReporter, FixedContext
from trafficgate.aws import AwsClients
from trafficgate.checks.base import Check, CheckError, CheckResult, Policy
from trafficgate.config import Settings
from trafficgate.context import CheckContext
from trafficgate.discovery import AppSpec, Deployment, TaskDefinitionNotFound, read_task_sets
from trafficgate.hooks import Hook
from trafficgate.plan import sources
from trafficgate.runner import HookRunner, reset_runner

EVENT = {"DeploymentId": "d-ABCDEFGH1", "LifecycleEventHookExecutionId": "exec-1"}


def context(**settings: Any) -> CheckContext:
    return CheckContext(
        hook=Hook.AFTER_ALLOW_TEST_TRAFFIC,
        deployment_id="d-ABCDEFGH1",
        execution_id="exec-1",
        settings=Settings(**settings),
        aws=AwsClients(),
        deadline=time.monotonic() + 30,
    )


def test_http_gives_one_session_per_listener_and_close_closes_them() -> None:
    ctx = context(test_url="http://green.internal:8080", prod_url="http://blue.internal")
    test = ctx.http("test")
    assert ctx.http("test") is test  # the same session on every call of this invocation
    prod = ctx.http("prod")
    assert prod is not test and prod.base_url == "http://blue.internal"
    closed: list[str] = []
    for name, session in (("test", test), ("prod", prod)):
        original = session.close
        session.close = lambda name=name, original=original: (closed.append(name), original())[1]  # type: ignore[method-assign]
    ctx.close()
    assert sorted(closed) == ["prod", "test"]
    assert ctx.http("test") is not test  # a new one after close, never a closed one


def test_the_runner_closes_the_checks_sessions_when_the_plan_ends() -> None:
    seen: list[CheckContext] = []

    class OpensASession(Check):
        def run(self, ctx: CheckContext) -> CheckResult:
            ctx.http("test")
            seen.append(ctx)
            return CheckResult.passed("opened")

    runner = HookRunner(settings=Settings(test_url="http://green.internal"), reporter=FakeReporter())
    runner.run(Hook.AFTER_ALLOW_TEST_TRAFFIC, EVENT, FixedContext(), plan=[OpensASession(check_id="x.open")])
    assert seen and seen[0]._sessions == {}


def test_task_definition_errors_are_cached_like_answers() -> None:
    ctx = context()
    error = TaskDefinitionNotFound("task definition arn:td not found (ClientException)")
    ctx.cache["ecs.task_definition:arn:td"] = error
    ctx._deployment = Deployment(
        deployment_id="d-ABCDEFGH1",
        application="app",
        deployment_group="dg",
        deployment_config="CodeDeployDefault.ECSAllAtOnce",
        appspec=AppSpec(task_definition_arn="arn:td", container_name="web", container_port=80),
        cluster=None,
        service=None,
        prod_listeners=(),
        test_listeners=(),
        target_groups=(),
    )
    for _ in range(2):  # each check of the hook sees the same error, from one call
        with pytest.raises(TaskDefinitionNotFound, match="arn:td not found"):
            ctx.task_definition()


def test_a_failed_discovery_fails_every_later_check_without_asking_again_until_a_retry() -> None:
    ctx = context()
    codedeploy = ctx.aws.client("codedeploy")
    with Stubber(codedeploy) as stub:
        stub.add_client_error("get_deployment", "DeploymentDoesNotExistException", "no d-ABCDEFGH1")
        for _ in range(3):  # one call: a second would find no stubbed answer and raise another error
            with pytest.raises(CheckError, match="DeploymentDoesNotExistException"):
                ctx.deployment()
        stub.assert_no_pending_responses()
        # Before a check's next attempt the runner forgets failed reads: this one asks AWS again.
        stub.add_client_error("get_deployment", "ThrottlingException", "slow down")
        ctx.forget_errors()
        with pytest.raises(CheckError, match="ThrottlingException"):
            ctx.deployment()
        stub.assert_no_pending_responses()


def test_the_runner_forgets_failed_reads_before_a_retry() -> None:
    seen: list[bool] = []

    class RemembersAnError(Check):
        def run(self, ctx: CheckContext) -> CheckResult:
            seen.append("remembered" in ctx.cache)
            ctx.cache["remembered"] = CheckError("AWS said no")
            raise CheckError("AWS said no")

    check = RemembersAnError(check_id="x.retried", policy=Policy(retries=1))
    HookRunner(settings=Settings(), reporter=FakeReporter()).run(
        Hook.AFTER_INSTALL, EVENT, FixedContext(60_000), plan=[check]
    )
    assert seen == [False, False]


def _task_set(identifier: str) -> dict[str, Any]:
    return {
        "identifer": identifier,
        "desiredCount": 2,
        "pendingCount": 0,
        "runningCount": 2,
        "status": "ACTIVE",
        "trafficWeight": 0.0,
        "targetGroup": {"name": "tg"},
        "taskSetLabel": "Green",
    }


def test_task_sets_page_through_every_target_in_batches_of_25() -> None:
    # A real boto3 client whose answers are stubbed: botocore still checks every request and
    # answer against the CodeDeploy service model.
    client = boto3.client("codedeploy", region_name="us-east-1")
    ids = [f"target-{n}" for n in range(30)]
    with Stubber(client) as stub:
        stub.add_response(
            "list_deployment_targets", {"targetIds": ids[:20], "nextToken": "page-2"}, {"deploymentId": "d-ABCDEFGH1"}
        )
        stub.add_response(
            "list_deployment_targets", {"targetIds": ids[20:]}, {"deploymentId": "d-ABCDEFGH1", "nextToken": "page-2"}
        )
        for batch in (ids[:25], ids[25:]):
            stub.add_response(
                "batch_get_deployment_targets",
                {
                    "deploymentTargets": [
                        {
                            "deploymentTargetType": "ECSTarget",
                            "ecsTarget": {"targetId": t, "taskSetsInfo": [_task_set(t)]},
                        }
                        for t in batch
                    ]
                },
                {"deploymentId": "d-ABCDEFGH1", "targetIds": batch},
            )
        clients = AwsClients()
        clients._clients["codedeploy"] = client
        task_sets = read_task_sets("d-ABCDEFGH1", clients)
        stub.assert_no_pending_responses()
    assert [t.identifier for t in task_sets] == ids


def test_reset_runner_forgets_parsed_plans_too() -> None:
    sources._parsed[("test", "hash")] = object()  # type: ignore[assignment]
    reset_runner()
    assert sources._parsed == {}


def test_the_deprecated_plans_module_only_points_at_the_one_table() -> None:
    from trafficgate import plans
    from trafficgate.plan import BUILTIN_TYPES

    with pytest.warns(DeprecationWarning, match="use trafficgate.plan.BUILTIN_TYPES"):
        assert plans.check_types() == dict(BUILTIN_TYPES)


def test_verdict_metrics_are_separate_blobs_and_never_pile_up_dimensions() -> None:
    # Powertools warns "Dimension 'hook' has already been added" when a container-wide Metrics
    # object gains a dimension on every verdict; each verdict now writes its own blobs.
    runner = HookRunner(settings=Settings(), reporter=FakeReporter())
    plan = [FixedCheck(check_id="x.ok")]
    out = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, redirect_stdout(out):
        warnings.simplefilter("always")
        for _ in range(3):
            runner.run(Hook.AFTER_INSTALL, EVENT, FixedContext(), plan=plan)
    assert [w for w in caught if "already been added" in str(w.message)] == []
    blobs = [json.loads(line) for line in out.getvalue().splitlines() if line.startswith('{"_aws"')]
    verdicts = [b for b in blobs if "VerdictSucceeded" in b]
    checks = [b for b in blobs if "CheckDuration" in b]
    assert len(verdicts) == 3 and len(checks) == 3
    assert all(b["hook"] == "AfterInstall" and "check" not in b for b in verdicts)
    assert all(b["check"] == "x.ok" and b["CheckPass"] == [1.0] for b in checks)


class FixedCheck(Check):
    def run(self, ctx: CheckContext) -> CheckResult:
        return CheckResult.passed("fine")
