"""BeforeInstall: the AppSpec's task definition exists and is ACTIVE (``ecs.task_definition``).

Layer L2 (a check). Before CodeDeploy creates the green task set, most reasons it would fail to
start can be read from the task definition alone; this check and its BeforeInstall siblings
share one ``DescribeTaskDefinition`` through the context.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from trafficgate.checks.base import Check, CheckResult
from trafficgate.discovery import TaskDefinitionNotFound

if TYPE_CHECKING:
    from trafficgate.context import CheckContext

TASK_DEFINITION_CHECK_ID = "ecs.task_definition"


@dataclass(kw_only=True)
class TaskDefinitionActive(Check):
    """The AppSpec's task definition exists and is ACTIVE.

    CodeDeploy cannot start a green task set from an INACTIVE (deregistered) revision.
    """

    check_id: str = TASK_DEFINITION_CHECK_ID

    def run(self, ctx: CheckContext) -> CheckResult:
        arn = ctx.appspec().task_definition_arn
        try:
            definition = ctx.task_definition()
        except TaskDefinitionNotFound as exc:
            return CheckResult.failed(
                f"{exc}: register it or fix TaskDefinition in the AppSpec", value="NOT_FOUND", threshold="ACTIVE"
            )
        status = str(definition.get("status") or "UNKNOWN")
        details = {
            "taskDefinitionArn": definition.get("taskDefinitionArn", arn),
            "family": definition.get("family"),
            "revision": definition.get("revision"),
        }
        if status != "ACTIVE":
            return CheckResult.failed(
                f"task definition {arn} is {status}: deploy an ACTIVE revision",
                value=status,
                threshold="ACTIVE",
                details=details,
            )
        return CheckResult.passed(f"task definition {arn} is ACTIVE", value=status, threshold="ACTIVE", details=details)
