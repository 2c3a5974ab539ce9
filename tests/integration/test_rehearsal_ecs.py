"""``trafficgate rehearse --platform ecs``: an ECS-native service deployment played stage by stage, and
the simulated users on both platforms.

Every rehearsal runs in this process, with fixed bursts of 10 requests and green against blue off
(as the CodeDeploy rehearsal tests do for runs that are not about probing). The ECS answers are the
function's return values; where a test needs to see what the function was given, the function is a
thin wrapper (written below) around the real handler, which still judges every stage. Nothing here
asserts how fast anything was.
"""

from __future__ import annotations

import functools
import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from trafficgate_local.rehearsal import conductor
from trafficgate_local.rehearsal.conductor import SCENARIOS, RehearsalOptions, RehearsalResult, rehearse
from trafficgate_local.report_html import rehearsal_page

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
NO_COMPARE = {"TRAFFICGATE_PROBE_DECISION": "fixed", "TRAFFICGATE_COMPARE": "off"}
#: ECS's stage order with one production step (BLUE_GREEN), from a service with one active revision.
BLUE_GREEN_STAGES = [
    "PRE_SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRE_PRODUCTION_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
]
#: Where each failing scenario is caught on ECS: the stage whose plan is the CodeDeploy hook's.
FAILS_AT = {
    "errors": "POST_TEST_TRAFFIC_SHIFT",
    "slow": "POST_TEST_TRAFFIC_SHIFT",
    "down": "POST_TEST_TRAFFIC_SHIFT",
    "bad-body": "POST_TEST_TRAFFIC_SHIFT",
    "flaky-start": "POST_TEST_TRAFFIC_SHIFT",
    "bad-port": "PRE_SCALE_UP",
    "oom": "POST_SCALE_UP",
    "blocked-sg": "PRE_SCALE_UP",
    "no-pull-role": "PRE_SCALE_UP",
    "regression": "POST_TEST_TRAFFIC_SHIFT",  # green against blue alone sees it
}
#: Scenarios that pass: shape's lost field is named by http.diff as a dry run; noisy is as good as blue.
PASSES = {"healthy", "noisy", "shape"}
#: Per scenario, settings on top of fixed bursts of 10 without green against blue (as the CodeDeploy
#: rehearsal tests run them): regression needs the comparison; noisy needs the sequential bursts,
#: which fail only on evidence below the floor (a fixed burst of 5 fails on one unlucky 503).
SCENARIO_ENV: dict[str, dict[str, str]] = {
    "regression": {"TRAFFICGATE_COMPARE": "on"},
    "shape": {"TRAFFICGATE_COMPARE": "on"},
    "noisy": {"TRAFFICGATE_PROBE_DECISION": "sequential"},
}

#: The EcsLifecycleHook function of the tests: the real handler judges every stage; this wrapper
#: answers IN_PROGRESS once at POST_TEST_TRAFFIC_SHIFT (with hookDetails ECS must pass back), and
#: adds to each answer what it was given and what the stand-in showed it (ECS ignores extra keys).
WRAPPER = """
import boto3

from trafficgate import run_ecs_hook


def handler(event, context):
    details = event.get("hookDetails") or {}
    stage = event["lifecycleStage"]
    if stage == "POST_TEST_TRAFFIC_SHIFT" and not details:
        return {"hookStatus": "IN_PROGRESS", "callBackDelay": 2, "hookDetails": {"attempt": 1, "token": "t-1"}}
    answer = dict(run_ecs_hook(event, context))
    ecs, elbv2 = boto3.client("ecs"), boto3.client("elbv2")
    deployment = ecs.describe_service_deployments(serviceDeploymentArns=[event["resourceArn"]])["serviceDeployments"][0]
    revision = ecs.describe_service_revisions(serviceRevisionArns=[deployment["targetServiceRevision"]["arn"]])
    advanced = revision["serviceRevisions"][0]["loadBalancers"][0]["advancedConfiguration"]
    [rule] = elbv2.describe_rules(RuleArns=[advanced["productionListenerRule"]])["Rules"]
    groups = rule["Actions"][0]["ForwardConfig"]["TargetGroups"]
    total = sum(g["Weight"] for g in groups)
    green = sum(g["Weight"] for g in groups if g["TargetGroupArn"] == advanced["alternateTargetGroupArn"])
    answer["seen"] = {
        "hookDetails": details,
        "stage": deployment["lifecycleStage"],
        "status": deployment["status"],
        "production_weights": event["executionDetails"]["productionTrafficWeights"],
        "target_revision": event["executionDetails"]["targetServiceRevisionArn"],
        "rule_green_percent": 100.0 * green / total,
    }
    return answer
"""


