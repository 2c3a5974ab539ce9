"""The issue's acceptance, through the real handlers, real boto3 and the stand-in on 127.0.0.1.

Each handler is loaded from ``functions/<hook>/app.py`` as Lambda loads it and called with a
Lambda-like context whose clock really runs down. The verdict reaches the stand-in's
PutLifecycleEventHookExecutionStatus; the tests read back what it recorded.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.http_apps import HttpApp, RunningServer, serve
from tests.support.lambda_env import FUNCTIONS, ROOT, load_handler_module
from tests.support.standin_env import (
    SAMPLE_DEPLOYMENT_ID,
    LogCapture,
    StandInEnv,
    silent_server,
)
from trafficgate.exceptions import InvalidEventError
from trafficgate.hooks import Hook
from trafficgate_local.lambda_context import LocalLambdaContext

pytestmark = pytest.mark.integration

ContextFactory = Callable[..., LocalLambdaContext]
PROBING = {Hook.AFTER_ALLOW_TEST_TRAFFIC, Hook.BEFORE_ALLOW_TRAFFIC, Hook.AFTER_ALLOW_TRAFFIC}


@pytest.fixture
def healthy(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningServer]:
    """One healthy app behind both the test and the production URL; small bursts keep tests fast."""
    with serve(HttpApp()) as server:
        monkeypatch.setenv("TRAFFICGATE_TEST_URL", server.url)
        monkeypatch.setenv("TRAFFICGATE_PROD_URL", server.url)
        monkeypatch.setenv("TRAFFICGATE_PROBE_REQUESTS", "10")
        monkeypatch.setenv("TRAFFICGATE_PROBE_DECISION", "fixed")
        yield server


def call(hook: Hook, event: dict[str, Any], context: LocalLambdaContext) -> dict[str, Any]:
    handler = load_handler_module(hook.module_name).handler
    result: dict[str, Any] = handler(event, context)
    return result


@pytest.mark.parametrize("hook", list(Hook), ids=lambda h: h.value)
def test_sample_event_reports_succeeded_once(
    hook: Hook, standin: StandInEnv, healthy: RunningServer, lambda_context: ContextFactory
) -> None:
    event = standin.seed_sample(hook)

    summary = call(hook, event, lambda_context())

    statuses = standin.control.statuses(SAMPLE_DEPLOYMENT_ID)
    assert [(s.lifecycle_event_name, s.execution_id, s.status) for s in statuses] == [
        (hook.value, event["LifecycleEventHookExecutionId"], "Succeeded")
    ]
    assert summary["status"] == "Succeeded"
    assert summary["report"] == "reported"
    assert summary["hook"] == hook.value
    # The probing hooks really probed; the install hooks have no HTTP checks.
    probed = len(healthy.app.requests)
    if hook in PROBING:
        assert probed >= 5
        assert [c["id"] for c in summary["checks"]] == [
            "http.prod_listener" if hook is Hook.AFTER_ALLOW_TRAFFIC else "http.test_listener"
        ]
    else:
        assert probed == 0


def test_check_that_raises_reports_failed_once(
    standin: StandInEnv, healthy: RunningServer, monkeypatch: pytest.MonkeyPatch, lambda_context: ContextFactory
) -> None:
    # The probe's auth header secret does not exist: the check raises CheckError.
    missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:trafficgate/missing-AbCdEf"
    monkeypatch.setenv("TRAFFICGATE_AUTH_SECRET_ARN", missing)
    event = standin.seed_sample(Hook.AFTER_ALLOW_TEST_TRAFFIC)

    summary = call(Hook.AFTER_ALLOW_TEST_TRAFFIC, event, lambda_context())

    assert [s.status for s in standin.control.statuses()] == ["Failed"]
    assert summary["status"] == "Failed"
    assert summary["reason"].startswith("http.test_listener: could not read auth secret")
    assert "ResourceNotFoundException" in summary["reason"]
    assert summary["checks"][0]["outcome"] == "error"
    assert healthy.app.requests == []  # no probe without its credentials


def test_hanging_check_is_failed_before_the_lambda_deadline(
    standin: StandInEnv, monkeypatch: pytest.MonkeyPatch, lambda_context: ContextFactory
) -> None:
    # Proves: a probe that would hang for its 60 s request timeout is cut at the deadline guard, and
    # CodeDeploy hears Failed before Lambda would kill the function (default 3 s margin). 12 s, not
    # less: a cold runner on a loaded machine spends seconds creating boto3 clients and reading the
    # SSM plan before the probe starts, and it must have started by the deadline for the probe to
    # be what is cut (otherwise: "trafficgate.deadline: the plan was not ready in time").
    event = standin.seed_sample(Hook.AFTER_ALLOW_TEST_TRAFFIC)
    with silent_server() as url:
        monkeypatch.setenv("TRAFFICGATE_TEST_URL", url)
        monkeypatch.setenv("TRAFFICGATE_REQUEST_TIMEOUT_S", "60")
        context = lambda_context(timeout_s=12)
        killed_at = datetime.now(UTC) + timedelta(milliseconds=context.get_remaining_time_in_millis())

        summary = call(Hook.AFTER_ALLOW_TEST_TRAFFIC, event, context)

        statuses = standin.control.statuses()
    assert [s.status for s in statuses] == ["Failed"]
    # What counts is when the report reached CodeDeploy (the stand-in's clock), not when the
    # handler returned: the margin is there to absorb a slow report.
    assert statuses[0].time < killed_at
    assert summary["reason"].startswith("http.test_listener: ")
    assert "deadline" in summary["reason"]
    assert summary["report"] == "reported"


def test_duplicate_invocation_is_already_completed(
    standin: StandInEnv, healthy: RunningServer, lambda_context: ContextFactory
) -> None:
    event = standin.seed_sample(Hook.AFTER_ALLOW_TEST_TRAFFIC)
    first = call(Hook.AFTER_ALLOW_TEST_TRAFFIC, event, lambda_context())

    second = call(Hook.AFTER_ALLOW_TEST_TRAFFIC, event, lambda_context())

    assert first["report"] == "reported"
    assert second["report"] == "already-completed"
    assert len(standin.control.statuses()) == 1
    calls = standin.control.report_calls()
    assert [c.error_code for c in calls] == [None, "LifecycleEventAlreadyCompletedException"]


def test_throttled_report_is_retried_and_recorded_once(
    standin: StandInEnv, healthy: RunningServer, lambda_context: ContextFactory
) -> None:
    event = standin.seed_sample(Hook.AFTER_INSTALL)
    standin.control.inject_fault(error_code="ThrottlingException", times=1)

    summary = call(Hook.AFTER_INSTALL, event, lambda_context())

    assert summary["report"] == "reported"
    assert [s.status for s in standin.control.statuses()] == ["Succeeded"]
    calls = standin.control.report_calls()
    assert [(c.error_code, c.status) for c in calls] == [("ThrottlingException", "Succeeded"), (None, "Succeeded")]


def test_malformed_event_raises_and_reports_nothing(standin: StandInEnv, lambda_context: ContextFactory) -> None:
    event = {"DeploymentId": SAMPLE_DEPLOYMENT_ID}

    with pytest.raises(InvalidEventError, match="LifecycleEventHookExecutionId"):
        call(Hook.AFTER_INSTALL, event, lambda_context())

    assert standin.control.report_calls() == []


def test_unknown_deployment_is_rejected_promptly_and_logged(
    standin: StandInEnv, log_capture: LogCapture, lambda_context: ContextFactory
) -> None:
    # Proves: a report CodeDeploy rejects is final: one call, no retries, logged once with the ids.
    event = {"DeploymentId": "d-NOSUCH000", "LifecycleEventHookExecutionId": "not-registered"}
    started = time.monotonic()

    summary = call(Hook.AFTER_INSTALL, event, lambda_context())

    assert time.monotonic() - started < 57 / 2  # a hang guard: the 60 s context's deadline is 57 s away
    assert summary["report"] == "rejected"
    assert standin.control.statuses() == []
    errors = [r for r in log_capture.logs() if r["level"] == "ERROR"]
    rejected = [r for r in errors if r.get("error_code") == "DeploymentDoesNotExistException"]
    assert len(rejected) == 1, errors
    assert "rejected" in rejected[0]["message"]
    assert rejected[0]["deployment_id"] == "d-NOSUCH000"
    assert [c.error_code for c in standin.control.report_calls()] == ["DeploymentDoesNotExistException"]


@pytest.mark.parametrize("healthy_app", [True, False], ids=["succeeded", "failed"])
def test_logs_carry_ids_and_one_verdict_line(
    healthy_app: bool,
    standin: StandInEnv,
    log_capture: LogCapture,
    monkeypatch: pytest.MonkeyPatch,
    lambda_context: ContextFactory,
) -> None:
    from tests.support.http_apps import Route

    event = standin.seed_sample(Hook.AFTER_ALLOW_TEST_TRAFFIC)
    app = HttpApp(default=Route() if healthy_app else Route(status=503))
    with serve(app) as server:
        monkeypatch.setenv("TRAFFICGATE_TEST_URL", server.url)
        monkeypatch.setenv("TRAFFICGATE_PROBE_REQUESTS", "10")
        monkeypatch.setenv("TRAFFICGATE_PROBE_DECISION", "fixed")
        summary = call(Hook.AFTER_ALLOW_TEST_TRAFFIC, event, lambda_context())

    logs = log_capture.logs()
    assert len(logs) >= 3
    for line in logs:
        assert line["deployment_id"] == SAMPLE_DEPLOYMENT_ID, line
        assert line["hook"] == "AfterAllowTestTraffic", line
        assert line["execution_id"] == event["LifecycleEventHookExecutionId"], line
    verdicts = [line for line in logs if "verdict" in line]
    assert len(verdicts) == 1
    assert verdicts[0]["verdict"] == summary
    assert summary["status"] == ("Succeeded" if healthy_app else "Failed")

    # EMF: one blob with the verdict metrics, in the configured namespace (conftest sets it).
    namespace = os.environ["POWERTOOLS_METRICS_NAMESPACE"]
    blobs = [m for m in log_capture.metrics() if "VerdictSucceeded" in m]
    assert len(blobs) == 1
    blob = blobs[0]
    assert blob["_aws"]["CloudWatchMetrics"][0]["Namespace"] == namespace
    assert blob["VerdictSucceeded"] == [1.0 if healthy_app else 0.0]
    assert blob["VerdictFailed"] == [0.0 if healthy_app else 1.0]
    assert blob["hook"] == "AfterAllowTestTraffic"
    # And one blob per check, with both its outcome count and its duration under (hook, check).
    per_check = [m for m in log_capture.metrics() if "CheckDuration" in m]
    assert [m["check"] for m in per_check] == [c["id"] for c in summary["checks"]]
    outcome = "CheckPass" if healthy_app else "CheckFail"
    assert all(m[outcome] == [1.0] and m["hook"] == "AfterAllowTestTraffic" for m in per_check)


def _fresh_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    child_env = {k: v for k, v in os.environ.items() if not k.startswith(("TRAFFICGATE_", "POWERTOOLS_"))}
    child_env.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], env=child_env, capture_output=True, text=True, timeout=60, cwd=ROOT
    )


def test_emf_namespace_comes_from_the_environment(standin: StandInEnv) -> None:
    """In a fresh process (as in Lambda, the variable is set before import) the namespace is honoured."""
    event = standin.seed_sample(Hook.AFTER_INSTALL)
    code = f"""
