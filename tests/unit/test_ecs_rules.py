"""ECS native discovery's pure parts: listener rule ARNs, blue and green, and probing through a rule's conditions."""

from __future__ import annotations

import time
from typing import Any

import pytest

from trafficgate.aws import AwsClients
from trafficgate.config import Settings
from trafficgate.context import CheckContext
from trafficgate.discovery import Deployment, DiscoveryError, Listener, TargetGroup
from trafficgate.discovery.ecs_native import _blue_green, _with_rule, listener_of
from trafficgate.discovery.models import concrete
from trafficgate.exceptions import CheckError
from trafficgate.hooks import Hook
from trafficgate.probe.spec import ProbeSpec

PREFIX = "arn:aws:elasticloadbalancing:us-east-1:123456789012"
RULE = f"{PREFIX}:listener-rule/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"
LISTENER = f"{PREFIX}:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2"


def test_a_rules_listener_is_its_parent() -> None:
    assert listener_of(RULE) == LISTENER
    with pytest.raises(DiscoveryError, match="is not an ELBv2 listener rule ARN"):
        listener_of(LISTENER)


@pytest.mark.parametrize(
    ("production", "test", "shifted", "expected"),
    [
        ({"tg-a": 100, "tg-b": 0}, None, False, ("tg-a", "tg-b")),  # before the test shift: production is blue
        ({"tg-b": 100}, {"tg-b": 100}, False, ("tg-b", "tg-a")),  # ECS alternates the groups
        ({"tg-a": 100}, {"tg-b": 100}, True, ("tg-a", "tg-b")),  # after it: the test rule names green
        ({"tg-a": 90, "tg-b": 10}, {"tg-b": 100}, True, ("tg-a", "tg-b")),  # a canary step
        ({"tg-b": 100}, {"tg-b": 100}, True, ("tg-a", "tg-b")),  # production shifted: still green
        ({"tg-a": 100}, {}, True, ("tg-a", "tg-b")),  # no test rule weights: production decides
    ],
)
def test_blue_and_green(
    production: dict[str, int], test: dict[str, int] | None, shifted: bool, expected: tuple[str, str]
) -> None:
    assert _blue_green("tg-a", "tg-b", production, test, shifted) == expected


def listener(**rule: Any) -> Listener:
    base = Listener(arn=LISTENER, protocol="HTTP", port=8080, load_balancer_arn="lb", dns_name="web.elb.example")
    return _with_rule(base, RULE, rule.get("conditions", []))


def test_conditions_become_what_the_probe_sends() -> None:
    found = listener(
        conditions=[
            {"Field": "host-header", "HostHeaderConfig": {"Values": ["*.shop.example", "shop.example"]}},
            {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Canary", "Values": ["gr?en*"]}},
            {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*", "/health"]}},
        ]
    )
    assert found.rule_host == "shop.example"  # a name without wildcards wins
    assert found.rule_headers == (("X-Canary", "grxenprobe"),)
    assert found.path_allowed("/health") and found.path_allowed("/api/v1/items?x=1")
    assert not found.path_allowed("/") and not found.path_allowed("/API/x")  # ALB patterns are case-sensitive
    assert listener(conditions=[{"Field": "host-header", "Values": ["*.example.com"]}]).rule_host == "probe.example.com"
    assert concrete("a?b*") == "axbprobe"


def context(found: Listener, **settings: Any) -> CheckContext:
    deployment = Deployment(
        deployment_id="arn:aws:ecs:us-east-1:123456789012:service-deployment/c/s/x",
        application="s",
        deployment_group="c",
        deployment_config="BLUE_GREEN",
        appspec=None,
        cluster="c",
        service="s",
        prod_listeners=(found,),
        test_listeners=(found,),
        target_groups=(TargetGroup(name="a", arn="tg-a"), TargetGroup(name="b", arn="tg-b")),
    )
    ctx = CheckContext(
        hook=Hook.AFTER_ALLOW_TEST_TRAFFIC,
        deployment_id=deployment.deployment_id,
        execution_id="x",
        settings=Settings(**settings),
        aws=AwsClients(),
        deadline=time.monotonic() + 30,
        platform="ecs",
    )
    ctx._deployment = deployment
    return ctx


def test_the_probe_satisfies_the_rule_unless_the_operator_said_otherwise() -> None:
    found = listener(
        conditions=[
            {"Field": "host-header", "HostHeaderConfig": {"Values": ["shop.example"]}},
            {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Canary", "Values": ["green"]}},
        ]
    )
    spec = context(found).probe_spec("test")
    assert spec.host_header == "shop.example" and spec.headers == {"X-Canary": "green"}
    own = context(found, probe=ProbeSpec(host_header="mine.example", headers={"x-canary": "mine"})).probe_spec("test")
    assert own.host_header == "mine.example" and own.headers == {"x-canary": "mine"}
    assert context(found, test_url="http://127.0.0.1:9").probe_spec("test").host_header is None


def test_a_probe_path_the_rule_does_not_route_is_an_error_naming_the_setting() -> None:
    found = listener(conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*"]}}])
    with pytest.raises(CheckError) as caught:
        context(found).probe_spec("test")
    assert str(caught.value) == (
        f"the probe path '/' does not match the test listener rule {RULE}'s path patterns (/api/*), so its requests "
        "would not reach the service: set TRAFFICGATE_PROBE_PATH (or path in the plan) to a path the rule routes"
    )
    assert context(found, probe=ProbeSpec(path="/api/health")).probe_spec("test").path == "/api/health"


def test_revisions_are_the_task_sets_the_checks_know() -> None:
    from trafficgate.discovery.ecs_native import revision_task_sets

    deployment = {
        "sourceServiceRevisions": [
            {"arn": "rev/blue", "requestedTaskCount": 2, "runningTaskCount": 2, "pendingTaskCount": 0,
             "requestedProductionTrafficWeight": 90.0}
        ],
        "targetServiceRevision": {
            "arn": "rev/green", "requestedTaskCount": 2, "runningTaskCount": 1, "pendingTaskCount": 1,
            "requestedProductionTrafficWeight": 10.0,
        },
    }
    blue, green = revision_task_sets(deployment, "tg-green")
    assert (blue.label, blue.identifier, blue.running, blue.traffic_weight) == ("BLUE", "rev/blue", 2, 90.0)
    assert (green.label, green.desired, green.running, green.pending) == ("GREEN", 2, 1, 1)
    assert green.target_group == "tg-green" and blue.target_group is None
    assert revision_task_sets({}, None) == ()