@pytest.fixture(autouse=True, scope="module")
def _parse_template_once() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(conductor, "find_function", functools.lru_cache(maxsize=None)(conductor.find_function))
        yield


def run(**overrides: Any) -> RehearsalResult:
    env = {**NO_COMPARE, **overrides.pop("env", {})}
    values: dict[str, Any] = {
        "template": TEMPLATE,
        "probe_requests": 10,
        "platform": "ecs",
        "deployment_config": "ecs:BLUE_GREEN",
        "env": env,
        **overrides,
    }
    return rehearse(RehearsalOptions(**values), out=io.StringIO())


def calls(result: RehearsalResult) -> list[tuple[str, str | None, bool]]:
    return [(h.hook, h.hook_status, h.rollback) for h in result.hooks]


@pytest.fixture
def wrapped_template(tmp_path: Path) -> Path:
    """template.yaml and functions/ copied, the EcsLifecycleHook's app.py replaced by :data:`WRAPPER`."""
    shutil.copy(TEMPLATE, tmp_path / "template.yaml")
    shutil.copytree(ROOT / "functions", tmp_path / "functions", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "functions" / "ecs_lifecycle_hook" / "app.py").write_text(WRAPPER)
    return tmp_path / "template.yaml"


def test_every_scenario_has_an_expected_ecs_outcome() -> None:
    assert set(FAILS_AT) | PASSES == set(SCENARIOS)


def test_a_healthy_green_goes_through_every_stage_and_ends_successful() -> None:
    result = run(bake_minutes=2, time_scale=0.005)

    assert result.status == "Succeeded", result.reason
    assert result.platform == "ecs" and result.deployment_status == "SUCCESSFUL"
    assert calls(result) == [(stage, "SUCCEEDED", False) for stage in BLUE_GREEN_STAGES]
    # The stand-in's deployment was moved through ECS's lifecycle stages, in order, before each call.
    stages = [e["stage"] for e in result.timeline if e["kind"] == "stage" and not e.get("skipped")]
    assert stages == [
        "PRE_SCALE_UP",
        "SCALE_UP",
        "POST_SCALE_UP",
        "TEST_TRAFFIC_SHIFT",
        "POST_TEST_TRAFFIC_SHIFT",
        "PRODUCTION_TRAFFIC_SHIFT",
        "POST_PRODUCTION_TRAFFIC_SHIFT",
        "BAKE_TIME",
        "CLEAN_UP",
    ]
    [bake] = [e for e in result.timeline if e["kind"] == "bake"]
    assert bake["wait_s"] == pytest.approx(2 * 60 * 0.005)
    assert result.production_target_groups == {"trafficgate-green": 100}
    # Every stage with a plan judged green with its checks (the summary came from the function's log).
    judged = {h.hook: [c["id"] for c in (h.summary or {}).get("checks", [])] for h in result.hooks}
    assert "http.test_listener" in judged["POST_TEST_TRAFFIC_SHIFT"]
    assert "cloudwatch.5xx_rate" in judged["POST_PRODUCTION_TRAFFIC_SHIFT"]
    # ECS's own words for the step that first points a listener at green.
    [scale_up] = [h for h in result.hooks if h.hook == "POST_SCALE_UP"]
    [targets] = [c for c in (scale_up.summary or {})["checks"] if c["id"] == "elb.targets_healthy"]
    assert "no listener forwards to it before TEST_TRAFFIC_SHIFT" in targets["reason"]
    # The network, the images and the execution role are judged, not skipped (see the foundation).
    [pre] = [h for h in result.hooks if h.hook == "PRE_SCALE_UP"]
    outcomes = {c["id"]: (c["outcome"], c["reason"]) for c in (pre.summary or {})["checks"]}
    assert outcomes["ec2.security_groups"][0] == "pass"
    assert "(tasks, from service web) allows ingress from sg-" in outcomes["ec2.security_groups"][1]
    assert outcomes["iam.execution_role"] == (
        "pass",
        "execution role trafficgate-rehearsal-execution may make the 3 call(s) the task needs",
    )
    assert result.to_dict()["deployment_status"] == "SUCCESSFUL"
    page = rehearsal_page(result.to_dict(), started_at=result.started_at)
    assert all(f"{stage}: " in page for stage in BLUE_GREEN_STAGES)


