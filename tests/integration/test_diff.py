"""http.diff end to end: real green and blue servers on 127.0.0.1, the real check and the real hooks.

Nothing here asserts how fast anything was: only what the diff found, and what the hook decided.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.adversarial.hostile import Exchange, hostile
from tests.support.http_apps import HttpApp, Route, serve
from tests.support.standin_env import BlueGreen, StandInEnv, aws_side_check_ids, invoke_hook
from trafficgate.aws import AwsClients
from trafficgate.checks.diff import DIFF_CHECK_ID, HttpDiff
from trafficgate.config import Settings
from trafficgate.context import CheckContext
from trafficgate.hooks import Hook
from trafficgate.outcome import Outcome
from trafficgate.probe import ProbeSpec
from trafficgate.probe.samples import run_samples
from trafficgate.probe.shape import render
from trafficgate.runner import reset_runner
from trafficgate_local.lambda_context import LocalLambdaContext

pytestmark = pytest.mark.integration

ContextFactory = Callable[..., LocalLambdaContext]
JSON = {"Content-Type": "application/json"}
BLUE_BODY = {"total": 2, "items": [{"id": 1, "price": 9.5, "token": "blue-secret-value"}], "meta": {"requestId": "a"}}


def json_route(document: object) -> Route:
    return Route(body=json.dumps(document).encode(), headers=JSON)


def context(green_url: str, blue_url: str, *, deadline_s: float = 30.0, **probe: Any) -> CheckContext:
    return CheckContext(
        hook=Hook.AFTER_ALLOW_TEST_TRAFFIC,
        deployment_id="d-DIFF00001",
        execution_id="exec-1",
        settings=Settings(test_url=green_url, prod_url=blue_url, probe=ProbeSpec(**probe)),
        aws=AwsClients(),
        deadline=time.monotonic() + deadline_s,
    )


def test_identical_answers_pass() -> None:
    with serve(HttpApp(default=json_route(BLUE_BODY))) as green, serve(HttpApp(default=json_route(BLUE_BODY))) as blue:
        result = HttpDiff(paths=("/items", "/other?x=1")).run(context(green.url, blue.url))
        seen = len(green.app.requests), len(blue.app.requests)

    assert result.outcome is Outcome.PASS, result.reason
    assert result.reason.startswith("green answers like blue on 2 path(s), 12 requests")
    assert seen == (6, 6)  # three samples per path and side
    assert result.details["differences"] == []


def test_a_dropped_field_and_a_changed_type_are_named_without_values() -> None:
    changed = {"items": [{"id": 1, "price": "9.50", "token": "green-secret-value"}], "meta": {"requestId": 7}}
    with serve(HttpApp(default=json_route(changed))) as green, serve(HttpApp(default=json_route(BLUE_BODY))) as blue:
        result = HttpDiff(ignore=("$.meta.requestId",)).run(context(green.url, blue.url))

    assert result.outcome is Outcome.FAIL
    assert result.details["differences"] == ["$.items[].price: number → string", "$.total: missing in green"]
    assert result.reason == (
        "green answers differ from blue's: $.items[].price: number → string; $.total: missing in green"
    )
    text = json.dumps(result.details) + result.reason
    assert "secret" not in text and "9.5" not in text


def test_status_and_content_type() -> None:
    down = Route(status=502, body=b"<html>bad gateway</html>", headers={"Content-Type": "text/html"})
    with serve(HttpApp(default=down)) as green, serve(HttpApp(default=json_route(BLUE_BODY))) as blue:
        result = HttpDiff(samples=1).run(context(green.url, blue.url))

    assert result.outcome is Outcome.FAIL
    assert result.details["differences"] == ["status: 2xx → 5xx", "content-type: application/json → text/html"]


def lying_json(exchange: Exchange) -> bool:
    body = b'{"a": [' * 50_000
    exchange.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    return False


def drip_body(exchange: Exchange) -> bool:
    exchange.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
    exchange.drip(b"x" * 100_000, 0.2)
    return False


def test_a_hostile_green_is_a_difference_not_a_crash() -> None:
    with hostile(lying_json) as green, serve(HttpApp(default=json_route(BLUE_BODY))) as blue:
        result = HttpDiff(samples=1).run(context(green.url, blue.url))

    assert result.outcome is Outcome.FAIL, result.reason
    assert result.details["differences"] == ["$: object → not JSON"]


def test_a_dripping_green_is_bounded_by_the_timeout() -> None:
    with hostile(drip_body) as green, serve(HttpApp(default=json_route(BLUE_BODY))) as blue:
        result = HttpDiff(samples=1).run(context(green.url, blue.url, timeout_s=1.0))

    assert result.outcome is Outcome.FAIL, result.reason
    assert result.details["differences"][0] == "status: 2xx → no answer (total_timeout)"


# --- through the hooks -------------------------------------------------------------------------------


@pytest.fixture
def diff_on(standin: StandInEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    """The stand-in fixture switches off every built-in check but the bursts; switch http.diff back on."""
    disabled = [name for name in aws_side_check_ids().split(",") if name != DIFF_CHECK_ID]
    monkeypatch.setenv("TRAFFICGATE_DISABLED_CHECKS", ",".join(disabled))
    reset_runner()


def drop_total(bg: BlueGreen) -> None:
    bg.blue.app.default = json_route(BLUE_BODY)
    bg.green.app.default = json_route({k: v for k, v in BLUE_BODY.items() if k != "total"})


@pytest.mark.usefixtures("diff_on")
def test_built_in_it_reports_a_dropped_field_and_the_hook_still_succeeds(
    standin: StandInEnv, blue_green: BlueGreen, lambda_context: ContextFactory
) -> None:
    drop_total(blue_green)
    summary = invoke_hook(standin, Hook.AFTER_ALLOW_TEST_TRAFFIC, blue_green.deployment_id, lambda_context())

    assert [c["id"] for c in summary["checks"]] == ["http.test_listener", DIFF_CHECK_ID]
    check = summary["checks"][1]
    assert check["outcome"] == "fail" and check["dry_run"] is True
    assert "$.total: missing in green" in check["reason"]
    assert summary["status"] == "Succeeded", summary["reason"]


def test_a_plan_entry_enforces_it(
    standin: StandInEnv,
    blue_green: BlueGreen,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
    lambda_context: ContextFactory,
) -> None:
    drop_total(blue_green)
    plan = tmp_path / "plan.yaml"
    plan.write_text("version: 1\nhooks:\n  BeforeAllowTraffic:\n    - id: http.diff\n      paths: [/orders]\n")
    monkeypatch.setenv("TRAFFICGATE_PLAN_FILE", str(plan))
    reset_runner()
    summary = invoke_hook(standin, Hook.BEFORE_ALLOW_TRAFFIC, blue_green.deployment_id, lambda_context())

    assert summary["status"] == "Failed"
    assert summary["reason"] == f"{DIFF_CHECK_ID}: green answers differ from blue's: $.total: missing in green"
    assert set(blue_green.green.app.paths()) == set(blue_green.blue.app.paths()) == {"/orders"}


@pytest.mark.usefixtures("diff_on")
def test_disabled_checks_remove_it(
    standin: StandInEnv, blue_green: BlueGreen, monkeypatch: pytest.MonkeyPatch, lambda_context: ContextFactory
) -> None:
    monkeypatch.setenv("TRAFFICGATE_DISABLED_CHECKS", aws_side_check_ids())
    reset_runner()
    summary = invoke_hook(standin, Hook.BEFORE_ALLOW_TRAFFIC, blue_green.deployment_id, lambda_context())

    assert [c["id"] for c in summary["checks"]] == ["http.test_listener"]
    assert blue_green.blue.app.requests == []


def _largest_text(value: object, seen: set[int] | None = None) -> int:
    """The longest str or bytes reachable from ``value`` through dataclasses, mappings and sequences."""
    import dataclasses as dc

    seen = set() if seen is None else seen
    if id(value) in seen:
        return 0
    seen.add(id(value))
    if isinstance(value, str | bytes | bytearray):
        return len(value)
    if dc.is_dataclass(value) and not isinstance(value, type):
        children: list[object] = [getattr(value, f.name) for f in dc.fields(value)]
        children += list(getattr(value, "__dict__", {}).values())
    elif isinstance(value, dict):
        children = [*value.keys(), *value.values()]
    elif isinstance(value, list | tuple | set | frozenset):
        children = list(value)
    else:
        children = list(getattr(value, "__dict__", {}).values())
    return max((_largest_text(child, seen) for child in children), default=0)


def test_no_body_outlives_its_pair() -> None:
    # 10 paths x 20 samples x 2 sides of 256 KiB bodies: kept whole, 100 MiB; reduced on arrival, none.
    big = {"items": [{"id": i, "name": "x" * 200} for i in range(1200)]}
    assert len(json.dumps(big)) > 256 * 1024
    with serve(HttpApp(default=json_route(big))) as green, serve(HttpApp(default=json_route(big))) as blue:
        spec = ProbeSpec()
        paths = [f"/p{i}" for i in range(10)]
        sampled = run_samples(spec, green.url, spec, blue.url, paths=paths, samples=20)
    assert [p.path for p in sampled.paths] == paths and sampled.stop_reason == "done"
    assert all(p.green.requests == p.blue.requests == 20 for p in sampled.paths)
    assert _largest_text(sampled) < 1000  # shapes and counts only: no body, no value
    shape = sampled.paths[0].green.shape
    assert shape is not None and {render(path) for path in shape.types} >= {"$.items[].name", "$.items[].id"}
