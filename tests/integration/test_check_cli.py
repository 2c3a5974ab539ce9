"""``trafficgate check``: the dry run in a subprocess against real HTTP servers on 127.0.0.1.

The acceptance: the CLI dry run shows the same verdict as the corresponding hook invocation,
the real AfterAllowTestTraffic handler run against the stand-in with the same plan and server.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.support.http_apps import HttpApp, Route, RunningServer, serve
from tests.support.lambda_env import ROOT, load_handler_module
from tests.support.standin_env import StandInEnv, aws_side_check_ids
from trafficgate.hooks import Hook
from trafficgate.runner import reset_runner
from trafficgate_local.lambda_context import LocalLambdaContext

pytestmark = pytest.mark.integration

ContextFactory = Callable[..., LocalLambdaContext]
HOOK = Hook.AFTER_ALLOW_TEST_TRAFFIC
EXAMPLE = Path("examples") / "custom_check"
EXAMPLE_PLAN = EXAMPLE / "plan.yaml"
EXAMPLE_LAYER = EXAMPLE / "layer"
JSON_CHECK = ("--hook", HOOK.value, "--json")

#: Deterministic reasons: one request at a time (so a failing burst stops at the same request every
#: run) and no latency limit (so no timing shows up in a reason).
PARITY_PLAN = """\
version: 1
hooks:
  AfterAllowTestTraffic:
    - id: http.test_listener
      requests: 10
      decision: fixed
      concurrency: 1
      max_p95_ms: null
    - id: orders.schema_version
      check: mychecks.orders:SchemaVersion
      expected: 2
    - id: orders.version_header
      check: mychecks.orders:version_header
      expected: green
      dry_run: true
