"""``trafficgate invoke`` end to end: the CLI in a subprocess, the handler in its own child process.

The function process reaches the stand-in running in this test process through
``AWS_ENDPOINT_URL``, exactly as a shell user would point it at ``trafficgate standin``.
Independent invocations run concurrently to keep the suite fast (each is a cold start).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.support.http_apps import HttpApp, Route, serve
from tests.support.lambda_env import REGION, ROOT
from tests.support.standin_env import (
    SAMPLE_DEPLOYMENT_ID,
    StandInEnv,
    silent_server,
)
from trafficgate import constants
from trafficgate.hooks import Hook
from trafficgate_local.template import find_function

pytestmark = pytest.mark.integration

TEMPLATE = ROOT / "template.yaml"
#: Only catches a hang: several cold interpreters at once take many times their usual seconds on a
#: loaded machine.
HANG_GUARD_S = 180


def run_cli(
    args: Sequence[str], env: Mapping[str, str], *, timeout: float = HANG_GUARD_S
) -> subprocess.CompletedProcess[str]:
    """Run ``trafficgate invoke ...`` as a user would, from the project root."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TRAFFICGATE_", "POWERTOOLS_"))}
    # Declared in template.yaml, so the shell value reaches the function (the standin fixture sets it).
    base["TRAFFICGATE_DISABLED_CHECKS"] = os.environ.get("TRAFFICGATE_DISABLED_CHECKS", "")
    base.update(env)
    return subprocess.run(
        [sys.executable, "-m", "trafficgate_local.cli", "invoke", *args],
        env=base,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_many(
    jobs: Sequence[tuple[Sequence[str], Mapping[str, str]]],
) -> list[subprocess.CompletedProcess[str]]:
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(lambda job: run_cli(*job), jobs))


def test_each_sample_event_records_one_status(standin: StandInEnv) -> None:
    # All five at once, invoked together: registered ahead of time, so no event is "in progress"
    # and none of them is told it runs for the wrong lifecycle event.
    events = {hook: standin.seed_sample(hook, start_event=False) for hook in Hook}
    with serve(HttpApp()) as server:
        env = {
            "AWS_ENDPOINT_URL": standin.endpoint_url,
            "TRAFFICGATE_TEST_URL": server.url,
            "TRAFFICGATE_PROD_URL": server.url,
            "TRAFFICGATE_PROBE_REQUESTS": "10",
            "TRAFFICGATE_PROBE_DECISION": "fixed",
        }
        results = run_many([([hook.value, "--json", "--region", REGION], env) for hook in Hook])

    for hook, proc in zip(Hook, results, strict=True):
        assert proc.returncode == 0, (hook, proc.stdout, proc.stderr)
        summary = json.loads(proc.stdout)  # --json: stdout holds the summary only
        assert summary["hook"] == hook.value
        assert summary["status"] == "Succeeded"
        assert summary["execution_id"] == events[hook]["LifecycleEventHookExecutionId"]
        assert summary["report"] == "reported"
    recorded = sorted((s.lifecycle_event_name, s.status) for s in standin.control.statuses(SAMPLE_DEPLOYMENT_ID))
    assert recorded == sorted((hook.value, "Succeeded") for hook in Hook)


def test_failed_verdict_exits_1_and_malformed_event_exits_2(standin: StandInEnv, tmp_path: Path) -> None:
    standin.seed_sample(Hook.AFTER_ALLOW_TEST_TRAFFIC)
    malformed = tmp_path / "malformed.json"
    malformed.write_text(json.dumps({"DeploymentId": SAMPLE_DEPLOYMENT_ID}))
    with serve(HttpApp(default=Route(status=500))) as broken:
        env = {
            "AWS_ENDPOINT_URL": standin.endpoint_url,
            "TRAFFICGATE_TEST_URL": broken.url,
            "TRAFFICGATE_PROBE_REQUESTS": "10",
            "TRAFFICGATE_PROBE_DECISION": "fixed",
        }
        failed, bad_event = run_many(
            [
                (["AfterAllowTestTraffic", "--json", "--region", REGION], env),
                (["AfterInstall", "--event", str(malformed), "--region", REGION], env),
            ]
        )

    assert failed.returncode == 1, failed.stderr
    summary = json.loads(failed.stdout)
    assert summary["status"] == "Failed"
    assert summary["reason"].startswith("http.test_listener: ")
    assert [(s.lifecycle_event_name, s.status) for s in standin.control.statuses()] == [
        ("AfterAllowTestTraffic", "Failed")
    ]

    assert bad_event.returncode == 2, bad_event.stderr
    assert "InvalidEventError" in bad_event.stderr
    assert "LifecycleEventHookExecutionId" in bad_event.stderr
    # Nothing was reported for the malformed event.
    assert all(c.lifecycle_event_name == "AfterAllowTestTraffic" for c in standin.control.report_calls())