@pytest.mark.parametrize("scenario", sorted(FAILS_AT))
def test_a_failing_green_rolls_back_and_ecs_calls_the_traffic_shift_hooks_again(scenario: str) -> None:
    result = run(scenario=scenario, env=SCENARIO_ENV.get(scenario, {}))

    stage = FAILS_AT[scenario]
    assert result.status == "Failed"
    assert result.failed_hook == stage
    assert result.deployment_status == "ROLLBACK_SUCCESSFUL"
    assert result.reason.startswith(f"{stage} FAILED: returned hookStatus FAILED")
    failed_at = BLUE_GREEN_STAGES.index(stage)
    assert calls(result) == [
        *[(s, "SUCCEEDED", False) for s in BLUE_GREEN_STAGES[:failed_at]],
        (stage, "FAILED", False),
        ("TEST_TRAFFIC_SHIFT", "SUCCEEDED", True),
        ("PRODUCTION_TRAFFIC_SHIFT", "SUCCEEDED", True),
    ]
    assert result.production_target_groups == {"trafficgate-blue": 100}
    assert [e["step"] for e in result.timeline if e["kind"] == "rollback"] == [stage]
    statuses = [e["status"] for e in result.timeline if e["kind"] == "status"]
    assert statuses == ["ROLLBACK_IN_PROGRESS", "ROLLBACK_SUCCESSFUL"]


@pytest.mark.parametrize("scenario", sorted(PASSES - {"healthy"}))
def test_the_other_scenarios_pass(scenario: str) -> None:
    sequential = SCENARIO_ENV.get(scenario, {}).get("TRAFFICGATE_PROBE_DECISION") == "sequential"
    result = run(
        scenario=scenario, env=SCENARIO_ENV.get(scenario, {}), **({"probe_requests": None} if sequential else {})
    )

    assert result.status == "Succeeded", result.reason
    assert result.deployment_status == "SUCCESSFUL"
    assert [h.hook for h in result.hooks] == BLUE_GREEN_STAGES