"""


def run_check(args: Sequence[str], *, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """``trafficgate check ...`` as a user runs it from the project root, with no TRAFFICGATE_* set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRAFFICGATE_", "POWERTOOLS_", "AWS_ENDPOINT"))}
    return subprocess.run(
        [sys.executable, "-m", "trafficgate_local.cli", "check", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def summary_of(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads(proc.stdout)  # --json: stdout holds the summary only
    return summary


def orders_app(schema_version: int = 2, *, status: int = 200) -> HttpApp:
    body = json.dumps({"schema_version": schema_version}).encode()
    return HttpApp(
        routes={"/orders/schema": Route(body=body, headers={"Content-Type": "application/json"})},
        default=Route(status=status, body=b'{"status": "ok"}', headers={"X-App-Version": "green"}),
    )


# --- the dry run against a local server -------------------------------------------------------


def test_healthy_server_succeeds_and_reports_nothing() -> None:
    # The defaults: a sequential burst that stops once 327 clean requests show the rate above 0.99.
    with serve(HttpApp()) as server:
        proc = run_check([*JSON_CHECK, "--test-url", server.url])
        probed = len(server.app.requests)

    assert proc.returncode == 0, proc.stderr
    summary = summary_of(proc)
    assert summary["status"] == "Succeeded"
    assert summary["report"] == "dry-run"
    assert summary["reason"] == "1/1 checks passed"
    assert [(c["id"], c["outcome"]) for c in summary["checks"]] == [("http.test_listener", "pass")]
    reason = summary["checks"][0]["reason"]
    assert re.match(r"success rate 1\.00 \((\d+)/\1 ok\); shown above 0\.99 at 95% at request 327 \(", reason)
    assert summary["deployment_id"] == "d-DRYRUN000"
    # The requests in flight when the pass was shown still finish (how many: the threads decide).
    assert 327 <= probed <= 400
    # The built-in plan's AWS checks need a deployment, and green against blue the production URL
    # too: left out, and said so.
    assert proc.stderr.strip() == (
        "trafficgate: without --deployment-id, not run: elb.targets_healthy, http.compare, http.diff"
    )


def test_with_both_urls_green_is_compared_with_blue() -> None:
    with serve(HttpApp()) as green, serve(HttpApp()) as blue:
        proc = run_check([*JSON_CHECK, "--test-url", green.url, "--prod-url", blue.url])
        blue_asked = len(blue.app.requests)

    assert proc.returncode == 0, proc.stderr
    summary = summary_of(proc)
    assert [(c["id"], c["outcome"]) for c in summary["checks"]] == [
        ("http.test_listener", "pass"),
        ("http.compare", "pass"),
        ("http.diff", "pass"),
    ]
    compared = summary["checks"][1]["details"]
    assert compared["blue"]["url"].startswith(blue.url) and compared["green"]["url"].startswith(green.url)
    diffed = sum(path["blue"]["requests"] for path in summary["checks"][2]["details"]["paths"].values())
    assert blue_asked == compared["sent"] + diffed and compared["sent"] > 0 and diffed > 0
    assert proc.stderr.strip() == "trafficgate: without --deployment-id, not run: elb.targets_healthy"


def test_all_500_server_fails_with_exit_1() -> None:
    with serve(HttpApp(default=Route(status=500))) as server:
        # The hook name is accepted in snake case too.
        args = ["--hook", "after_allow_test_traffic", "--json", "--test-url", server.url]
        proc = run_check([*args, "--set", "TRAFFICGATE_PROBE_REQUESTS=10", "--set", "TRAFFICGATE_PROBE_DECISION=fixed"])

    assert proc.returncode == 1, proc.stderr
    summary = summary_of(proc)
    assert summary["status"] == "Failed"
    assert summary["report"] == "dry-run"
    assert summary["reason"].startswith("http.test_listener: success rate 0.00 < 0.99 (")
    assert "status 500" in summary["reason"]


def test_human_readable_output_names_the_status_and_the_check() -> None:
    with serve(HttpApp(default=Route(status=503))) as server:
        proc = run_check(
            [
                *("--hook", "AfterAllowTestTraffic", "--test-url", server.url),
                *("--set", "TRAFFICGATE_PROBE_REQUESTS=5", "--set", "TRAFFICGATE_PROBE_DECISION=fixed"),
            ]
        )

    assert proc.returncode == 1, proc.stderr
    assert "http.test_listener" in proc.stdout
    assert "Failed" in proc.stdout or "FAILED" in proc.stdout
    assert not proc.stdout.lstrip().startswith("{")


@pytest.mark.parametrize(
    ("schema_version", "code", "status", "reason"),
    [
        (2, 0, "Succeeded", "3/3 checks passed"),
        (1, 1, "Failed", "orders.schema_version: schema_version 1 != expected 2"),
    ],
    ids=["new-schema", "old-schema"],
)
def test_example_plan_with_its_custom_checks(schema_version: int, code: int, status: str, reason: str) -> None:
    with serve(orders_app(schema_version)) as server:
        proc = run_check(
            [*JSON_CHECK, "--test-url", server.url, "--plan", str(EXAMPLE_PLAN), "--check-path", str(EXAMPLE_LAYER)]
        )

    assert proc.returncode == code, proc.stderr
    summary = summary_of(proc)
    assert (summary["status"], summary["reason"]) == (status, reason)
    assert [c["id"] for c in summary["checks"]] == [
        "http.test_listener",
        "orders.schema_version",
        "orders.version_header",
    ]
    assert summary["checks"][0]["threshold"] == 0.98  # the plan's, not the default 0.99
    assert summary["checks"][2]["dry_run"] is True


def test_custom_checks_without_their_check_path_fail_the_verdict_naming_the_setting() -> None:
    with serve(orders_app()) as server:
        proc = run_check([*JSON_CHECK, "--test-url", server.url, "--plan", str(EXAMPLE_PLAN)])
        probed = len(server.app.requests)

    assert proc.returncode == 1, proc.stderr
    summary = summary_of(proc)
    # Without --check-path no package is allowed, so nothing is imported; the reason names the setting.
    assert summary["reason"] == (
        "trafficgate.plan: hooks.AfterAllowTestTraffic[1].check: package 'mychecks' is not allowed for custom "
        "checks (TRAFFICGATE_CHECK_PACKAGES allows: none)"
    )
    assert probed == 0


# --- usage errors: exit 2 with a message naming the problem -----------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--hook", "AfterTraffic"],
            "trafficgate: unknown hook 'AfterTraffic'; expected one of: BeforeInstall, AfterInstall, "
            "AfterAllowTestTraffic, BeforeAllowTraffic, AfterAllowTraffic",
        ),
        (
            ["--hook", "AfterAllowTestTraffic", "--plan", "no/such/plan.yaml"],
            "trafficgate: plan file no/such/plan.yaml not found",
        ),
        (
            ["--hook", "AfterAllowTestTraffic", "--set", "TRAFFICGATE_PROBE_REQUESTS=abc"],
            "trafficgate: TRAFFICGATE_PROBE_REQUESTS='abc': expected an integer within [1, 10000]",
        ),
        (
            ["--hook", "AfterAllowTestTraffic", "--set", "TRAFFICGATE_PROBE_REQUESTS"],
            "trafficgate: --set expects NAME=VALUE, got 'TRAFFICGATE_PROBE_REQUESTS'",
        ),
        (
            ["--hook", "BeforeInstall"],
            "trafficgate: every check of BeforeInstall reads the deployment from AWS: give --deployment-id",
        ),
    ],
    ids=["bad-hook", "missing-plan", "bad-setting", "set-without-value", "nothing-to-run-without-aws"],
)
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    proc = run_check([*args, "--test-url", "http://127.0.0.1:9"])
    assert proc.returncode == 2
    assert proc.stderr.strip() == message
    assert proc.stdout == ""


# --- the acceptance: the dry run shows the hook's verdict ------------------------------------------

COMPARED = ("id", "outcome", "value", "threshold", "reason", "dry_run", "attempts")


def essentials(summary: dict[str, Any]) -> dict[str, Any]:
    return {
        "status": summary["status"],
        "reason": summary["reason"],
        "checks": [{k: c[k] for k in COMPARED} for c in summary["checks"]],
    }


def hook_verdict(standin: StandInEnv, context: LocalLambdaContext) -> dict[str, Any]:
    """The real handler, in this process, against the stand-in: what CodeDeploy would be told."""
    reset_runner()  # a fresh container reads the settings the test just set
    event = standin.seed_sample(HOOK)
    summary: dict[str, Any] = load_handler_module(HOOK.module_name).handler(event, context)
    recorded = [s.status for s in standin.control.statuses(event["DeploymentId"])]
    assert recorded == [summary["status"]]
    assert summary["report"] == "reported"
    return summary


