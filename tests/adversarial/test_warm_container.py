"""Issue 10, item 9: abandoned checks stop, and never log under another invocation, in a warm container.

One process, one handler module, many invocations: as a warm Lambda container lives. Before, each
invocation stopped at its deadline left its probe threads running (21 of them with the defaults)
until their sockets timed out, and an abandoned check of deployment A later logged its result
under deployment B's ids. Now the deadline calls the checks off: the probes stop starting
requests, their sockets are shut, and the thread count returns to its baseline; lines from a
thread left behind are dropped once the next invocation has begun.
"""

from __future__ import annotations

import io
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.adversarial.conftest import Gate, aws_side_checks
from tests.adversarial.hostile import Exchange, hostile
from tests.support.lambda_env import REGION, load_handler_module
from trafficgate.hooks import Hook
from trafficgate.observability import logger
from trafficgate.runner import get_runner, reset_runner
from trafficgate_local.lambda_context import LocalLambdaContext

pytestmark = pytest.mark.integration

#: Threads the gate starts for an invocation: the plan's worker, the probe workers, their reaper.
GATE_THREADS = ("trafficgate-", "probe-", "target-session-reaper")

STUCK_CHECK = """
import threading

from trafficgate.checks.base import CheckResult

#: Set by the second invocation's check; until then the first one's check is stuck.
RELEASE = threading.Event()
A_DONE = threading.Event()


def stuck(ctx):
    RELEASE.wait(30)  # a check that ignores the deadline, as third-party code may
    A_DONE.set()
    return CheckResult.failed("stuck.a finished late")


def fetches(ctx):
    ctx.http("test").get("/")  # its session bounds the request by its own timeout, not the hook's
    return CheckResult.passed("fetched")


def releases(ctx):
    RELEASE.set()
    A_DONE.wait(30)  # the first invocation's check logs its late result while this one runs
    for thread in threading.enumerate():
        if thread.name.startswith("trafficgate-") and thread is not threading.current_thread():
            thread.join(5)
    return CheckResult.passed("released.b")
"""


def gate_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(GATE_THREADS)]


def own_threads() -> int:
    """Threads of this process but the servers' (the hostile app's and the stand-in's come and go)."""
    return sum(
        1 for t in threading.enumerate() if not t.name.startswith("hostile-") and "process_request" not in t.name
    )


