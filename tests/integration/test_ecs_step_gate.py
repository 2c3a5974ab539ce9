"""The ECS per-step canary gate end to end: the stand-in's BLUE_GREEN service deployment, ALB metrics
for both target groups in the stand-in's CloudWatch (put as the rehearsal's load balancer puts
them), the real runner at PRODUCTION_TRAFFIC_SHIFT with production weights 90/10, and its answer.

The service deployment is created as if 30 minutes ago (the stand-in's clock, during the build
only), so that the minutes of metrics put below lie after its start, as they would on a real
canary. The verdict's reason is read from the function's log. Nothing asserts how fast anything was.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_ecs_native_hook import EcsWorld, build
from tests.support.http_apps import HttpApp, serve
from tests.support.standin_env import LogCapture, StandInEnv, aws_side_check_ids
from trafficgate.checks.step_gate import STEP_GATE_CHECK_ID
from trafficgate.hooks import EcsStage
from trafficgate.runner import HookRunner, load_settings
from trafficgate_local.lambda_context import LocalLambdaContext
from trafficgate_local.standin import ecs_deployments

pytestmark = pytest.mark.integration

#: How long ago the service deployment started: room for every minute of metrics below.
STARTED_AGO = timedelta(minutes=30)


@dataclass
class StepWorld:
    world: EcsWorld
    source_revision_arn: str
    green_group: str
    blue_group: str
    load_balancer: str

    def put_minutes(self, minutes: int, *, green: tuple[int, int, float], blue: tuple[int, int, float]) -> None:
        """``minutes`` whole minutes, ending two minutes ago: per side (requests, 5xx, seconds per answer)."""
        cloudwatch = self.world.standin.client("cloudwatch")
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        for i in range(minutes, 0, -1):
            at = now - timedelta(minutes=i + 1) + timedelta(seconds=30)
            data: list[dict[str, Any]] = []
            for group, (requests, errors, seconds) in ((self.green_group, green), (self.blue_group, blue)):
                dimensions = [
                    {"Name": "TargetGroup", "Value": group},
                    {"Name": "LoadBalancer", "Value": self.load_balancer},
                ]
                data += [
                    {"MetricName": "RequestCount", "Dimensions": dimensions, "Value": requests, "Timestamp": at},
                    {"MetricName": "HTTPCode_Target_5XX_Count", "Dimensions": dimensions, "Value": errors,
                     "Timestamp": at},
                    {"MetricName": "TargetResponseTime", "Dimensions": dimensions, "Value": seconds,
                     "Timestamp": at, "Unit": "Seconds"},
                ]
            cloudwatch.put_metric_data(Namespace="AWS/ApplicationELB", MetricData=data)

    def event(self, green_weight: float = 10.0) -> dict[str, Any]:
        event = self.world.event(EcsStage.PRODUCTION_TRAFFIC_SHIFT)
        event["executionDetails"]["productionTrafficWeights"] = {
            self.source_revision_arn: 100.0 - green_weight,
            self.world.target_revision_arn: green_weight,
        }
        return event

    def run(self, green_weight: float = 10.0) -> dict[str, Any]:
        stage = EcsStage.PRODUCTION_TRAFFIC_SHIFT
        self.world.standin.control.set_service_deployment_stage(self.world.deployment_arn, stage.value)
        return HookRunner(settings=load_settings()).run_ecs(self.event(green_weight), LocalLambdaContext(timeout_s=60))


@pytest.fixture
def steps(standin: StandInEnv, monkeypatch: pytest.MonkeyPatch) -> Iterator[StepWorld]:
    started = datetime.now(UTC) - STARTED_AGO
    # The other AWS-side checks stay off (see aws_side_check_ids); the step gate is what is judged.
    disabled = set(aws_side_check_ids().split(",")) - {STEP_GATE_CHECK_ID}
    monkeypatch.setenv("TRAFFICGATE_DISABLED_CHECKS", ",".join(sorted(disabled)))
    with serve(HttpApp()) as blue, serve(HttpApp()) as green:
        with monkeypatch.context() as clock:
            clock.setattr(ecs_deployments, "_now", lambda: started)
            world = build(standin, blue, green)
        ecs, elbv2 = standin.client("ecs"), standin.client("elbv2")
        deployment = ecs.describe_service_deployments(serviceDeploymentArns=[world.deployment_arn])
        source = deployment["serviceDeployments"][0]["sourceServiceRevisions"][0]["arn"]
        groups = {g["TargetGroupName"]: g["TargetGroupArn"] for g in elbv2.describe_target_groups()["TargetGroups"]}
        lb_arn = elbv2.describe_load_balancers()["LoadBalancers"][0]["LoadBalancerArn"]
        yield StepWorld(
            world=world,
            source_revision_arn=source,
            green_group=groups["shop-green"].split(":", 5)[-1],
            blue_group=groups["shop-blue"].split(":", 5)[-1],
            load_balancer=lb_arn.split(":", 5)[-1].removeprefix("loadbalancer/"),
        )


def _verdict_reason(log_capture: LogCapture) -> str:
    found = [r for r in log_capture.logs() if str(r.get("message", "")).startswith("verdict ")]
    assert found, log_capture.text()
    return str(found[-1]["message"])


def test_a_green_with_more_5xx_fails_the_step_naming_the_counts(steps: StepWorld, log_capture: LogCapture) -> None:
    steps.put_minutes(5, green=(100, 6, 0.05), blue=(900, 2, 0.05))
    assert steps.run() == {"hookStatus": "FAILED"}
    reason = _verdict_reason(log_capture)
    assert "cloudwatch.step_gate: green 5xx 30/500 (6.0 %) vs blue 10/4500 (0.22 %)" in reason
    assert "green shown worse at alpha 0.005" in reason and "> the 1-point margin" in reason
    assert "production weights green 10 % / blue 90 %" in reason


def test_a_green_like_blue_goes_on_inconclusive_over_few_minutes(steps: StepWorld, log_capture: LogCapture) -> None:
    steps.put_minutes(5, green=(100, 1, 0.05), blue=(900, 9, 0.05))
    assert steps.run() == {"hookStatus": "SUCCEEDED"}
    reason = _verdict_reason(log_capture)
    # Not a pass: the latency test is still open after 5 minute pairs; the built-in policy lets it go on.
    assert "not enforced: cloudwatch.step_gate inconclusive" in reason
    record = next(r for r in log_capture.logs() if str(r.get("message", "")).startswith("verdict "))
    (check,) = record["verdict"]["checks"]
    assert check["outcome"] == "inconclusive"
    assert check["reason"].startswith("green 5xx 5/500 (1.0 %) vs blue 45/4500 (1.0 %): green not shown worse")
    assert "not shown either way yet" in check["reason"]


def test_a_slow_green_fails_the_step_on_latency(steps: StepWorld, log_capture: LogCapture) -> None:
    steps.put_minutes(20, green=(100, 0, 0.4), blue=(900, 0, 0.05))
    assert steps.run() == {"hookStatus": "FAILED"}
    reason = _verdict_reason(log_capture)
    assert "cloudwatch.step_gate: latency (Average TargetResponseTime) green 400 ms vs blue 50 ms" in reason
    assert "green shown slower than allowed at alpha 0.005" in reason


def test_too_little_traffic_is_inconclusive_naming_both_counts(steps: StepWorld, log_capture: LogCapture) -> None:
    steps.put_minutes(2, green=(2, 2, 0.05), blue=(30, 0, 0.05))
    assert steps.run() == {"hookStatus": "SUCCEEDED"}
    record = next(r for r in log_capture.logs() if str(r.get("message", "")).startswith("verdict "))
    (check,) = record["verdict"]["checks"]
    assert check["outcome"] == "inconclusive"
    assert "too little traffic to compare: green 4 requests, blue 60 in 2 minute(s)" in check["reason"]


def test_at_100_percent_there_is_nothing_to_compare(steps: StepWorld, log_capture: LogCapture) -> None:
    steps.put_minutes(5, green=(100, 50, 0.05), blue=(900, 0, 0.05))  # would fail if it compared
    assert steps.run(green_weight=100.0) == {"hookStatus": "SUCCEEDED"}
    record = next(r for r in log_capture.logs() if str(r.get("message", "")).startswith("verdict "))
    (check,) = record["verdict"]["checks"]
    assert check["outcome"] == "pass"
    assert check["reason"].startswith("production weights green 100 % / blue 0 %: blue serves no production traffic")


def test_metrics_from_before_the_deployment_started_are_not_read(steps: StepWorld, log_capture: LogCapture) -> None:
    # A regression 40 minutes ago belongs to an earlier deployment (the groups alternate): not judged.
    cloudwatch = steps.world.standin.client("cloudwatch")
    at = datetime.now(UTC) - STARTED_AGO - timedelta(minutes=10)
    for group, (requests, errors) in ((steps.green_group, (100, 60)), (steps.blue_group, (900, 0))):
        dims = [{"Name": "TargetGroup", "Value": group}, {"Name": "LoadBalancer", "Value": steps.load_balancer}]
        cloudwatch.put_metric_data(
            Namespace="AWS/ApplicationELB",
            MetricData=[
                {"MetricName": "RequestCount", "Dimensions": dims, "Value": requests, "Timestamp": at},
                {"MetricName": "HTTPCode_Target_5XX_Count", "Dimensions": dims, "Value": errors, "Timestamp": at},
            ],
        )
    steps.put_minutes(3, green=(100, 0, 0.05), blue=(900, 0, 0.05))
    assert steps.run() == {"hookStatus": "SUCCEEDED"}
    record = next(r for r in log_capture.logs() if str(r.get("message", "")).startswith("verdict "))
    (check,) = record["verdict"]["checks"]
    assert check["reason"].startswith("green 5xx 0/300 (0 %) vs blue 0/2700 (0 %)")


# --- plans that name ECS stages, through the runner ------------------------------------------------


def test_a_plan_entry_under_the_stage_name_is_honoured(
    steps: StepWorld, log_capture: LogCapture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The plan makes an inconclusive step block: the same like-blue minutes now roll back.
    plan = {"hooks": {"PRODUCTION_TRAFFIC_SHIFT": [{"id": "cloudwatch.step_gate", "on_inconclusive": "fail"}]}}
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    monkeypatch.setenv("TRAFFICGATE_PLAN_FILE", str(tmp_path / "plan.json"))
    steps.put_minutes(5, green=(100, 1, 0.05), blue=(900, 9, 0.05))
    assert steps.run() == {"hookStatus": "FAILED"}
    assert "cloudwatch.step_gate: green 5xx 5/500 (1.0 %)" in _verdict_reason(log_capture)


def test_a_plan_naming_an_unknown_stage_is_refused_naming_it(
    steps: StepWorld, log_capture: LogCapture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "plan.json").write_text(json.dumps({"hooks": {"PRODUCTION_TRAFFIC_SHIFTS": []}}))
    monkeypatch.setenv("TRAFFICGATE_PLAN_FILE", str(tmp_path / "plan.json"))
    assert steps.run() == {"hookStatus": "FAILED"}
    reason = _verdict_reason(log_capture)
    assert "hooks.PRODUCTION_TRAFFIC_SHIFTS: unknown hook or ECS stage 'PRODUCTION_TRAFFIC_SHIFTS'" in reason
    assert "PRODUCTION_TRAFFIC_SHIFT, POST_PRODUCTION_TRAFFIC_SHIFT" in reason
