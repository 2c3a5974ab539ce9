"""The example custom checks, both ways, against real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from mychecks.orders import SchemaVersion, version_header

from tests.support.http_apps import HttpApp, Route, serve
from trafficgate.aws import AwsClients
from trafficgate.checks.base import Outcome
from trafficgate.config import Settings
from trafficgate.context import CheckContext
from trafficgate.hooks import Hook
from trafficgate.plan import parse_plan_text

PLAN = Path(__file__).resolve().parents[1] / "plan.yaml"


def orders_app(version: int, header: str) -> HttpApp:
    body = json.dumps({"schema_version": version}).encode()
    return HttpApp(
        routes={"/orders/schema": Route(body=body, headers={"Content-Type": "application/json"})},
        default=Route(body=b'{"status": "ok"}', headers={"X-App-Version": header}),
    )


MakeContext = Callable[[str], CheckContext]


@pytest.fixture
def context() -> MakeContext:
    """A check context whose test listener is ``url`` (the operator's override), as in a hook."""

    def make(url: str) -> CheckContext:
        settings = Settings.from_env({"TRAFFICGATE_TEST_URL": url, "TRAFFICGATE_PLAN_SSM_PREFIX": "off"})
        return CheckContext(
            hook=Hook.AFTER_ALLOW_TEST_TRAFFIC,
            deployment_id="d-EXAMPLE11",
            execution_id="example",
            settings=settings,
            aws=AwsClients(),
            deadline=time.monotonic() + 30,
        )

    return make


def test_schema_version_passes_on_the_new_schema(context: MakeContext) -> None:
    with serve(orders_app(2, "green")) as server:
        result = SchemaVersion(expected=2).run(context(server.url))
    assert result.outcome is Outcome.PASS
    assert result.value == 2


def test_schema_version_fails_on_the_old_schema(context: MakeContext) -> None:
    with serve(orders_app(1, "green")) as server:
        result = SchemaVersion(expected=2).run(context(server.url))
    assert result.outcome is Outcome.FAIL
    assert result.reason == "schema_version 1 != expected 2"


def test_schema_version_fails_when_the_endpoint_is_missing(context: MakeContext) -> None:
    app = HttpApp(routes={"/orders/schema": Route(status=404, body=b"not found")})
    with serve(app) as server:
        result = SchemaVersion().run(context(server.url))
    assert result.outcome is Outcome.FAIL
    assert result.reason == "GET /orders/schema answered 404"


def test_version_header_both_ways(context: MakeContext) -> None:
    with serve(orders_app(2, "green")) as server:
        ctx = context(server.url)
        assert version_header(ctx, expected="green").outcome is Outcome.PASS
        failed = version_header(ctx, expected="blue")
    assert failed.outcome is Outcome.FAIL
    assert failed.reason == "X-App-Version is 'green', expected 'blue'"


def test_the_example_plan_builds_these_checks() -> None:
    plan = parse_plan_text(PLAN.read_text(), source=str(PLAN))  # the built-in types, and dotted paths
    checks = plan.checks_for(Hook.AFTER_ALLOW_TEST_TRAFFIC)
    assert checks is not None
    assert [c.check_id for c in checks] == ["http.test_listener", "orders.schema_version", "orders.version_header"]
    assert checks[0].policy.consecutive_failures == 2
    assert isinstance(checks[1], SchemaVersion) and checks[1].expected == 2
    assert checks[2].policy.dry_run
    assert plan.checks_for(Hook.BEFORE_INSTALL) is None  # left to the built-in plan
