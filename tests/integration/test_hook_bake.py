"""A bake longer than the function's time, through the real AfterAllowTraffic handler.

``TRAFFICGATE_BAKE_SECONDS`` asks for more than the function has left. The bake must be cut so
that the one ``GetMetricData`` read and the checks after it still fit before the deadline, and the
verdict must say so. Before the cut, the bake ran into the deadline, nothing was left for the read,
and every such deployment rolled back.

Green's ALB metrics are put into the stand-in's CloudWatch at the start of the window the hook
asks for (read from the request as it is built), so they are in the window whenever the minute
turns; no duration is asserted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.standin_env import BlueGreen, StandInEnv, aws_side_check_ids, invoke_hook
from trafficgate.checks.alarms import ALARMS_CHECK_ID
from trafficgate.checks.http import PROD_LISTENER_CHECK_ID
from trafficgate.checks.metrics import (
    FIVE_XX_RATE_CHECK_ID,
    TARGET_P95_CHECK_ID,
    UNHEALTHY_HOSTS_CHECK_ID,
    arn_suffix,
)
from trafficgate.hooks import Hook
from trafficgate.runner import get_runner, reset_runner
from trafficgate_local.lambda_context import LocalLambdaContext

pytestmark = pytest.mark.integration

ContextFactory = Callable[..., LocalLambdaContext]
METRIC_CHECKS = (FIVE_XX_RATE_CHECK_ID, TARGET_P95_CHECK_ID, UNHEALTHY_HOSTS_CHECK_ID)
BAKE_SECONDS = 600
#: A function timeout far below the bake, with room after the deadline margin (3 s) for the read
#: reserve (10 s), the checks after the bake and a few seconds of bake.
TIMEOUT_S = 30


def test_a_bake_longer_than_the_function_allows_is_cut_and_the_verdict_says_so(
    standin: StandInEnv, blue_green: BlueGreen, monkeypatch: pytest.MonkeyPatch, lambda_context: ContextFactory
) -> None:
    bg = blue_green
    elbv2 = standin.client("elbv2")
    # AllowTraffic happened: the production listener now routes to green.
    elbv2.modify_listener(ListenerArn=bg.topology.prod_listener_arn, Port=bg.green.port)
    green_tg = elbv2.describe_target_groups(Names=[bg.topology.green_target_group])["TargetGroups"][0]
    dimensions = [
        {"Name": "TargetGroup", "Value": arn_suffix(green_tg["TargetGroupArn"], "targetgroup")},
        {"Name": "LoadBalancer", "Value": arn_suffix(bg.topology.load_balancer_arn, "loadbalancer")},
    ]
    on = {ALARMS_CHECK_ID, *METRIC_CHECKS}
    monkeypatch.setenv(
        "TRAFFICGATE_DISABLED_CHECKS", ",".join(c for c in aws_side_check_ids().split(",") if c not in on)
    )
    monkeypatch.setenv("TRAFFICGATE_BAKE_SECONDS", str(BAKE_SECONDS))
    # Within one invocation: a hook that may continue would hand the rest of the bake to its next
    # link instead (tests/unit/test_continuation.py, tests/integration/test_long_waits.py).
    monkeypatch.setenv("TRAFFICGATE_CONTINUATION", "off")
    reset_runner()

    reads: list[tuple[datetime, datetime]] = []

    def green_traffic_in_the_window(params: dict[str, Any], **_: Any) -> None:
        """Green served 200 requests, 1 of them 5xx, in the window the hook is about to read."""
        start: datetime = params["StartTime"]
        reads.append((start, params["EndTime"]))
        standin.client("cloudwatch").put_metric_data(
            Namespace="AWS/ApplicationELB",
            MetricData=[
                {"MetricName": name, "Dimensions": dimensions, "Timestamp": start, "Value": value}
                for name, value in (
                    ("RequestCount", 200.0),
                    ("HTTPCode_Target_5XX_Count", 1.0),
                    ("TargetResponseTime", 0.05),
                    ("UnHealthyHostCount", 0.0),
                )
            ],
        )

    get_runner().clients.client("cloudwatch").meta.events.register(
        "before-parameter-build.cloudwatch.GetMetricData", green_traffic_in_the_window
    )
    context = lambda_context(timeout_s=TIMEOUT_S)
    killed_at = datetime.now(UTC) + timedelta(milliseconds=context.get_remaining_time_in_millis())

    summary = invoke_hook(standin, Hook.AFTER_ALLOW_TRAFFIC, bg.deployment_id, context)

    # The verdict came, in time, and everything after the bake ran and judged.
    statuses = standin.control.statuses(bg.deployment_id)
    assert [(s.lifecycle_event_name, s.status) for s in statuses] == [("AfterAllowTraffic", "Succeeded")]
    assert statuses[0].time < killed_at
    assert summary["status"] == "Succeeded", summary["reason"]
    assert [(c["id"], c["outcome"]) for c in summary["checks"]] == [
        (ALARMS_CHECK_ID, "pass"),
        *((check_id, "pass") for check_id in METRIC_CHECKS),
        (PROD_LISTENER_CHECK_ID, "pass"),
    ]
    assert len(reads) == 1  # one GetMetricData for the three metric checks, after the cut bake
    assert len(bg.green.app.requests) > 0  # and the production burst after them
    # Each metric check judged what it read, and names the cut and the setting to change.
    checks = {c["id"]: c for c in summary["checks"]}
    cut = (
        rf"bake cut to \d+ s of {BAKE_SECONDS} s so that the metric read and the checks after it fit before the "
        r"hook's deadline \(raise the function's Timeout or lower TRAFFICGATE_BAKE_SECONDS\)"
    )
    assert re.fullmatch(
        rf"5xx rate 0\.0050 <= 0\.0100 \(1/200 requests, .+ UTC\); {cut}", checks[FIVE_XX_RATE_CHECK_ID]["reason"]
    )
    assert re.fullmatch(
        rf"target p95 50 ms <= 1000 ms \(200 requests, .+ UTC\); {cut}", checks[TARGET_P95_CHECK_ID]["reason"]
    )
    assert re.fullmatch(rf"max UnHealthyHostCount 0 <= 0 \(.+ UTC\); {cut}", checks[UNHEALTHY_HOSTS_CHECK_ID]["reason"])
    for check_id in METRIC_CHECKS:
        assert any(re.fullmatch(cut, w) for w in checks[check_id]["warnings"]), checks[check_id]["warnings"]
