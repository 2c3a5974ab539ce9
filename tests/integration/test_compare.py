"""http.compare end to end: real green and blue servers on 127.0.0.1, the real check and the real hooks.

The effects are made by the servers (a deterministic delay, every k-th answer an error) and chosen
large enough to be decided whatever else the machine is doing: nothing here asserts how fast a
request was, only what the comparison concluded and on how many pairs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.adversarial.hostile import Exchange, hostile
from tests.support.http_apps import HttpApp, Route, RunningServer, serve
from tests.support.standin_env import BlueGreen, StandInEnv, aws_side_check_ids, invoke_hook
from trafficgate.aws import AwsClients
from trafficgate.checks.compare import COMPARE_CHECK_ID, HttpCompare
from trafficgate.config import Settings
from trafficgate.context import CheckContext
from trafficgate.hooks import Hook
from trafficgate.outcome import CheckResult, Outcome
from trafficgate.probe import ProbeSpec
from trafficgate.probe.compare_spec import CompareSpec
from trafficgate.runner import reset_runner
from trafficgate_local.lambda_context import LocalLambdaContext
from trafficgate_local.report_html.evidence import latency_series

pytestmark = pytest.mark.integration

ContextFactory = Callable[..., LocalLambdaContext]
CAP = 400


def context(green_url: str, blue_url: str, *, deadline_s: float = 60.0, **probe: Any) -> CheckContext:
    """A hook's context whose listeners are the two servers (the operator's URL overrides)."""
    return CheckContext(
        hook=Hook.AFTER_ALLOW_TEST_TRAFFIC,
        deployment_id="d-COMPARE01",
        execution_id="exec-1",
        settings=Settings(test_url=green_url, prod_url=blue_url, probe=ProbeSpec(**{"concurrency": 2, **probe})),
        aws=AwsClients(),
        deadline=time.monotonic() + deadline_s,
    )


@contextmanager
def pair_of(green: Route, blue: Route) -> Iterator[tuple[RunningServer, RunningServer]]:
    with serve(HttpApp(default=green)) as g, serve(HttpApp(default=blue)) as b:
        yield g, b


def compare(green: RunningServer, blue: RunningServer, **spec: Any) -> CheckResult:
    ctx = context(green.url, blue.url)
    return HttpCompare(comparison=CompareSpec(**spec)).run(ctx)


def test_an_equal_green_passes_before_the_cap() -> None:
    with pair_of(Route(), Route()) as (green, blue):
        result = compare(green, blue)
        green_seen, blue_seen = len(green.app.requests), len(blue.app.requests)

    assert result.outcome is Outcome.PASS, result.reason
    assert result.reason.startswith("green no worse than blue: error rate 0.000 vs 0.000"), result.reason
    pairs = result.details["pairs"]
    assert result.details["decided_at"] == pairs < CAP  # shown good enough: no more requests than needed
    assert result.details["stopped"] == "decided"
    # Every pair sent went to both sides; the ones that finished after the decision were not judged.
    assert green_seen == blue_seen == result.details["sent"] == pairs + result.details["unjudged"]
    for side in ("green", "blue"):
        figures = result.details[side]
        assert (figures["requests"], figures["errors"], figures["error_rate"]) == (pairs, 0, 0.0)
        assert figures["p50_ms"] <= figures["p90_ms"] <= figures["p99_ms"]
        assert len(figures["latency_samples_ms"]) == min(pairs, 200)
        assert sum(figures["over_time"]["requests"]) == pairs and sum(figures["over_time"]["failures"]) == 0
    # The evidence page (--html) draws the two sides as green against blue.
    record = {"id": COMPARE_CHECK_ID, "outcome": "pass", "details": result.details}
    assert [s.side for s in latency_series(record)] == ["blue", "green"]


def test_a_green_many_times_slower_fails_naming_the_latency() -> None:
    # 80 ms against 2 ms: even 100 ms of scheduling noise on both sides leaves x1.76 and +78 ms.
    with pair_of(Route(delay_s=0.08), Route(delay_s=0.002)) as (green, blue):
        result = compare(green, blue)

    assert result.outcome is Outcome.FAIL, result.reason
    assert result.reason.startswith("green slower than blue: median "), result.reason
    assert result.reason.endswith(" pairs at alpha 0.002")  # latency's share of alpha 0.01
    details = result.details
    assert details["pairs"] < CAP and details["stopped"] == "decided"
    assert details["latency_ratio"] > 1.25 and details["latency_difference_ms"] > 5
    assert details["slower_share_ci"][0] > 0.5  # shown slower than allowed more often than not
    assert details["green"]["errors"] == details["blue"]["errors"] == 0


def test_a_green_erroring_one_time_in_five_fails_naming_the_errors() -> None:
    with pair_of(Route(error_every=5), Route()) as (green, blue):
        result = compare(green, blue)

    assert result.outcome is Outcome.FAIL, result.reason
    assert result.reason.startswith("green fails more often than blue: error rate 0."), result.reason
    details = result.details
    assert details["green"]["error_counts"] == {"status": details["green"]["errors"]}
    assert details["green"]["status_counts"][500] == details["green"]["errors"] > 0
    assert details["blue"]["errors"] == 0
    assert details["error_rate_increase_ci"][0] > 0.0  # shown above zero at the check's alpha
    assert details["green"]["failure_samples"][0]["status"] == 500


def test_both_sides_erroring_alike_never_fails() -> None:
    with pair_of(Route(error_every=10), Route(error_every=10)) as (green, blue):
        result = compare(green, blue, max_requests=200)

    assert result.outcome in (Outcome.PASS, Outcome.INCONCLUSIVE), result.reason
    assert result.details["green"]["errors"] > 0 and result.details["blue"]["errors"] > 0
    if result.outcome is Outcome.INCONCLUSIVE:
        assert result.reason.startswith("inconclusive after 200 pairs (the cap of 200 requests per side): ")
        assert result.details["stopped"] == "cap" and result.details["pairs"] == 200


# --- a hostile green ----------------------------------------------------------------------------


def drip_body(exchange: Exchange) -> bool:
    exchange.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
    exchange.drip(b"x" * 100_000, 0.2)
    return False


def huge_headers(exchange: Exchange) -> bool:
    exchange.send(b"HTTP/1.1 200 OK\r\nX-Huge: " + b"y" * 200_000 + b"\r\nContent-Length: 0\r\n\r\n")
    return False


def many_headers(exchange: Exchange) -> bool:
    lines = b"".join(b"X-%d: v\r\n" % i for i in range(500))
    exchange.send(b"HTTP/1.1 200 OK\r\n" + lines + b"Content-Length: 0\r\n\r\n")
    return False


@pytest.mark.parametrize("behaviour", [drip_body, huge_headers, many_headers], ids=lambda b: b.__name__)
def test_a_hostile_green_still_gives_one_verdict_before_the_deadline(behaviour: Callable[[Exchange], bool]) -> None:
    with hostile(behaviour) as green, serve(HttpApp()) as blue:
        ctx = context(green.url, blue.url, deadline_s=30.0, timeout_s=0.5)
        result = HttpCompare().run(ctx)
        returned = time.monotonic()

    # Each request is cut at its 0.5 s budget: the comparison ends long before the hook's deadline.
    assert returned < ctx.deadline
    assert result.outcome is Outcome.FAIL, result.reason
    assert result.reason.startswith("green fails more often than blue: error rate 1.000 vs 0.000"), result.reason
    green_side = result.details["green"]
    assert sum(green_side["error_counts"].values()) == green_side["errors"] == result.details["pairs"]
    assert result.details["blue"]["errors"] == 0


def test_a_dripping_green_with_the_deadline_near_ends_at_the_deadline() -> None:
    with hostile(drip_body) as green, serve(HttpApp()) as blue:
        ctx = context(green.url, blue.url, deadline_s=2.5, timeout_s=10.0)
        result = HttpCompare().run(ctx)
        returned = time.monotonic()

    # Every green request is still dripping when the pairs must stop (a second before the check's
    # deadline): cut there, not judged, and the check's own result is back before its deadline.
    assert returned < ctx.deadline
    assert result.outcome is Outcome.INCONCLUSIVE, result.reason
    assert result.reason == "inconclusive: no pair completed before the deadline"
    assert result.details["stopped"] == "deadline"


# --- through the hooks -------------------------------------------------------------------------------


@pytest.fixture
def compare_on(standin: StandInEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    """The stand-in fixture switches off every built-in check but the bursts; switch http.compare back on."""
    disabled = [name for name in aws_side_check_ids().split(",") if name != COMPARE_CHECK_ID]
    monkeypatch.setenv("TRAFFICGATE_DISABLED_CHECKS", ",".join(disabled))
    reset_runner()


@pytest.mark.usefixtures("compare_on")
def test_after_allow_test_traffic_compares_green_with_blue(
    standin: StandInEnv, blue_green: BlueGreen, lambda_context: ContextFactory
) -> None:
    bg = blue_green
    bg.green.app.default = Route(delay_s=0.08)
    bg.blue.app.default = Route(delay_s=0.002)
    summary = invoke_hook(standin, Hook.AFTER_ALLOW_TEST_TRAFFIC, bg.deployment_id, lambda_context())

    ids = [c["id"] for c in summary["checks"]]
    assert ids == ["http.test_listener", COMPARE_CHECK_ID]
    check = summary["checks"][1]
    assert summary["status"] == "Failed"
    assert summary["reason"].startswith(f"{COMPARE_CHECK_ID}: green slower than blue: median "), summary["reason"]
    assert summary["checks"][0]["outcome"] == "pass"  # green alone is under the absolute p95 limit
    details = check["details"]
    assert check["outcome"] == "fail"
    # Found through discovery: the test listener's port is green's, the production listener's blue's.
    assert f":{bg.green.port}/" in details["green"]["url"] and f":{bg.blue.port}/" in details["blue"]["url"]
    assert details["pairs"] == details["decided_at"] < CAP
    assert details["thresholds"]["max_latency_increase"] == 1.25
    assert set(details) >= {"error_rate_increase", "error_rate_increase_ci", "latency_ratio", "slower_share_ci"}
    assert check["value"]["latency_ratio"] > 1.25
    assert len(bg.blue.app.requests) >= details["pairs"]
    statuses = [(s.lifecycle_event_name, s.status) for s in standin.control.statuses(bg.deployment_id)]
    assert statuses == [("AfterAllowTestTraffic", "Failed")]


@pytest.mark.usefixtures("compare_on")
def test_before_allow_traffic_passes_an_equal_green(
    standin: StandInEnv, blue_green: BlueGreen, lambda_context: ContextFactory
) -> None:
    summary = invoke_hook(standin, Hook.BEFORE_ALLOW_TRAFFIC, blue_green.deployment_id, lambda_context())

    check = next(c for c in summary["checks"] if c["id"] == COMPARE_CHECK_ID)
    assert summary["status"] == "Succeeded", summary["reason"]
    assert check["outcome"] == "pass", check["reason"]
    assert check["details"]["pairs"] < CAP


@pytest.mark.usefixtures("compare_on")
def test_compare_off_removes_it(
    standin: StandInEnv, blue_green: BlueGreen, monkeypatch: pytest.MonkeyPatch, lambda_context: ContextFactory
) -> None:
    monkeypatch.setenv("TRAFFICGATE_COMPARE", "off")
    reset_runner()
    summary = invoke_hook(standin, Hook.AFTER_ALLOW_TEST_TRAFFIC, blue_green.deployment_id, lambda_context())

    assert [c["id"] for c in summary["checks"]] == ["http.test_listener"]
    assert blue_green.blue.app.requests == []


@pytest.mark.usefixtures("compare_on")
def test_without_a_test_listener_it_is_skipped_saying_which(
    standin: StandInEnv, monkeypatch: pytest.MonkeyPatch, lambda_context: ContextFactory
) -> None:
    from tests.support.standin_env import build_topology

    with serve(HttpApp()) as blue:
        topology = build_topology(standin, prod_port=blue.port, test_port=None)
        monkeypatch.setenv("TRAFFICGATE_RESOLVE", f"{topology.dns_name}=127.0.0.1")
        reset_runner()
        summary = invoke_hook(standin, Hook.AFTER_ALLOW_TEST_TRAFFIC, topology.deploy(standin), lambda_context())
        sent = len(blue.app.requests)

    check = next(c for c in summary["checks"] if c["id"] == COMPARE_CHECK_ID)
    assert check["outcome"] == "pass"
    assert check["reason"] == "deployment group has no test listener; green-against-blue comparison skipped"
    assert check["warnings"] == [check["reason"]]
    assert sent == 0  # blue alone is never probed in green's place
    assert summary["status"] == "Succeeded"


def test_a_plan_entry_with_its_own_parameters(
    standin: StandInEnv,
    blue_green: BlueGreen,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
    lambda_context: ContextFactory,
) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "version: 1\n"
        "hooks:\n"
        "  AfterAllowTestTraffic:\n"
        "    - id: http.compare\n"
        "      path: /orders\n"
        "      concurrency: 1\n"
        "      max_requests: 30\n"
        "      alpha: 0.05\n"
        "      on_inconclusive: pass\n"
    )
    monkeypatch.setenv("TRAFFICGATE_PLAN_FILE", str(plan))
    reset_runner()
    summary = invoke_hook(standin, Hook.AFTER_ALLOW_TEST_TRAFFIC, blue_green.deployment_id, lambda_context())

    (check,) = summary["checks"]
    assert check["id"] == COMPARE_CHECK_ID
    assert check["details"]["thresholds"]["max_requests"] == 30 and check["details"]["thresholds"]["alpha"] == 0.05
    # 30 clean pairs cannot show "within one point" at this level: open at the cap, and the plan said pass.
    assert check["outcome"] == "inconclusive", check["reason"]
    assert check["reason"].startswith("inconclusive after 30 pairs (the cap of 30 requests per side): ")
    assert summary["status"] == "Succeeded"
    assert set(blue_green.green.app.paths()) == set(blue_green.blue.app.paths()) == {"/orders"}
    assert len(blue_green.green.app.requests) == len(blue_green.blue.app.requests) == 30