import json, sys
sys.path.insert(0, {str(FUNCTIONS / "after_install")!r})
import app
from trafficgate_local.lambda_context import LocalLambdaContext
app.handler({event!r}, LocalLambdaContext(timeout_s=30))
"""
    proc = _fresh_python(
        code,
        POWERTOOLS_METRICS_NAMESPACE="AcmeGates",
        AWS_ENDPOINT_URL=standin.endpoint_url,
        TRAFFICGATE_DISABLED_CHECKS=os.environ["TRAFFICGATE_DISABLED_CHECKS"],
    )
    assert proc.returncode == 0, proc.stderr
    import json

    blobs = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith('{"_aws"')]
    verdict_blobs = [b for b in blobs if "VerdictSucceeded" in b]
    assert len(verdict_blobs) == 1
    assert verdict_blobs[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "AcmeGates"
    assert [s.status for s in standin.control.statuses()] == ["Succeeded"]


_XRAY_PROBE = f"""
import sys
sys.path.insert(0, {str(FUNCTIONS / "after_allow_test_traffic")!r})
import app
print("aws_xray_sdk" in sys.modules)
"""


def test_tracing_off_does_not_import_xray() -> None:
    proc = _fresh_python(_XRAY_PROBE)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


def test_tracing_on_imports_xray() -> None:
    """The counterpart: proves the probe above can see the SDK when it is loaded."""
    pytest.importorskip("aws_xray_sdk")
    proc = _fresh_python(_XRAY_PROBE, TRAFFICGATE_TRACING="true")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "True"