def eventually(condition: Callable[[], bool], limit_s: float = 20.0) -> None:
    """Wait for ``condition``; a generous limit that only a hang can exhaust."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > limit_s:
            pytest.fail(f"still not true after {limit_s:.0f} s")
        time.sleep(0.05)


def wait_for_no_gate_threads(limit_s: float = 20.0) -> float:
    """Seconds until every gate thread is gone (fails the test if some outlive ``limit_s``)."""
    started = time.monotonic()
    while gate_threads():
        if time.monotonic() - started > limit_s:
            pytest.fail(f"threads still running after {limit_s:.0f} s: {[t.name for t in gate_threads()]}")
        time.sleep(0.05)
    return time.monotonic() - started


@pytest.fixture
def warm(gate: Gate, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The AfterAllowTestTraffic handler, loaded once in this process, reporting to the stand-in."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", gate.server.endpoint_url)
    monkeypatch.setenv("TRAFFICGATE_DISABLED_CHECKS", aws_side_checks())
    monkeypatch.setenv("TRAFFICGATE_PLAN_SSM_PREFIX", "off")
    monkeypatch.setenv("TRAFFICGATE_DEADLINE_MARGIN_MS", "1000")
    monkeypatch.setenv("TRAFFICGATE_REPORT_BUDGET_MS", "500")
    reset_runner()
    yield load_handler_module(Hook.AFTER_ALLOW_TEST_TRAFFIC.module_name)
    reset_runner()


def invoke(gate: Gate, module: ModuleType, timeout_s: float) -> tuple[str, str, dict[str, Any]]:
    deployment_id = f"d-WRM{time.monotonic_ns() % 10**6:06d}"
    gate.control.create_ecs_deployment(deployment_id=deployment_id, cluster_name="c", service_name="s")
    execution_id = gate.control.register_hook_execution(deployment_id, Hook.AFTER_ALLOW_TEST_TRAFFIC.value)
    context = LocalLambdaContext(function_name="CodeDeployHook_warm", timeout_s=timeout_s, region=REGION)
    event = {"DeploymentId": deployment_id, "LifecycleEventHookExecutionId": execution_id}
    summary = module.handler(event, context)
    statuses = [r.status for r in gate.control.statuses(deployment_id) if r.execution_id == execution_id]
    assert statuses == [summary["status"]]
    return deployment_id, execution_id, summary


def drips_forever(exchange: Exchange) -> bool:
    exchange.send(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")
    exchange.drip(b"z" * 1_000_000, 0.05)
    return False


@pytest.mark.parametrize("through", ["probe", "custom-check-session"])
def test_abandoned_probes_stop_and_the_thread_count_returns_to_baseline(
    through: str, gate: Gate, warm: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if through == "custom-check-session":
        # A custom check's ctx.http() request knows nothing of the hook's deadline: only the
        # runner calling the checks off (which shuts the session's sockets) can stop it.
        (tmp_path / "stuckchecks.py").write_text(STUCK_CHECK)
        monkeypatch.syspath_prepend(str(tmp_path))
        sys.modules.pop("stuckchecks", None)
        plan = tmp_path / "fetch.yaml"
        plan.write_text(
            "version: 1\nhooks:\n  AfterAllowTestTraffic:\n    - {id: fetch, check: 'stuckchecks:fetches'}\n"
        )
        monkeypatch.setenv("TRAFFICGATE_CHECK_PACKAGES", "stuckchecks")
        monkeypatch.setenv("TRAFFICGATE_PLAN_FILE", str(plan))
    with hostile(drips_forever) as green:
        monkeypatch.setenv("TRAFFICGATE_TEST_URL", green.url)
        monkeypatch.setenv("TRAFFICGATE_REQUEST_TIMEOUT_S", "60")  # only the deadline can stop them
        monkeypatch.setenv("TRAFFICGATE_PROBE_CONCURRENCY", "20")
        reset_runner()
        get_runner()  # the container's init, which Lambda does not count against the timeout
        wait_for_no_gate_threads()
        baseline = own_threads()
        for _ in range(4):
            # 4 s: even on a busy machine more than the 1 s margin is left once the hook starts.
            _, _, summary = invoke(gate, warm, timeout_s=4)
            assert summary["status"] == "Failed"
            assert "deadline" in summary["reason"]
            wait_for_no_gate_threads()
            assert own_threads() <= baseline, [t.name for t in threading.enumerate()]
        # Every connection the probes opened was closed: the server saw each one end.
        eventually(lambda: all(c.closed is not None for c in green.connections))
        assert len(green.connections) >= 4


def test_an_abandoned_check_never_logs_under_the_next_invocation(
    gate: Gate, warm: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "stuckchecks.py").write_text(STUCK_CHECK)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("stuckchecks", None)
    monkeypatch.setenv("TRAFFICGATE_CHECK_PACKAGES", "stuckchecks")
    monkeypatch.setenv("TRAFFICGATE_TEST_URL", "http://127.0.0.1:9")
    plan_a = tmp_path / "a.yaml"
    plan_a.write_text("version: 1\nhooks:\n  AfterAllowTestTraffic:\n    - {id: stuck.a, check: 'stuckchecks:stuck'}\n")
    plan_b = tmp_path / "b.yaml"
    plan_b.write_text(
        "version: 1\nhooks:\n  AfterAllowTestTraffic:\n    - {id: release.b, check: 'stuckchecks:releases'}\n"
    )
    buffer = io.StringIO()
    previous = logger.registered_handler.setStream(buffer)  # type: ignore[attr-defined]
    try:
        monkeypatch.setenv("TRAFFICGATE_PLAN_FILE", str(plan_a))
        reset_runner()
        get_runner()  # the container's init, outside the invocation's time
        _, execution_a, summary_a = invoke(gate, warm, timeout_s=4)
        monkeypatch.setenv("TRAFFICGATE_PLAN_FILE", str(plan_b))
        reset_runner()
        _, execution_b, summary_b = invoke(gate, warm, timeout_s=30)
    finally:
        logger.registered_handler.setStream(previous or sys.stderr)  # type: ignore[attr-defined]

    assert summary_a["status"] == "Failed" and "stuck.a: deadline" in summary_a["reason"]
    assert summary_b["status"] == "Succeeded"
    lines = [json.loads(line) for line in buffer.getvalue().splitlines() if line.startswith("{")]
    under_b = [line for line in lines if line.get("execution_id") == execution_b]
    assert under_b, "the second invocation logged nothing"
    assert not [line for line in under_b if "stuck.a" in json.dumps(line)], "A's late result was logged under B"
    assert sys.modules["stuckchecks"].A_DONE.is_set()  # A's check really did finish during B
    assert execution_a != execution_b
