"""Every built-in check a plan can name: one explicit table, id → check class (no import-time registry).

Layer L3 (composition): imports the checks. A plan entry names a type with ``check: <type>``;
without ``check``, its ``id`` is looked up here. Adding a built-in check means adding a line here
and, if it runs by default, a line in :mod:`trafficgate.plan.defaults`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trafficgate.checks.alarms import ALARMS_CHECK_ID, AlarmsCheck
from trafficgate.checks.approval import APPROVAL_CHECK_ID, ApprovalGate
from trafficgate.checks.base import Check
from trafficgate.checks.compare import COMPARE_CHECK_ID, HttpCompare
from trafficgate.checks.container_port import CONTAINER_PORT_CHECK_ID, ContainerPortMapped
from trafficgate.checks.diff import DIFF_CHECK_ID, HttpDiff
from trafficgate.checks.ecr import IMAGES_EXIST_CHECK_ID, SCAN_FINDINGS_CHECK_ID, EcrImagesExist, EcrScanFindings
from trafficgate.checks.execution_role import EXECUTION_ROLE_CHECK_ID, ExecutionRole
from trafficgate.checks.health_check import HEALTH_CHECK_CONFIG_CHECK_ID, HealthCheckConfigured
from trafficgate.checks.http import PROD_LISTENER_CHECK_ID, TEST_LISTENER_CHECK_ID, HttpProbe
from trafficgate.checks.metrics import (
    FIVE_XX_RATE_CHECK_ID,
    TARGET_P95_CHECK_ID,
    UNHEALTHY_HOSTS_CHECK_ID,
    FiveXxRate,
    TargetP95,
    UnhealthyHosts,
)
from trafficgate.checks.plaintext_secrets import PLAINTEXT_SECRETS_CHECK_ID, PlaintextSecrets
from trafficgate.checks.required_env import REQUIRED_ENV_CHECK_ID, RequiredEnvironment
from trafficgate.checks.secrets import SECRETS_CHECK_ID, SecretReferencesExist
from trafficgate.checks.security_groups import SECURITY_GROUPS_CHECK_ID, SecurityGroupsAllowLoadBalancer
from trafficgate.checks.step_gate import STEP_GATE_CHECK_ID, StepGate
from trafficgate.checks.stopped_tasks import STOPPED_TASKS_CHECK_ID, StoppedTasks
from trafficgate.checks.targets import TARGETS_HEALTHY_CHECK_ID, TargetsHealthy
from trafficgate.checks.task_definition import TASK_DEFINITION_CHECK_ID, TaskDefinitionActive
from trafficgate.checks.task_size import TASK_SIZE_CHECK_ID, TaskSize
from trafficgate.checks.taskset import TASKSET_STEADY_CHECK_ID, TaskSetSteady
from trafficgate.checks.vpc_endpoints import VPC_ENDPOINTS_CHECK_ID, VpcEndpoints

#: A check type: the class, and the parameters fixed by the name (a plan cannot override them).
CheckType = tuple[type[Check], Mapping[str, Any]]

#: Built-in type name or check id → check type.
BUILTIN_TYPES: Mapping[str, CheckType] = {
    # HTTP probes
    "http_probe": (HttpProbe, {}),
    TEST_LISTENER_CHECK_ID: (HttpProbe, {"listener": "test"}),
    PROD_LISTENER_CHECK_ID: (HttpProbe, {"listener": "prod"}),
    COMPARE_CHECK_ID: (HttpCompare, {}),
    DIFF_CHECK_ID: (HttpDiff, {}),
    # BeforeInstall: the new task definition
    TASK_DEFINITION_CHECK_ID: (TaskDefinitionActive, {}),
    CONTAINER_PORT_CHECK_ID: (ContainerPortMapped, {}),
    TASK_SIZE_CHECK_ID: (TaskSize, {}),
    IMAGES_EXIST_CHECK_ID: (EcrImagesExist, {}),
    SCAN_FINDINGS_CHECK_ID: (EcrScanFindings, {}),
    SECRETS_CHECK_ID: (SecretReferencesExist, {}),
    REQUIRED_ENV_CHECK_ID: (RequiredEnvironment, {}),
    PLAINTEXT_SECRETS_CHECK_ID: (PlaintextSecrets, {}),
    SECURITY_GROUPS_CHECK_ID: (SecurityGroupsAllowLoadBalancer, {}),
    HEALTH_CHECK_CONFIG_CHECK_ID: (HealthCheckConfigured, {}),
    EXECUTION_ROLE_CHECK_ID: (ExecutionRole, {}),
    VPC_ENDPOINTS_CHECK_ID: (VpcEndpoints, {}),
    # AfterInstall: the green task set and its targets
    TASKSET_STEADY_CHECK_ID: (TaskSetSteady, {}),
    TARGETS_HEALTHY_CHECK_ID: (TargetsHealthy, {}),
    STOPPED_TASKS_CHECK_ID: (StoppedTasks, {}),
    # Alarms and CloudWatch metrics
    ALARMS_CHECK_ID: (AlarmsCheck, {}),
    FIVE_XX_RATE_CHECK_ID: (FiveXxRate, {}),
    TARGET_P95_CHECK_ID: (TargetP95, {}),
    UNHEALTHY_HOSTS_CHECK_ID: (UnhealthyHosts, {}),
    # A person's decision (in no built-in plan)
    APPROVAL_CHECK_ID: (ApprovalGate, {}),
    # ECS native PRODUCTION_TRAFFIC_SHIFT: green against blue at each linear or canary step
    STEP_GATE_CHECK_ID: (StepGate, {}),
}
