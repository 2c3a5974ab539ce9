"""The built-in plan of each hook: an explicit list of checks, minus those the operator switched off.

Layer L3 (composition): imports the checks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from trafficgate.checks.alarms import AlarmsCheck
from trafficgate.checks.compare import BUILTIN_POLICY, HttpCompare
from trafficgate.checks.container_port import ContainerPortMapped
from trafficgate.checks.diff import BUILTIN_POLICY as DIFF_POLICY
from trafficgate.checks.diff import HttpDiff
from trafficgate.checks.ecr import EcrImagesExist, EcrScanFindings
from trafficgate.checks.execution_role import ExecutionRole
from trafficgate.checks.health_check import HealthCheckConfigured
from trafficgate.checks.http import BUILTIN_POLICY as PROBE_POLICY
from trafficgate.checks.http import PROD_LISTENER_CHECK_ID, TEST_LISTENER_CHECK_ID, HttpProbe
from trafficgate.checks.metrics import FiveXxRate, TargetP95, UnhealthyHosts
from trafficgate.checks.plaintext_secrets import BUILTIN_POLICY as PLAINTEXT_POLICY
from trafficgate.checks.plaintext_secrets import PlaintextSecrets
from trafficgate.checks.required_env import RequiredEnvironment
from trafficgate.checks.secrets import SecretReferencesExist
from trafficgate.checks.security_groups import SecurityGroupsAllowLoadBalancer
from trafficgate.checks.step_gate import BUILTIN_POLICY as STEP_GATE_POLICY
from trafficgate.checks.step_gate import StepGate
from trafficgate.checks.stopped_tasks import StoppedTasks
from trafficgate.checks.targets import TargetsHealthy
from trafficgate.checks.task_definition import TaskDefinitionActive
from trafficgate.checks.task_size import TaskSize
from trafficgate.checks.taskset import TaskSetSteady
from trafficgate.checks.vpc_endpoints import BUILTIN_POLICY as ENDPOINTS_POLICY
from trafficgate.checks.vpc_endpoints import VpcEndpoints
from trafficgate.hooks import EcsStage, Hook
from trafficgate.policy import DEFAULT_POLICY

if TYPE_CHECKING:
    from trafficgate.checks.base import Check
    from trafficgate.config import Settings

#: With the fixed decision, BeforeAllowTraffic sends one more, shorter burst: this share of the
#: configured requests...
SHORT_BURST_SHARE = 5
#: ...but never fewer than this many requests (and never more than the configured burst).
SHORT_BURST_MIN = 5


def short_burst(requests: int) -> int:
    """The request count of BeforeAllowTraffic's confirming fixed burst for a configured ``requests``."""
    return min(requests, max(SHORT_BURST_MIN, requests // SHORT_BURST_SHARE))


def default_plan(hook: Hook, settings: Settings) -> list[Check]:
    """The built-in plan for ``hook``, without the checks ``TRAFFICGATE_DISABLED_CHECKS`` switched off.

    - BeforeInstall: the new task definition (exists and ACTIVE, container port, size, ECR
      images and scan findings, secret references, required environment, credentials in plain
      environment as a dry run: reported, never blocking), the tasks' security groups against the
      load balancer's, and the green target group's health check. No HTTP probe: the test listener
      still routes to blue.
    - BeforeInstall, also: the execution role may pull the images and read the secrets, the task
      role exists (``iam.execution_role``); subnets without egress have the VPC endpoints the task
      needs (``network.vpc_endpoints``, a dry run: reported, never blocking).
    - AfterInstall: the green task set is steady, its targets healthy, none of its tasks stopped.
    - AfterAllowTestTraffic: green's targets healthy behind the test listener, and a burst on it.
    - BeforeAllowTraffic: no alarm firing, and one more burst on the test listener (a short one
      with the fixed decision; a sequential burst stops by itself once its success rate is shown).
    - The bursts decide sequentially by default; inconclusive at their cap, they do not block
      (``PROBE_POLICY``), and no request judged fails.
    - Both of them, unless ``TRAFFICGATE_COMPARE`` is off: green (test listener) against blue
      (production listener), last, once the burst has judged green alone. It skips itself when
      either listener is unknown; inconclusive at its cap, it does not block (``BUILTIN_POLICY``).
    - Both of them, after that: ``http.diff``, green's answers against blue's (status class,
      content type, JSON shape) on a few GETs of the probe path, as a dry run: reported, never
      blocking. It skips itself when either listener is unknown.
    - AfterAllowTraffic: no alarm firing, CloudWatch metrics over the bake window, and a burst on
      the production listener (now green).
    """
    checks: list[Check]
    probe_policy = PROBE_POLICY if settings.probe.sequential else DEFAULT_POLICY
    if hook is Hook.BEFORE_INSTALL:
        checks = [
            TaskDefinitionActive(),
            ContainerPortMapped(),
            TaskSize(),
            EcrImagesExist(),
            EcrScanFindings(),
            SecretReferencesExist(),
            RequiredEnvironment(),
            PlaintextSecrets(policy=PLAINTEXT_POLICY),
            SecurityGroupsAllowLoadBalancer(),
            HealthCheckConfigured(),
            ExecutionRole(),
            VpcEndpoints(policy=ENDPOINTS_POLICY),
        ]
    elif hook is Hook.AFTER_INSTALL:
        checks = [TaskSetSteady(), TargetsHealthy(), StoppedTasks()]
    elif hook is Hook.AFTER_ALLOW_TEST_TRAFFIC:
        # Green is behind the test listener now: its targets must be healthy, then answer well.
        checks = [TargetsHealthy(), HttpProbe(check_id=TEST_LISTENER_CHECK_ID, listener="test", policy=probe_policy)]
    elif hook is Hook.BEFORE_ALLOW_TRAFFIC:
        short = None if settings.probe.sequential else short_burst(settings.probe.requests)
        checks = [
            AlarmsCheck(),
            HttpProbe(check_id=TEST_LISTENER_CHECK_ID, listener="test", requests=short, policy=probe_policy),
        ]
    else:
        checks = [
            AlarmsCheck(),
            FiveXxRate(),
            TargetP95(),
            UnhealthyHosts(),
            HttpProbe(check_id=PROD_LISTENER_CHECK_ID, listener="prod", policy=probe_policy),
        ]
    if hook in (Hook.AFTER_ALLOW_TEST_TRAFFIC, Hook.BEFORE_ALLOW_TRAFFIC) and settings.compare:
        checks.append(HttpCompare(policy=BUILTIN_POLICY))
    if hook in (Hook.AFTER_ALLOW_TEST_TRAFFIC, Hook.BEFORE_ALLOW_TRAFFIC):
        checks.append(HttpDiff(policy=DIFF_POLICY))
    return [c for c in checks if c.check_id not in settings.disabled_checks]


def default_stage_plan(stage: EcsStage, settings: Settings) -> list[Check]:
    """The built-in plan of an ECS native stage that has no CodeDeploy hook (:attr:`EcsStage.hook`).

    - PRODUCTION_TRAFFIC_SHIFT (called at every linear or canary step): ``cloudwatch.step_gate``,
      green's ALB metrics against blue's while both serve production traffic. Inconclusive (too
      little traffic, too few minutes), it does not block (``STEP_GATE_POLICY``).
    - RECONCILE_SERVICE and TEST_TRAFFIC_SHIFT: none.
    """
    checks: list[Check] = [StepGate(policy=STEP_GATE_POLICY)] if stage is EcsStage.PRODUCTION_TRAFFIC_SHIFT else []
    return [c for c in checks if c.check_id not in settings.disabled_checks]