def test_timeout_kills_the_function(standin: StandInEnv) -> None:
    # Proves: the function process is killed at the --timeout given (not the template's 300 s), even
    # while botocore is still retrying a report that hangs: the error is the sandbox's timeout, not
    # the ReportError the handler would raise once its retries ran out.
    standin.seed_sample(Hook.AFTER_INSTALL)
    # CodeDeploy's endpoint accepts connections and never answers: the report hangs past the timeout.
    # The report may go on far longer than the 2 s timeout (10 attempts within 60 s), so that only
    # the kill can end the run, however slowly a busy machine fires it.
    slow_report = {
        "TRAFFICGATE_REPORT_BUDGET_MS": "60000",
        "TRAFFICGATE_REPORT_MAX_ATTEMPTS": "10",
        "TRAFFICGATE_DEADLINE_MARGIN_MS": "61000",
    }
    with silent_server() as black_hole:
        slow_report["AWS_ENDPOINT_URL"] = black_hole
        proc = run_cli(["AfterInstall", "--timeout", "2", "--region", REGION], slow_report)

    assert proc.returncode == 1
    assert "Task timed out after 2.00 seconds" in proc.stderr
    assert "ReportError" not in proc.stderr
    assert standin.control.report_calls() == []


def test_environment_precedence(standin: StandInEnv, tmp_path: Path) -> None:
    """template default < shell value of a declared variable < --env-vars; undeclared shell vars stay out.

    Observed through TRAFFICGATE_PROBE_REQUESTS: the number of requests each server receives.
    """
    spec = find_function(TEMPLATE, Hook.AFTER_ALLOW_TEST_TRAFFIC, region=REGION)
    template_requests = int(spec.environment[constants.PROBE_REQUESTS])
    assert constants.RESOLVE not in spec.environment  # undeclared: the shell value must not leak in
    executions = []
    for _ in range(3):
        deployment_id = standin.control.create_ecs_deployment()
        executions.append(
            (deployment_id, standin.control.register_hook_execution(deployment_id, "AfterAllowTestTraffic"))
        )
    env_file = tmp_path / "env.json"
    env_file.write_text(json.dumps({"AfterAllowTestTrafficHook": {constants.PROBE_REQUESTS: "3"}}))

    with serve(HttpApp()) as a, serve(HttpApp()) as b, serve(HttpApp()) as c:
        jobs: list[tuple[Sequence[str], Mapping[str, str]]] = []
        for (deployment_id, execution_id), server, shell_requests, env_vars in (
            (executions[0], a, None, None),
            (executions[1], b, "7", None),
            (executions[2], c, "7", env_file),
        ):
            event = tmp_path / f"{deployment_id}.json"
            event.write_text(json.dumps({"DeploymentId": deployment_id, "LifecycleEventHookExecutionId": execution_id}))
            env = {
                "AWS_ENDPOINT_URL": standin.endpoint_url,
                "TRAFFICGATE_TEST_URL": server.url,
                constants.RESOLVE: "not a mapping",  # would be a ConfigError if it reached the function
                constants.PROBE_DECISION: "fixed",  # every request sent: the count is the setting
            }
            if shell_requests:
                env[constants.PROBE_REQUESTS] = shell_requests
            args = ["AfterAllowTestTraffic", "--event", str(event), "--json", "--region", REGION]
            if env_vars:
                args += ["--env-vars", str(env_vars)]
            jobs.append((args, env))
        results = run_many(jobs)
        counts = [len(server.app.requests) for server in (a, b, c)]

    for proc in results:
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["status"] == "Succeeded"
    assert counts == [template_requests, 7, 3]