def test_linear_calls_production_traffic_shift_once_per_step_with_its_weights(wrapped_template: Path) -> None:
    result = run(template=wrapped_template, deployment_config="ecs:LINEAR:25:1", time_scale=0.001)

    assert result.status == "Succeeded", result.reason
    shifts = [h for h in result.hooks if h.hook == "PRODUCTION_TRAFFIC_SHIFT"]
    assert [h.hook_status for h in shifts] == ["SUCCEEDED"] * 4
    seen = [h.answer["seen"] for h in shifts if h.answer]
    assert len(seen) == 4
    # The event's productionTrafficWeights, and the stand-in's production rule when the function ran.
    target = seen[0]["target_revision"]
    assert [s["production_weights"][target] for s in seen] == [25, 50, 75, 100]
    assert [sum(s["production_weights"].values()) for s in seen] == [100] * 4
    assert [s["rule_green_percent"] for s in seen] == [25, 50, 75, 100]
    assert {s["stage"] for s in seen} == {"PRODUCTION_TRAFFIC_SHIFT"}
    steps = [e for e in result.timeline if e["kind"] == "traffic" and e.get("listener") == "prod"]
    assert [e["green_percent"] for e in steps] == [25, 50, 75, 100]
    assert [e["wait_s"] for e in steps] == [pytest.approx(0.06)] * 3 + [0]
    # ECS calls PRE_PRODUCTION_TRAFFIC_SHIFT before every step: BeforeAllowTraffic's plan judges green
    # once, before production first reaches it; between steps the call runs no checks.
    before = [h for h in result.hooks if h.hook == "PRE_PRODUCTION_TRAFFIC_SHIFT"]
    assert [h.hook_status for h in before] == ["SUCCEEDED"] * 4
    assert [h.answer["seen"]["production_weights"][target] for h in before if h.answer] == [0, 25, 50, 75]
    checks = [[c["id"] for c in (h.summary or {}).get("checks", [])] for h in before]
    assert "http.test_listener" in checks[0] and "cloudwatch.alarms" in checks[0]
    assert checks[1:] == [[], [], []]
    reasons = [(h.summary or {}).get("reason", "") for h in before[1:]]
    assert [r.split(";")[0] for r in reasons] == [
        f"no checks between production steps: green already has {p} % of production" for p in (25, 50, 75)
    ]
    order = [h.hook for h in result.hooks if h.hook.endswith("PRODUCTION_TRAFFIC_SHIFT")]
    assert order == ["PRE_PRODUCTION_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"] * 4 + ["POST_PRODUCTION_TRAFFIC_SHIFT"]


def test_in_progress_is_called_again_with_its_hook_details(wrapped_template: Path) -> None:
    result = run(template=wrapped_template, time_scale=0.01)

    assert result.status == "Succeeded", result.reason
    post_test = [h for h in result.hooks if h.hook == "POST_TEST_TRAFFIC_SHIFT"]
    assert [h.hook_status for h in post_test] == ["IN_PROGRESS", "SUCCEEDED"]
    assert post_test[0].execution_id == post_test[1].execution_id  # one hook execution, called twice
    assert post_test[1].answer is not None
    assert post_test[1].answer["seen"]["hookDetails"] == {"attempt": 1, "token": "t-1"}
    # The next stage's first call starts afresh: hookDetails belong to one stage's execution.
    [pre_production] = [h for h in result.hooks if h.hook == "PRE_PRODUCTION_TRAFFIC_SHIFT"]
    assert pre_production.answer is not None and pre_production.answer["seen"]["hookDetails"] == {}
    [callback] = [e for e in result.timeline if e["kind"] == "callback"]
    assert callback["hook"] == "POST_TEST_TRAFFIC_SHIFT"
    assert callback["delay_s"] == pytest.approx(2 * 0.01)
    # What discovery saw while each stage's hook ran: the stage ECS would show.
    shown = {h.hook: h.answer["seen"]["stage"] for h in result.hooks if h.answer and "seen" in h.answer}
    assert shown["POST_SCALE_UP"] == "POST_SCALE_UP"
    assert shown["PRE_PRODUCTION_TRAFFIC_SHIFT"] == "POST_TEST_TRAFFIC_SHIFT"  # no deployment stage of its own
    assert shown["POST_PRODUCTION_TRAFFIC_SHIFT"] == "POST_PRODUCTION_TRAFFIC_SHIFT"


def test_a_function_that_answers_no_hook_status_rolls_back(tmp_path: Path) -> None:
    shutil.copy(TEMPLATE, tmp_path / "template.yaml")
    shutil.copytree(ROOT / "functions", tmp_path / "functions", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "functions" / "ecs_lifecycle_hook" / "app.py").write_text(
        "def handler(event, context):\n    return {'status': 'ok'} if event['lifecycleStage'] == 'POST_SCALE_UP' "
        "else {'hookStatus': 'SUCCEEDED'}\n"
    )
    result = run(template=tmp_path / "template.yaml")

    assert result.failed_hook == "POST_SCALE_UP"
    assert result.deployment_status == "ROLLBACK_SUCCESSFUL"
    assert "no hookStatus, expected one of SUCCEEDED, FAILED, IN_PROGRESS" in result.reason
    assert [h.hook for h in result.hooks if h.rollback] == ["TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"]
    page = rehearsal_page(result.to_dict(), started_at=result.started_at)
    assert "rolled back: POST_SCALE_UP FAILED" in page


