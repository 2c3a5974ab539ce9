"""A function listed under the wrong appspec key (``trafficgate.wiring``), through the real handler.

CodeDeploy's event names neither the lifecycle event nor the function. Here the appspec lists the
AfterAllowTestTraffic function under AfterInstall: CodeDeploy is running AfterInstall, hands out an
AfterInstall execution id, and invokes that function. The deployment target's lifecycle events
say AfterInstall is in progress; the function must fail, say how to fix the appspec, and still
answer CodeDeploy exactly once. The dry run (``trafficgate check``) asks "what if this hook ran
now" and does not judge the wiring.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable

import pytest

from tests.support.lambda_env import REGION, ROOT, load_handler_module
from tests.support.standin_env import BLUE_GREEN_REQUESTS, BlueGreen, StandInEnv, aws_side_check_ids
from trafficgate.hooks import Hook
from trafficgate_local.lambda_context import LocalLambdaContext

pytestmark = pytest.mark.integration

ContextFactory = Callable[..., LocalLambdaContext]
WIRING_REASON = (
    "trafficgate.wiring: this function serves AfterAllowTestTraffic, but the lifecycle event in progress is "
    "AfterInstall: list it under AfterAllowTestTraffic in the appspec Hooks, and the AfterInstall function "
    "under AfterInstall"
)


def test_a_function_invoked_for_another_lifecycle_event_fails_once_saying_how_to_fix_the_appspec(
    standin: StandInEnv, blue_green: BlueGreen, lambda_context: ContextFactory
) -> None:
    bg = blue_green
    # CodeDeploy runs AfterInstall (that event is now in progress) and invokes the function the
    # appspec lists under it, which is the AfterAllowTestTraffic function.
    execution_id = standin.control.register_hook_execution(bg.deployment_id, "AfterInstall")
    event = {"DeploymentId": bg.deployment_id, "LifecycleEventHookExecutionId": execution_id}

    summary = load_handler_module(Hook.AFTER_ALLOW_TEST_TRAFFIC.module_name).handler(event, lambda_context())

    assert summary["status"] == "Failed"
    assert summary["reason"] == WIRING_REASON
    assert [(c["id"], c["outcome"]) for c in summary["checks"]] == [("trafficgate.wiring", "fail")]
    assert summary["report"] == "reported"
    calls = standin.control.report_calls(bg.deployment_id)
    assert [(c.lifecycle_event_name, c.status, c.error_code) for c in calls] == [("AfterInstall", "Failed", None)]
    assert bg.green.app.requests == []  # the wrong plan did not run


def test_the_dry_run_does_not_judge_the_wiring(standin: StandInEnv, blue_green: BlueGreen) -> None:
    """``trafficgate check --deployment-id`` while another event is in progress runs the hook's plan."""
    bg = blue_green
    standin.control.register_hook_execution(bg.deployment_id, "AfterInstall")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRAFFICGATE_", "POWERTOOLS_"))}
    env["AWS_ENDPOINT_URL"] = standin.endpoint_url
    sets = {
        "TRAFFICGATE_RESOLVE": f"{bg.topology.dns_name}=127.0.0.1",
        "TRAFFICGATE_PROBE_REQUESTS": str(BLUE_GREEN_REQUESTS),
        "TRAFFICGATE_PROBE_DECISION": "fixed",
        "TRAFFICGATE_DISABLED_CHECKS": aws_side_check_ids(),
    }
    args = ["--hook", "AfterAllowTestTraffic", "--deployment-id", bg.deployment_id, "--region", REGION, "--json"]
    proc = subprocess.run(
        [sys.executable, "-m", "trafficgate_local.cli", "check", *args, *(f"--set={k}={v}" for k, v in sets.items())],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    summary = json.loads(proc.stdout)
    assert (summary["status"], summary["report"]) == ("Succeeded", "dry-run")
    assert [c["id"] for c in summary["checks"]] == ["http.test_listener"]
    assert len(bg.green.app.requests) == BLUE_GREEN_REQUESTS
    assert standin.control.report_calls(bg.deployment_id) == []
