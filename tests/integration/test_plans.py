"""Check plans through the real handlers: from a file, from SSM per deployment group, custom checks.

The handlers run in this process against the stand-in on 127.0.0.1 (moto's SSM holds the
per-group plans); the probes hit real HTTP servers whose recorded requests tell which plan ran.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.http_apps import HttpApp, Route, RunningServer, serve
from tests.support.lambda_env import ROOT, load_handler_module
from tests.support.standin_env import SAMPLE_DEPLOYMENT_ID, StandInEnv
from trafficgate.hooks import Hook
from trafficgate.runner import reset_runner
from trafficgate_local.lambda_context import LocalLambdaContext

pytestmark = pytest.mark.integration

ContextFactory = Callable[..., LocalLambdaContext]
HOOK = Hook.AFTER_ALLOW_TEST_TRAFFIC
EXAMPLE_PLAN = ROOT / "examples" / "custom_check" / "plan.yaml"
DEFAULT_REQUESTS = 10


def probe_plan(requests: int, *, extra: str = "") -> str:
    head = "version: 1\nhooks:\n  AfterAllowTestTraffic:\n"
    # A fixed burst, so that the plan's request count is what the server sees.
    return f"{head}    - id: http.test_listener\n      requests: {requests}\n      decision: fixed\n{extra}"


@pytest.fixture
def green(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningServer]:
    """The green app behind the test listener; the built-in plan would send 10 requests."""
    with serve(HttpApp()) as server:
        monkeypatch.setenv("TRAFFICGATE_TEST_URL", server.url)
        monkeypatch.setenv("TRAFFICGATE_PROBE_REQUESTS", str(DEFAULT_REQUESTS))
        monkeypatch.setenv("TRAFFICGATE_PROBE_DECISION", "fixed")  # the count is what the server sees
        yield server


def invoke(standin: StandInEnv, context: LocalLambdaContext) -> dict[str, Any]:
    """A fresh container (settings are read at start-up) running the real handler once."""
    reset_runner()
    event = standin.seed_sample(HOOK)
    result: dict[str, Any] = load_handler_module(HOOK.module_name).handler(event, context)
    return result


def group_names(standin: StandInEnv) -> tuple[str, str]:
    info = standin.client("codedeploy").get_deployment(deploymentId=SAMPLE_DEPLOYMENT_ID)["deploymentInfo"]
    return info["applicationName"], info["deploymentGroupName"]


def put_plan(standin: StandInEnv, name: str, text: str) -> None:
    standin.client("ssm").put_parameter(Name=name, Value=text, Type="String", Overwrite=True)


def write_plan(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text(text)
    return path


def statuses(standin: StandInEnv) -> list[str]:
    return [s.status for s in standin.control.statuses(SAMPLE_DEPLOYMENT_ID)]


# --- (a) a plan file ------------------------------------------------------------------------


def test_plan_file_sets_the_burst_size(
    standin: StandInEnv,
    green: RunningServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lambda_context: ContextFactory,
) -> None:
    extra = (
        "    - id: http.ready\n      check: http_probe\n      path: /ready\n      requests: 3\n      decision: fixed\n"
    )
    monkeypatch.setenv("TRAFFICGATE_PLAN_FILE", str(write_plan(tmp_path, probe_plan(7, extra=extra))))

    summary = invoke(standin, lambda_context())

    assert green.app.paths().count("/") == 7
    assert green.app.paths().count("/ready") == 3
    assert len(green.app.requests) == 10
    assert [c["id"] for c in summary["checks"]] == ["http.test_listener", "http.ready"]
    assert [c["outcome"] for c in summary["checks"]] == ["pass", "pass"]
    assert summary["checks"][0]["reason"].startswith("success rate 1.00 >= 0.99 (7/7 ok)")
    assert summary["status"] == "Succeeded" and summary["reason"] == "2/2 checks passed"
    assert statuses(standin) == ["Succeeded"]


def test_relative_plan_file_starts_at_the_function_root(
    standin: StandInEnv,
    green: RunningServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lambda_context: ContextFactory,
) -> None:
    write_plan(tmp_path, probe_plan(4))
    monkeypatch.setenv("LAMBDA_TASK_ROOT", str(tmp_path))
    monkeypatch.setenv("TRAFFICGATE_PLAN_FILE", "plan.yaml")

    summary = invoke(standin, lambda_context())

    assert len(green.app.requests) == 4
    assert summary["status"] == "Succeeded"


def test_missing_plan_file_fails_the_hook_naming_the_file(
    standin: StandInEnv,
    green: RunningServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lambda_context: ContextFactory,
) -> None:
    missing = tmp_path / "nope.yaml"
    monkeypatch.setenv("TRAFFICGATE_PLAN_FILE", str(missing))

    summary = invoke(standin, lambda_context())

    assert statuses(standin) == ["Failed"]
    assert summary["reason"] == f"trafficgate.plan: plan file {missing}: cannot read (No such file or directory)"
    assert green.app.requests == []


# --- (b) a plan per deployment group in SSM --------------------------------------------------------


def test_no_plan_anywhere_runs_the_builtin_defaults(
    standin: StandInEnv, green: RunningServer, lambda_context: ContextFactory
) -> None:
    summary = invoke(standin, lambda_context())

    assert len(green.app.requests) == DEFAULT_REQUESTS
    assert [c["id"] for c in summary["checks"]] == ["http.test_listener"]
    assert summary["status"] == "Succeeded"


def test_ssm_plan_of_the_group_wins_over_the_plan_file(
    standin: StandInEnv,
    green: RunningServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lambda_context: ContextFactory,
) -> None:
    standin.seed_sample(HOOK)
    application, group = group_names(standin)
    put_plan(standin, f"/trafficgate/{application}/{group}", probe_plan(4))
    monkeypatch.setenv("TRAFFICGATE_PLAN_FILE", str(write_plan(tmp_path, probe_plan(7))))

    summary = invoke(standin, lambda_context())

    assert len(green.app.requests) == 4
    assert summary["checks"][0]["reason"].startswith("success rate 1.00 >= 0.99 (4/4 ok)")
    assert statuses(standin) == ["Succeeded"]


def test_ssm_plan_of_another_group_is_not_used(
    standin: StandInEnv,
    green: RunningServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lambda_context: ContextFactory,
) -> None:
    standin.seed_sample(HOOK)
    application, group = group_names(standin)
    put_plan(standin, f"/trafficgate/{application}/{group}-other", probe_plan(4))
    put_plan(standin, f"/trafficgate/{application}-other/{group}", probe_plan(5))

    invoke(standin, lambda_context())
    assert len(green.app.requests) == DEFAULT_REQUESTS  # built-in defaults

    monkeypatch.setenv("TRAFFICGATE_PLAN_FILE", str(write_plan(tmp_path, probe_plan(7))))
    before = len(green.app.requests)
    summary = invoke(standin, lambda_context())
    assert len(green.app.requests) - before == 7  # the file, not the other group's parameter
    assert summary["status"] == "Succeeded"


def test_custom_ssm_prefix(
    standin: StandInEnv, green: RunningServer, monkeypatch: pytest.MonkeyPatch, lambda_context: ContextFactory
) -> None:
    standin.seed_sample(HOOK)
    application, group = group_names(standin)
    put_plan(standin, f"/trafficgate/{application}/{group}", probe_plan(4))
    put_plan(standin, f"/custom/{application}/{group}", probe_plan(3))
    monkeypatch.setenv("TRAFFICGATE_PLAN_SSM_PREFIX", "/custom")

    summary = invoke(standin, lambda_context())

    assert len(green.app.requests) == 3
    assert summary["status"] == "Succeeded"


def test_ssm_prefix_off_skips_the_parameter(
    standin: StandInEnv, green: RunningServer, monkeypatch: pytest.MonkeyPatch, lambda_context: ContextFactory
) -> None:
    standin.seed_sample(HOOK)
    application, group = group_names(standin)
    put_plan(standin, f"/trafficgate/{application}/{group}", probe_plan(4))
    monkeypatch.setenv("TRAFFICGATE_PLAN_SSM_PREFIX", "off")

    invoke(standin, lambda_context())

    assert len(green.app.requests) == DEFAULT_REQUESTS


# --- (c) a malformed plan -----------------------------------------------------------------


def test_malformed_ssm_plan_reports_failed_once_naming_the_field(
    standin: StandInEnv, green: RunningServer, lambda_context: ContextFactory
) -> None:
    standin.seed_sample(HOOK)
    application, group = group_names(standin)
    bad = "version: 1\nhooks:\n  AfterAllowTestTraffic:\n    - id: http.test_listener\n      max_p95_ms: fast\n"
    put_plan(standin, f"/trafficgate/{application}/{group}", bad)

    summary = invoke(standin, lambda_context())

    assert statuses(standin) == ["Failed"]
    assert [c.status for c in standin.control.report_calls()] == ["Failed"]
    assert summary["status"] == "Failed"
    assert summary["reason"] == "trafficgate.plan: hooks.AfterAllowTestTraffic[0].max_p95_ms: expected a number"
    assert [(c["id"], c["outcome"]) for c in summary["checks"]] == [("trafficgate.plan", "error")]
    assert green.app.requests == []  # no probe under a plan nobody could read


def test_malformed_json_plan_in_ssm_names_the_field(
    standin: StandInEnv, green: RunningServer, lambda_context: ContextFactory
) -> None:
    standin.seed_sample(HOOK)
    application, group = group_names(standin)
    bad = {"version": 1, "hooks": {"AfterAllowTestTraffic": [{"id": "http.test_listener", "retries": "x"}]}}
    put_plan(standin, f"/trafficgate/{application}/{group}", json.dumps(bad))

    summary = invoke(standin, lambda_context())

    assert statuses(standin) == ["Failed"]
    assert summary["reason"] == "trafficgate.plan: hooks.AfterAllowTestTraffic[0].retries: expected an integer"


# --- (d) the example custom check ------------------------------------------------------------


def orders_app(schema_version: int) -> HttpApp:
    body = json.dumps({"schema_version": schema_version}).encode()
    return HttpApp(
        routes={"/orders/schema": Route(body=body, headers={"Content-Type": "application/json"})},
        default=Route(body=b'{"status": "ok"}', headers={"X-App-Version": "green"}),
    )


@pytest.mark.parametrize(
    ("schema_version", "status", "reason"),
    [
        (2, "Succeeded", "3/3 checks passed"),
        (1, "Failed", "orders.schema_version: schema_version 1 != expected 2"),
    ],
    ids=["new-schema", "old-schema"],
)
def test_example_custom_check_through_the_handler(
    schema_version: int,
    status: str,
    reason: str,
    standin: StandInEnv,
    monkeypatch: pytest.MonkeyPatch,
    lambda_context: ContextFactory,
) -> None:
    monkeypatch.setenv("TRAFFICGATE_PLAN_FILE", str(EXAMPLE_PLAN))
    monkeypatch.setenv("TRAFFICGATE_CHECK_PACKAGES", "mychecks")
    with serve(orders_app(schema_version)) as server:
        monkeypatch.setenv("TRAFFICGATE_TEST_URL", server.url)
        summary = invoke(standin, lambda_context())

    assert statuses(standin) == [status]
    assert summary["status"] == status
    assert summary["reason"] == reason
    checks = {c["id"]: c for c in summary["checks"]}
    assert list(checks) == ["http.test_listener", "orders.schema_version", "orders.version_header"]
    schema = checks["orders.schema_version"]
    assert (schema["value"], schema["threshold"]) == (schema_version, 2)
    assert schema["outcome"] == ("pass" if schema_version == 2 else "fail")
    assert checks["orders.version_header"]["dry_run"] is True
    assert server.app.paths().count("/orders/schema") == 1


@pytest.mark.parametrize(
    ("packages", "check", "reason"),
    [
        (None, "mychecks.orders:SchemaVersion", "package 'mychecks' is not allowed for custom checks"),
        ("mychecks", "this:s", "package 'this' is not allowed for custom checks"),
        ("mychecks", "os:system", "package 'os' is not allowed for custom checks"),
    ],
    ids=["nothing-allowed", "zen-of-python", "os-system"],
)
def test_a_plan_imports_only_the_packages_the_operator_allows(
    packages: str | None,
    check: str,
    reason: str,
    standin: StandInEnv,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lambda_context: ContextFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Whoever can write the plan must not choose arbitrary code to run: `check: this:s` used to
    # import `this`, whose import-time code printed the Zen of Python.
    sys.modules.pop("this", None)
    if packages is not None:
        monkeypatch.setenv("TRAFFICGATE_CHECK_PACKAGES", packages)
    plan = f"version: 1\nhooks:\n  AfterAllowTestTraffic:\n    - id: x.custom\n      check: {check}\n"
    monkeypatch.setenv("TRAFFICGATE_PLAN_FILE", str(write_plan(tmp_path, plan)))
    with serve(orders_app(2)) as server:
        monkeypatch.setenv("TRAFFICGATE_TEST_URL", server.url)
        summary = invoke(standin, lambda_context())
        probed = server.app.requests

    assert statuses(standin) == ["Failed"]
    assert summary["reason"].startswith(f"trafficgate.plan: hooks.AfterAllowTestTraffic[0].check: {reason}")
    assert "this" not in sys.modules
    assert "Beautiful is better than ugly" not in capsys.readouterr().out
    assert probed == []