def dry_run_verdict(server: RunningServer, plan: Path) -> tuple[int, dict[str, Any]]:
    disabled = f"TRAFFICGATE_DISABLED_CHECKS={aws_side_check_ids()}"  # as the standin fixture does
    plan_args = ["--plan", str(plan), "--check-path", str(EXAMPLE_LAYER)]
    proc = run_check([*JSON_CHECK, "--test-url", server.url, *plan_args, "--set", disabled])
    summary = summary_of(proc)
    assert summary["report"] == "dry-run"
    return proc.returncode, summary


@pytest.mark.parametrize(
    ("app", "status"),
    [
        (lambda: orders_app(2), "Succeeded"),
        (lambda: orders_app(1), "Failed"),
        (lambda: orders_app(2, status=500), "Failed"),
    ],
    ids=["healthy", "old-schema", "all-500"],
)
def test_dry_run_shows_the_same_verdict_as_the_hook(
    app: Callable[[], HttpApp],
    status: str,
    standin: StandInEnv,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lambda_context: ContextFactory,
) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(PARITY_PLAN)
    monkeypatch.setenv("TRAFFICGATE_PLAN_FILE", str(plan))
    monkeypatch.setenv("TRAFFICGATE_CHECK_PACKAGES", "mychecks")  # what --check-path allows for the CLI
    with serve(app()) as server:
        monkeypatch.setenv("TRAFFICGATE_TEST_URL", server.url)
        code, dry = dry_run_verdict(server, plan)
        hooked = hook_verdict(standin, lambda_context())

    assert essentials(dry) == essentials(hooked)
    assert dry["status"] == status
    assert code == (0 if status == "Succeeded" else 1)
    assert [c["id"] for c in dry["checks"]] == ["http.test_listener", "orders.schema_version", "orders.version_header"]


def test_dry_run_of_the_builtin_plan_matches_the_hook(
    standin: StandInEnv, monkeypatch: pytest.MonkeyPatch, lambda_context: ContextFactory
) -> None:
    """No plan at all: both run the built-in AfterAllowTestTraffic plan with the same settings."""
    settings = {
        "TRAFFICGATE_PROBE_REQUESTS": "10",
        "TRAFFICGATE_PROBE_CONCURRENCY": "1",
        "TRAFFICGATE_PROBE_DECISION": "fixed",
    }
    with serve(HttpApp(default=Route(status=502))) as server:
        settings["TRAFFICGATE_TEST_URL"] = server.url
        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        sets = [f"--set={name}={value}" for name, value in settings.items()]
        proc = run_check([*JSON_CHECK, *sets, f"--set=TRAFFICGATE_DISABLED_CHECKS={aws_side_check_ids()}"])
        hooked = hook_verdict(standin, lambda_context())

    dry = summary_of(proc)
    assert proc.returncode == 1
    assert essentials(dry) == essentials(hooked)
    assert dry["reason"] == "http.test_listener: success rate 0.00 < 0.99 (0/1 ok; status 502 x1); stopped early"


WAITING_CHECK = '''\
from dataclasses import dataclass
import time

from trafficgate.checks.base import Check, CheckResult


@dataclass(kw_only=True)
class BakesFor(Check):
    """Waits ``seconds`` from its first look, across as many invocations as that takes."""

    seconds: float = 6.0

    def run(self, ctx):
        since = float((ctx.resumed or {}).get("since", time.time()))
        left = since + self.seconds - time.time()
        if left > 0 and ctx.can_wait_until(since + self.seconds):
            return CheckResult.wait(f"{left:.0f} s to go", after_s=left, state={"since": since})
        return CheckResult.passed(f"waited {time.time() - since:.0f} s of {self.seconds:.0f} s")
'''


def test_a_check_that_outlasts_the_invocation_continues_in_local_links(tmp_path: Path) -> None:
    # --timeout 8 leaves 5 s after the deadline margin: a six-second wait needs more than one link,
    # which the dry run runs here, as Lambda would run the function's asynchronous self-invocation.
    package = tmp_path / "layer" / "waitchecks"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "bake.py").write_text(WAITING_CHECK)
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "version: 1\nhooks:\n  AfterAllowTestTraffic:\n    - id: demo.bake\n      check: waitchecks.bake:BakesFor\n"
    )
    with serve(orders_app()) as server:
        proc = run_check(
            [
                *JSON_CHECK,
                "--test-url",
                server.url,
                "--plan",
                str(plan),
                "--check-path",
                str(tmp_path / "layer"),
                "--timeout",
                "8",
            ]
        )

    assert proc.returncode == 0, proc.stderr
    summary = summary_of(proc)
    assert summary["status"] == "Succeeded", summary["reason"]
    assert re.fullmatch(r"waited \d+ s of 6 s", summary["checks"][0]["reason"])
    waited = int(summary["checks"][0]["reason"].split()[1])
    assert waited >= 6
