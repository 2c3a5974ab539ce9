"""Discovery end to end: from a DeploymentId alone to the listener that routes to green.

The stand-in holds a real-shaped topology: an ALB with a production and a test listener, blue and
green target groups, an ECS service and a CodeDeploy blue/green group whose
``targetGroupPairInfoList`` names them. A listener here *is* the port of a local server: the
production listener starts on blue's port, the test listener on green's. The ALB's DNS name is
pointed at 127.0.0.1 with ``TRAFFICGATE_RESOLVE``, and no URL override is set, so whatever the
probes reach, they reached through discovery.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.http_apps import HttpApp, serve
from tests.support.lambda_env import load_handler_module
from tests.support.standin_env import (
    APPSPEC_JSON,
    APPSPEC_YAML,
    BLUE_GREEN_REQUESTS,
    BlueGreen,
    LogCapture,
    StandInEnv,
    build_topology,
    invoke_hook,
)
from trafficgate.aws import AwsClients
from trafficgate.discovery import discover
from trafficgate.hooks import Hook
from trafficgate.runner import get_runner, reset_runner
from trafficgate_local.lambda_context import LocalLambdaContext

pytestmark = pytest.mark.integration

ContextFactory = Callable[..., LocalLambdaContext]
REQUESTS = BLUE_GREEN_REQUESTS


def statuses(standin: StandInEnv, deployment_id: str) -> list[tuple[str, str]]:
    return [(s.lifecycle_event_name, s.status) for s in standin.control.statuses(deployment_id)]


def test_test_traffic_reaches_green_then_production_after_the_switch(
    standin: StandInEnv, blue_green: BlueGreen, lambda_context: ContextFactory
) -> None:
    bg = blue_green
    summary = invoke_hook(standin, Hook.AFTER_ALLOW_TEST_TRAFFIC, bg.deployment_id, lambda_context())

    assert summary["status"] == "Succeeded", summary["reason"]
    assert len(bg.green.app.requests) == REQUESTS
    assert bg.blue.app.requests == []
    # The URL came from discovery: the ALB's name and the test listener's port.
    assert {r.headers["Host"] for r in bg.green.app.requests} == {f"{bg.topology.dns_name}:{bg.green.port}"}
    assert summary["checks"][0]["details"]["url"] == f"http://{bg.topology.dns_name}:{bg.green.port}/"

    # AllowTraffic: the production listener now routes to green (here: it moves to green's port).
    standin.client("elbv2").modify_listener(ListenerArn=bg.topology.prod_listener_arn, Port=bg.green.port)
    reset_runner()  # AfterAllowTraffic is another function, hence another container
    summary = invoke_hook(standin, Hook.AFTER_ALLOW_TRAFFIC, bg.deployment_id, lambda_context())

    assert summary["status"] == "Succeeded", summary["reason"]
    assert summary["checks"][0]["id"] == "http.prod_listener"
    assert len(bg.green.app.requests) == 2 * REQUESTS
    assert bg.blue.app.requests == []
    assert statuses(standin, bg.deployment_id) == [
        ("AfterAllowTestTraffic", "Succeeded"),
        ("AfterAllowTraffic", "Succeeded"),
    ]


def test_production_probe_follows_the_listener_to_blue_before_the_switch(
    standin: StandInEnv, blue_green: BlueGreen, lambda_context: ContextFactory
) -> None:
    """Control for the test above: without the switch the production probe reaches blue."""
    summary = invoke_hook(standin, Hook.AFTER_ALLOW_TRAFFIC, blue_green.deployment_id, lambda_context())

    assert summary["status"] == "Succeeded", summary["reason"]
    assert len(blue_green.blue.app.requests) == REQUESTS
    assert blue_green.green.app.requests == []


def test_topology_is_cached_across_invocations_task_sets_are_not(
    standin: StandInEnv, blue_green: BlueGreen, lambda_context: ContextFactory
) -> None:
    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        calls.append(model.name)

    clients = get_runner().clients  # the container's clients, which the checks will use
    for service in ("codedeploy", "elbv2"):
        clients.client(service).meta.events.register("before-call", record)

    first = invoke_hook(standin, Hook.AFTER_ALLOW_TEST_TRAFFIC, blue_green.deployment_id, lambda_context())
    second = invoke_hook(standin, Hook.BEFORE_ALLOW_TRAFFIC, blue_green.deployment_id, lambda_context())

    assert (first["status"], second["status"]) == ("Succeeded", "Succeeded")
    assert calls.count("GetDeployment") == 1
    assert calls.count("GetDeploymentGroup") == 1
    assert calls.count("DescribeListeners") == 1
    assert calls.count("DescribeLoadBalancers") == 1
    assert calls.count("ListDeploymentTargets") == 2  # live state, read on every invocation
    assert len(blue_green.green.app.requests) > REQUESTS  # the second burst went out as well


def test_task_sets_are_read_from_codedeploy(standin: StandInEnv, blue_green: BlueGreen) -> None:
    standin.control.set_task_sets(
        blue_green.deployment_id,
        [
            {
                "identifer": "ecs-svc/1111",
                "desiredCount": 2,
                "pendingCount": 0,
                "runningCount": 2,
                "status": "PRIMARY",
                "trafficWeight": 100.0,
                "targetGroup": {"name": "shop-blue"},
                "taskSetLabel": "Blue",
            },
            {
                "identifer": "ecs-svc/2222",
                "desiredCount": 2,
                "pendingCount": 1,
                "runningCount": 1,
                "status": "ACTIVE",
                "trafficWeight": 0.0,
                "targetGroup": {"name": "shop-green"},
                "taskSetLabel": "Green",
            },
        ],
    )

    deployment = discover(blue_green.deployment_id, AwsClients())

    green = deployment.task_set("green")
    blue = deployment.task_set("blue")
    assert green is not None and blue is not None
    assert (green.identifier, green.desired, green.pending, green.running) == ("ecs-svc/2222", 2, 1, 1)
    assert (green.traffic_weight, green.target_group, green.status) == (0.0, "shop-green", "ACTIVE")
    assert (blue.running, blue.traffic_weight, blue.target_group) == (2, 100.0, "shop-blue")
    assert (deployment.cluster, deployment.service) == ("shop-cluster", "shop-web")
    assert [tg.name for tg in deployment.target_groups] == ["shop-blue", "shop-green"]
    assert all(tg.arn and tg.arn.startswith("arn:aws:elasticloadbalancing:") for tg in deployment.target_groups)


@pytest.mark.parametrize(
    ("appspec", "expected"),
    [
        (APPSPEC_YAML, ("arn:aws:ecs:us-east-1:123456789012:task-definition/shop-web:7", "web", 8080, "LATEST")),
        (APPSPEC_JSON, ("arn:aws:ecs:us-east-1:123456789012:task-definition/shop-web:8", "api", 9090, None)),
    ],
    ids=["yaml", "json"],
)
def test_appspec_content_is_parsed(
    appspec: str, expected: tuple[Any, ...], standin: StandInEnv, blue_green: BlueGreen
) -> None:
    deployment_id = blue_green.topology.deploy(standin, appspec)
    clients = AwsClients()
    calls: list[str] = []
    clients.client("codedeploy").meta.events.register("before-call", lambda model, **_: calls.append(model.name))

    spec = discover(deployment_id, clients, with_task_sets=False).appspec

    assert spec is not None
    assert (spec.task_definition_arn, spec.container_name, spec.container_port, spec.platform_version) == expected
    # GetDeployment names the revision by its sha256 only, as the service does: the text came from here.
    assert calls.count("GetApplicationRevision") == 1


def test_an_appspec_the_gate_may_not_read_fails_the_hook_naming_the_call_and_application(
    standin: StandInEnv, blue_green: BlueGreen, lambda_context: ContextFactory
) -> None:
    standin.control.inject_fault("GetApplicationRevision", "AccessDeniedException", message="not authorized")

    summary = invoke_hook(standin, Hook.AFTER_ALLOW_TEST_TRAFFIC, blue_green.deployment_id, lambda_context())

    assert summary["status"] == "Failed"
    assert "GetApplicationRevision" in summary["reason"]
    assert "AccessDeniedException" in summary["reason"]
    assert f"application {blue_green.topology.application}" in summary["reason"]
    assert statuses(standin, blue_green.deployment_id) == [("AfterAllowTestTraffic", "Failed")]
    assert blue_green.green.app.requests == []


@pytest.mark.parametrize("policy", [None, "fail"])
def test_group_without_test_listener(
    policy: str | None,
    standin: StandInEnv,
    monkeypatch: pytest.MonkeyPatch,
    lambda_context: ContextFactory,
) -> None:
    with serve(HttpApp()) as blue:
        topology = build_topology(standin, prod_port=blue.port, test_port=None)
        monkeypatch.setenv("TRAFFICGATE_RESOLVE", f"{topology.dns_name}=127.0.0.1")
        if policy:
            monkeypatch.setenv("TRAFFICGATE_NO_TEST_LISTENER", policy)
        reset_runner()
        deployment_id = topology.deploy(standin)

        summary = invoke_hook(standin, Hook.AFTER_ALLOW_TEST_TRAFFIC, deployment_id, lambda_context())

        assert blue.app.requests == []  # never falls back to the production listener
    check = summary["checks"][0]
    assert "no test listener" in check["reason"]
    if policy == "fail":
        assert summary["status"] == "Failed"
        assert check["outcome"] == "fail"
        assert check["reason"].endswith("(TRAFFICGATE_NO_TEST_LISTENER=fail)")  # names the setting to change
        assert statuses(standin, deployment_id) == [("AfterAllowTestTraffic", "Failed")]
    else:
        assert summary["status"] == "Succeeded"
        assert check["outcome"] == "pass"
        assert any("no test listener" in w for w in check["warnings"])
        assert statuses(standin, deployment_id) == [("AfterAllowTestTraffic", "Succeeded")]


def test_missing_listener_fails_naming_it(
    standin: StandInEnv, blue_green: BlueGreen, lambda_context: ContextFactory
) -> None:
    arn = blue_green.topology.test_listener_arn
    assert arn is not None
    standin.client("elbv2").delete_listener(ListenerArn=arn)

    summary = invoke_hook(standin, Hook.AFTER_ALLOW_TEST_TRAFFIC, blue_green.deployment_id, lambda_context())

    assert summary["status"] == "Failed"
    assert summary["reason"].startswith("http.test_listener: ")
    assert arn in summary["reason"]
    assert "listener" in summary["reason"]
    assert statuses(standin, blue_green.deployment_id) == [("AfterAllowTestTraffic", "Failed")]
    assert blue_green.green.app.requests == []


def test_unknown_deployment_is_failed_and_the_report_rejected(
    standin: StandInEnv, blue_green: BlueGreen, lambda_context: ContextFactory
) -> None:
    event = {"DeploymentId": "d-NOSUCH000", "LifecycleEventHookExecutionId": "never-registered"}

    summary = load_handler_module("after_allow_test_traffic").handler(event, lambda_context())

    assert summary["status"] == "Failed"
    assert "d-NOSUCH000" in summary["reason"]
    assert summary["report"] == "rejected"
    assert standin.control.statuses() == []
    assert [c.error_code for c in standin.control.report_calls()] == ["DeploymentDoesNotExistException"]
    assert blue_green.green.app.requests == []


def test_auth_secret_header_is_sent_and_never_shown(
    standin: StandInEnv,
    blue_green: BlueGreen,
    log_capture: LogCapture,
    monkeypatch: pytest.MonkeyPatch,
    lambda_context: ContextFactory,
) -> None:
    secret_value = "Bearer s3cr3t-value"
    arn = standin.client("secretsmanager").create_secret(
        Name="trafficgate/probe-auth", SecretString=json.dumps({"Authorization": secret_value})
    )["ARN"]
    monkeypatch.setenv("TRAFFICGATE_AUTH_SECRET_ARN", arn)
    reset_runner()

    summary = invoke_hook(standin, Hook.AFTER_ALLOW_TEST_TRAFFIC, blue_green.deployment_id, lambda_context())

    assert summary["status"] == "Succeeded", summary["reason"]
    received = [r.headers.get("Authorization") for r in blue_green.green.app.requests]
    assert received == [secret_value] * REQUESTS
    assert "s3cr3t" not in json.dumps(summary)
    output = log_capture.text()
    assert '"verdict"' in output  # the capture did see the invocation's logs
    assert "s3cr3t" not in output
