"""Pure logic of ``trafficgate rehearse --platform ecs``: the ``--config`` strategies, how ECS reads a
hook's answer, the rehearsal options, and the local load balancer's listener rule conditions."""

from __future__ import annotations

from pathlib import Path

import pytest

from trafficgate_local.rehearsal.ecs_config import EcsStrategy, ecs_strategy
from trafficgate_local.rehearsal.ecs_hook_calls import DEFAULT_CALLBACK_DELAY_S, interpret
from trafficgate_local.rehearsal.options import RehearsalOptions
from trafficgate_local.rehearsal.proxy import Route

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


@pytest.mark.parametrize(
    ("config", "expected", "steps"),
    [
        ("ecs:BLUE_GREEN", EcsStrategy("BLUE_GREEN"), [(100.0, 0.0)]),
        ("ecs:blue_green", EcsStrategy("BLUE_GREEN"), [(100.0, 0.0)]),
        ("ecs:LINEAR:25:1", EcsStrategy("LINEAR", 25.0, 1.0), [(25.0, 60.0), (50.0, 60.0), (75.0, 60.0), (100.0, 0.0)]),
        ("ecs:LINEAR:40:2", EcsStrategy("LINEAR", 40.0, 2.0), [(40.0, 120.0), (80.0, 120.0), (100.0, 0.0)]),
        ("ecs:CANARY:10:5", EcsStrategy("CANARY", 10.0, 5.0), [(10.0, 300.0), (100.0, 0.0)]),
        ("ecs:CANARY:0.5:1", EcsStrategy("CANARY", 0.5, 1.0), [(0.5, 60.0), (100.0, 0.0)]),
        ("CodeDeployDefault.ECSAllAtOnce", EcsStrategy("BLUE_GREEN"), [(100.0, 0.0)]),
        (
            "CodeDeployDefault.ECSCanary10Percent5Minutes",
            EcsStrategy("CANARY", 10.0, 5.0),
            [(10.0, 300.0), (100.0, 0.0)],
        ),
    ],
)
def test_ecs_configs_and_their_production_steps(
    config: str, expected: EcsStrategy, steps: list[tuple[float, float]]
) -> None:
    strategy = ecs_strategy(config)
    assert strategy == expected
    assert strategy.steps() == steps


def test_a_codedeploy_linear_config_is_the_same_linear_strategy() -> None:
    strategy = ecs_strategy("CodeDeployDefault.ECSLinear10PercentEvery1Minutes")
    assert strategy == EcsStrategy("LINEAR", 10.0, 1.0)
    assert [p for p, _ in strategy.steps()] == [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]


def test_the_service_configuration_names_the_strategy_its_steps_and_the_hooks() -> None:
    hooks = [{"hookTargetArn": "arn:aws:lambda:us-east-1:123456789012:function:f", "lifecycleStages": ["PRE_SCALE_UP"]}]
    config = ecs_strategy("ecs:LINEAR:20:3").deployment_configuration(bake_minutes=2, hooks=hooks)
    assert config == {
        "strategy": "LINEAR",
        "bakeTimeInMinutes": 2,
        "lifecycleHooks": hooks,
        "linearConfiguration": {"stepPercent": 20.0, "stepBakeTimeInMinutes": 3},
    }


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ("ecs:ROLLING", "expected ecs:BLUE_GREEN, ecs:LINEAR:<step percent>:<minutes between steps>"),
        ("ecs:LINEAR:20", "expected ecs:BLUE_GREEN"),
        ("ecs:LINEAR:2:1", "the step percent must be between 3 and 100, not 2"),
        ("ecs:CANARY:0.05:1", "the canary percent must be between 0.1 and 100, not 0.05"),
        ("ecs:CANARY:10:2000", "the minutes must be between 0 and 1440, not 2000"),
        ("Fast", "is not an ECS deployment strategy"),
    ],
)
def test_a_bad_config_names_the_flag_and_the_accepted_forms(config: str, words: str) -> None:
    with pytest.raises(ValueError, match="--config") as caught:
        ecs_strategy(config)
    assert words in str(caught.value)