# --- simulated users --------------------------------------------------------------------------
#: Every probe off: whatever reaches green's target group comes from the simulated users alone.
PROBES_OFF = {"TRAFFICGATE_DISABLED_CHECKS": "http.test_listener,http.prod_listener,http.compare,http.diff"}
#: A bake long enough for several of the load balancer's metric publications (every 0.5 s).
BAKE = {"TRAFFICGATE_BAKE_SECONDS": "2"}
AFTER_PRODUCTION = {"codedeploy": "AfterAllowTraffic", "ecs": "POST_PRODUCTION_TRAFFIC_SHIFT"}


def requests_seen(result: RehearsalResult, hook: str) -> Any:
    [after] = [h for h in result.hooks if h.hook == hook]
    assert after.summary is not None
    [check] = [c for c in after.summary["checks"] if c["id"] == "cloudwatch.5xx_rate"]
    return check


@pytest.mark.parametrize("platform", ["codedeploy", "ecs"])
def test_simulated_users_give_green_requests_in_cloudwatch_after_the_production_shift(platform: str) -> None:
    config = "CodeDeployDefault.ECSAllAtOnce" if platform == "codedeploy" else "ecs:BLUE_GREEN"
    loaded = run(platform=platform, deployment_config=config, user_load_rps=20, env={**PROBES_OFF, **BAKE})
    quiet = run(platform=platform, deployment_config=config, user_load_rps=0, env={**PROBES_OFF, **BAKE})

    assert loaded.status == "Succeeded", loaded.reason
    check = requests_seen(loaded, AFTER_PRODUCTION[platform])
    assert check["outcome"] == "pass", check
    assert check["details"]["values"]["requests"] > 0
    stopped = [e for e in loaded.timeline if e["kind"] == "user-load" and "statuses" in e]
    assert stopped and stopped[0]["stopped"] is True and sum(stopped[0]["statuses"].values()) > 0
    # Without them, nothing reached green: the same check has no RequestCount to judge.
    quiet_check = requests_seen(quiet, AFTER_PRODUCTION[platform])
    assert quiet_check["value"] is None and "no RequestCount" in quiet_check["reason"], quiet_check
    assert not [e for e in quiet.timeline if e["kind"] == "user-load"]


def test_approve_after_holds_production_until_a_person_approves() -> None:
    # approval.gate goes first in PRE_PRODUCTION_TRAFFIC_SHIFT's plan; a person writes
    # "approve <service deployment ARN>" two seconds after it begins to wait; until then ECS calls
    # the stage again (IN_PROGRESS), and production traffic does not move.
    result = run(approve_after_s=2.0, time_scale=0.01)

    assert result.status == "Succeeded", result.reason
    pre_production = [h for h in result.hooks if h.hook == "PRE_PRODUCTION_TRAFFIC_SHIFT"]
    assert [h.hook_status for h in pre_production][-1] == "SUCCEEDED"
    assert all(h.hook_status == "IN_PROGRESS" for h in pre_production[:-1])
    # What ECS handed back was sealed with the stand-in's ProgressKey, and trusted: the gate kept waiting.
    assert all("mac" in (h.answer or {})["hookDetails"]["trafficgate"] for h in pre_production[:-1])
    assert pre_production[-1].summary is not None
    [gate] = [c for c in pre_production[-1].summary["checks"] if c["id"] == "approval.gate"]
    assert gate["outcome"] == "pass"
    assert re.fullmatch(
        r"approved after \d+ s: /trafficgate/trafficgate-rehearsal/web/approval holds 'approve arn:aws:ecs:.*",
        gate["reason"],
    )
    kinds = [e["kind"] for e in result.timeline]
    approved = kinds.index("approval")
    assert kinds.index("approval-wait") < approved
    # Production moved only after the approval.
    shifts = [i for i, e in enumerate(result.timeline) if e["kind"] == "traffic" and e.get("listener") == "prod"]
    assert shifts and min(shifts) > approved
