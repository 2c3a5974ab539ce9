"""``elb.targets_healthy`` never takes a state it does not know for healthy.

The ELBv2 API has added target states before (``unhealthy.draining``); whatever a load balancer
says that the check does not know must not pass. The load balancer's answer comes from a botocore
``Stubber`` (the stand-in only speaks the states of today's API); every other state is tested
through the real handlers in tests/integration/test_hook_target_states.py.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from botocore.stub import Stubber

from trafficgate.aws import AwsClients
from trafficgate.checks.base import Outcome
from trafficgate.checks.targets import TargetsHealthy
from trafficgate.config import Settings
from trafficgate.context import CheckContext
from trafficgate.discovery import Deployment, TargetGroup
from trafficgate.hooks import Hook

GREEN_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop-green/6d0ecf831eec9f09"


def context(hook: Hook) -> CheckContext:
    ctx = CheckContext(
        hook=hook,
        deployment_id="d-ABCDEFGH1",
        execution_id="exec-1",
        settings=Settings(),
        aws=AwsClients(region="us-east-1"),
        deadline=time.monotonic() + 30,
    )
    ctx._deployment = Deployment(
        deployment_id="d-ABCDEFGH1",
        application="shop",
        deployment_group="shop-dg",
        deployment_config="CodeDeployDefault.ECSAllAtOnce",
        appspec=None,
        cluster="shop-cluster",
        service="shop-web",
        prod_listeners=(),
        test_listeners=(),
        target_groups=(TargetGroup(name="shop-blue", arn=GREEN_ARN.replace("green", "blue")), TargetGroup(
            name="shop-green", arn=GREEN_ARN
        )),
    )  # fmt: skip
    return ctx


def answer(*states: str) -> dict[str, Any]:
    return {
        "TargetHealthDescriptions": [
            {"Target": {"Id": f"10.0.1.{i}", "Port": 8080}, "TargetHealth": {"State": state}}
            for i, state in enumerate(states, start=1)
        ]
    }


@pytest.mark.parametrize(
    ("hook", "states"),
    [
        (Hook.AFTER_INSTALL, ("quarantined",)),
        (Hook.AFTER_ALLOW_TEST_TRAFFIC, ("healthy", "quarantined")),
        # Before test traffic, unused passes with a note; the other target must still be healthy.
        (Hook.AFTER_INSTALL, ("unused", "quarantined")),
    ],
    ids=["alone", "beside-healthy", "beside-unused"],
)
def test_an_unknown_state_fails_naming_it(hook: Hook, states: tuple[str, ...]) -> None:
    ctx = context(hook)
    stubber = Stubber(ctx.aws.client("elbv2"))
    stubber.add_response("describe_target_health", answer(*states), {"TargetGroupArn": GREEN_ARN})

    with stubber:
        result = TargetsHealthy(timeout_s=0).run(ctx)

    assert result.outcome is Outcome.FAIL, result.reason
    unknown = f"10.0.1.{states.index('quarantined') + 1}:8080 quarantined"
    not_healthy = rf"\d+/{len(states)} targets not healthy in green target group shop-green after \d+ s: "
    assert re.fullmatch(rf"{not_healthy}.*{re.escape(unknown)}.*", result.reason), result.reason