def test_options_refuse_an_ecs_config_without_the_ecs_platform_and_bad_flags() -> None:
    with pytest.raises(ValueError, match="give --platform ecs"):
        RehearsalOptions(template=TEMPLATE, deployment_config="ecs:BLUE_GREEN").validate()
    with pytest.raises(ValueError, match="--platform 'lambda': expected one of codedeploy, ecs"):
        RehearsalOptions(template=TEMPLATE, platform="lambda").validate()
    with pytest.raises(ValueError, match=r"--user-load must be between 0 \(off\) and 500"):
        RehearsalOptions(template=TEMPLATE, user_load_rps=-1).validate()
    with pytest.raises(ValueError, match="--bake-minutes must be between 0 and 1440"):
        RehearsalOptions(template=TEMPLATE, platform="ecs", bake_minutes=2000).validate()
    RehearsalOptions(template=TEMPLATE, platform="ecs", deployment_config="ecs:CANARY:10:5").validate()


@pytest.mark.parametrize(
    ("outcome", "status", "words"),
    [
        ({"summary": {"hookStatus": "SUCCEEDED"}}, "SUCCEEDED", "returned hookStatus SUCCEEDED"),
        ({"summary": {"hookStatus": "FAILED"}}, "FAILED", "returned hookStatus FAILED"),
        ({"summary": {}}, "FAILED", "no hookStatus, expected one of SUCCEEDED, FAILED, IN_PROGRESS"),
        ({"summary": {"hookStatus": "DONE"}}, "FAILED", "hookStatus 'DONE', expected one of"),
        ({"summary": None}, "FAILED", "returned NoneType, expected an object with hookStatus"),
        ({"error": "RuntimeError: boom"}, "FAILED", "the function failed (RuntimeError: boom)"),
    ],
)
def test_what_ecs_makes_of_an_answer(outcome: dict[str, object], status: str, words: str) -> None:
    answer = interpret(outcome)
    assert answer.hook_status == status
    assert words in answer.reason


def test_in_progress_keeps_its_details_and_its_delay_or_ecs_default() -> None:
    answer = interpret({"summary": {"hookStatus": "IN_PROGRESS", "callBackDelay": 5, "hookDetails": {"n": 1}}})
    assert (answer.hook_status, answer.callback_delay_s, answer.hook_details) == ("IN_PROGRESS", 5.0, {"n": 1})
    default = interpret({"summary": {"hookStatus": "IN_PROGRESS"}})
    assert default.callback_delay_s == DEFAULT_CALLBACK_DELAY_S == 30.0 and default.hook_details == {}
    odd = interpret({"summary": {"hookStatus": "IN_PROGRESS", "callBackDelay": "soon"}})
    assert odd.callback_delay_s == 30.0 and "callBackDelay 'soon' is not a number of seconds" in odd.reason


def _route(*conditions: dict[str, object]) -> Route:
    return Route(targets=[("127.0.0.1", 1, 1, "tg")], conditions=conditions)


def test_listener_rule_conditions_as_an_alb_reads_them() -> None:
    host = _route({"Field": "host-header", "HostHeaderConfig": {"Values": ["*.example.com"]}})
    assert host.matches("Shop.Example.com", "/", {}, "GET")
    assert not host.matches("example.org", "/", {}, "GET")
    path = _route({"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/?/*"]}})
    assert path.matches("any", "/api/v/items", {}, "GET")
    assert not path.matches("any", "/API/v/items", {}, "GET")  # paths are case sensitive
    header = _route({"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Env", "Values": ["canary"]}})
    assert header.matches("any", "/", {"X-Env": "Canary"}, "GET")
    assert not header.matches("any", "/", {}, "GET")
    both = _route(
        {"Field": "host-header", "HostHeaderConfig": {"Values": ["a.test"]}},
        {"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["GET"]}},
    )
    assert both.matches("a.test", "/", {}, "GET") and not both.matches("a.test", "/", {}, "HEAD")
    assert not _route({"Field": "source-ip", "SourceIpConfig": {"Values": ["10.0.0.0/8"]}}).matches("a", "/", {}, "GET")
    assert _route().matches("anything", "/", {}, "GET")  # the default action serves every request