def test_standalone_standin_seeds_the_sample_events_so_invoke_records_one_status(tmp_path: Path) -> None:
    """``trafficgate standin --seed-events events`` in one shell, ``trafficgate invoke`` in another."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRAFFICGATE_", "POWERTOOLS_"))}
    server = subprocess.Popen(
        [sys.executable, "-m", "trafficgate_local.cli", "standin", "--port", "0", "--seed-events", "events"],
        cwd=ROOT,
        env={**env, "AWS_DEFAULT_REGION": REGION},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        seeded: list[str] = []
        endpoint = ""
        deadline = time.monotonic() + HANG_GUARD_S
        while time.monotonic() < deadline and not endpoint:
            line = server.stdout.readline().strip()
            if line.startswith("seeded "):
                seeded.append(line)
            elif "listening on " in line:
                endpoint = line.rsplit(" ", 1)[-1]
        assert endpoint, "the stand-in did not start"
        assert len(seeded) == 5 and all(SAMPLE_DEPLOYMENT_ID in line for line in seeded)

        first = run_cli(["AfterInstall", "--json", "--region", REGION], {"AWS_ENDPOINT_URL": endpoint})
        second = run_cli(["AfterInstall", "--json", "--region", REGION], {"AWS_ENDPOINT_URL": endpoint})
        assert first.returncode in (0, 1), first.stderr
        assert json.loads(first.stdout)["report"] == "reported"
        # The duplicate invocation is told the event already completed: still one status recorded.
        assert json.loads(second.stdout)["report"] == "already-completed"
        from trafficgate_local.standin import StandInAdmin

        admin = StandInAdmin(endpoint, region_name=REGION)
        try:
            statuses = admin.statuses(SAMPLE_DEPLOYMENT_ID)
        finally:
            admin.close()
        assert [(s.lifecycle_event_name, s.deployment_id) for s in statuses] == [("AfterInstall", SAMPLE_DEPLOYMENT_ID)]
    finally:
        server.terminate()
        server.wait(timeout=10)


def run_worker(code_dir: Path, handler_ref: str, tmp_path: Path) -> dict[str, Any]:
    """Run the invoke worker directly on ``code_dir`` with an empty event; return its result file."""
    event, result = tmp_path / "event.json", tmp_path / "result.json"
    event.write_text("{}")
    # CODE_DIR HANDLER EVENT_JSON RESULT_JSON FUNCTION_NAME TIMEOUT_S MEMORY_MB
    args = [str(code_dir), handler_ref, str(event), str(result), "CodeDeployHook_worker-test", "10", "128"]
    subprocess.run(
        [sys.executable, "-m", "trafficgate_local.worker", *args],
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
        check=False,
    )
    payload: dict[str, Any] = json.loads(result.read_text())
    return payload


def test_worker_loads_a_dotted_handler_ref_whose_package_imports_relatively(tmp_path: Path) -> None:
    package = tmp_path / "code" / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "helper.py").write_text("ANSWER = 42\n")
    (package / "mod.py").write_text(
        "from .helper import ANSWER\n\n\n"
        "def handler(event, context):\n"
        "    return {'answer': ANSWER, 'module': __name__}\n"
    )

    assert run_worker(tmp_path / "code", "pkg.mod.handler", tmp_path) == {"result": {"answer": 42, "module": "pkg.mod"}}


def test_worker_reports_a_bad_handler_ref_by_name(tmp_path: Path) -> None:
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "app.py").write_text("def handler(event, context):\n    return 1\n")

    error = run_worker(tmp_path / "code", "app.missing", tmp_path)["error"]

    assert error["errorType"] == "HandlerError"
    assert "handler 'app.missing'" in error["errorMessage"]


def test_the_timeout_counts_from_the_invocation_not_from_the_process_start() -> None:
    # Lambda gives the init (imports, module load) its own limit and the function its timeout from
    # the invocation: a busy machine's slow interpreter start must not eat into the function's time.
    # Here the "init" takes 7 s, longer than the 5 s timeout plus the kill's grace, and the
    # invocation after it is instant: it runs to the end.
    from trafficgate_local.invoke import INIT_LIMIT_S, _pump
    from trafficgate_local.worker import INVOKE_MARK

    script = f"import time, sys; time.sleep(7); print({INVOKE_MARK!r}, flush=True); print('handled', flush=True)"
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = io.StringIO()
    deadline = [time.monotonic() + INIT_LIMIT_S + 1.0]
    _pump(proc, seen, deadline, 5.0 + 1.0)
    assert proc.wait(timeout=30) == 0
    assert seen.getvalue() == "handled\n"  # the mark is not the function's output
    # An invocation that outlasts its timeout is still cut: the deadline moved to the mark + 6 s.
    script = f"import time; print({INVOKE_MARK!r}, flush=True); time.sleep(60)"
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    initial = time.monotonic() + INIT_LIMIT_S + 1.0
    deadline = [initial]
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            _pump(proc, io.StringIO(), deadline, 2.0)
    finally:
        proc.kill()
        proc.wait()
    assert deadline[0] < initial  # the mark set the invocation's own deadline, which then passed
