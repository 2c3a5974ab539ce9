"""AfterInstall: no task of the green task set has stopped (``ecs.stopped_tasks``).

Layer L2 (a check). OOM kills, failed image pulls and exiting containers show up here, each with
ECS's ``stoppedReason`` and its containers' ``reason``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trafficgate.aws import AWS_ERRORS, read_error
from trafficgate.checks.base import Check, CheckError, CheckResult

if TYPE_CHECKING:
    from trafficgate.context import CheckContext

STOPPED_TASKS_CHECK_ID = "ecs.stopped_tasks"
#: Tasks named one by one in a reason; the rest are counted (the reason stays one line).
MAX_NAMED = 3
#: DescribeTasks accepts at most this many tasks per call.
DESCRIBE_TASKS_BATCH = 100


@dataclass(kw_only=True)
class StoppedTasks(Check):
    """No task of the green task set has stopped (OOM, a failed image pull, an exiting container).

    ECS sets ``startedBy`` of a task set's tasks to the task set id; those that stopped are
    listed and described, each with its ``stoppedReason`` and its containers' ``reason``. On ECS
    native blue/green there are no task sets: the service's stopped tasks that run the target
    revision's task definition count.

    Parameters
    ----------
    group
        Look tasks up by their ``group`` (for example ``service:web``) instead of by the green
        task set id: every stopped task of the cluster in that group counts.
    """

    check_id: str = STOPPED_TASKS_CHECK_ID
    group: str | None = None

    def run(self, ctx: CheckContext) -> CheckResult:
        deployment = ctx.deployment()
        if not deployment.cluster:
            raise CheckError(f"deployment group {deployment.deployment_group} names no ECS cluster")
        kwargs: dict[str, Any] = {"cluster": deployment.cluster, "desiredStatus": "STOPPED"}
        revision_task_definition: str | None = None
        if self.group is not None:
            scope = f"group {self.group}"
        elif ctx.platform == "ecs":
            if not deployment.service or deployment.appspec is None:
                raise CheckError(f"service deployment {deployment.deployment_id} names no service or task definition")
            revision_task_definition = deployment.appspec.task_definition_arn
            kwargs["serviceName"] = deployment.service
            scope = f"service {deployment.service} on task definition {revision_task_definition.rsplit('/', 1)[-1]}"
        else:
            green = deployment.green
            if green is None:
                return CheckResult.failed(
                    f"deployment {deployment.deployment_id} has no GREEN task set "
                    f"(task sets: {deployment.describe_task_sets()})"
                )
            kwargs["startedBy"] = green.identifier
            scope = f"green task set {green.identifier}"
        ecs = ctx.aws.client("ecs")
        try:
            arns: list[str] = []
            for page in ecs.get_paginator("list_tasks").paginate(**kwargs):
                arns.extend(page.get("taskArns") or [])
            tasks: list[dict[str, Any]] = []
            for i in range(0, len(arns), DESCRIBE_TASKS_BATCH):
                answer = ecs.describe_tasks(cluster=deployment.cluster, tasks=arns[i : i + DESCRIBE_TASKS_BATCH])
                tasks.extend(answer.get("tasks") or [])
        except AWS_ERRORS as exc:
            raise read_error(f"stopped tasks of {scope}", exc) from None
        if self.group is not None:
            tasks = [t for t in tasks if t.get("group") == self.group]
        if revision_task_definition is not None:
            tasks = [t for t in tasks if t.get("taskDefinitionArn") == revision_task_definition]
        stopped = [_stopped(t) for t in tasks]
        details: dict[str, Any] = {"scope": scope, "cluster": deployment.cluster, "stopped": stopped}
        if not stopped:
            return CheckResult.passed(f"no stopped task in {scope}", value=0, threshold=0, details=details)
        named = "; ".join(_describe_stopped(t) for t in stopped[:MAX_NAMED])
        more = f"; and {len(stopped) - MAX_NAMED} more" if len(stopped) > MAX_NAMED else ""
        noun = "task" if len(stopped) == 1 else "tasks"
        return CheckResult.failed(
            f"{len(stopped)} {noun} of {scope} stopped: {named}{more}",
            value=len(stopped),
            threshold=0,
            details=details,
        )


def _stopped(task: dict[str, Any]) -> dict[str, Any]:
    containers = [
        {"name": c.get("name"), "reason": c.get("reason"), "exit_code": c.get("exitCode")}
        for c in task.get("containers") or []
    ]
    return {
        "task": str(task.get("taskArn", "?")).rsplit("/", 1)[-1],
        "stop_code": task.get("stopCode"),
        "stopped_reason": task.get("stoppedReason") or None,
        "containers": containers,
    }


def _describe_stopped(task: dict[str, Any]) -> str:
    parts = [p for p in (task["stop_code"], task["stopped_reason"]) if p]
    text = f"task {task['task']}" + (f" {': '.join(parts)}" if parts else "")
    reasons = []
    for container in task["containers"]:
        why = container["reason"]
        if container["exit_code"] is not None and container["exit_code"] != 0:
            why = f"{why}, exit {container['exit_code']}" if why else f"exit {container['exit_code']}"
        if why:
            reasons.append(f"{container['name']}: {why}")
    return text + (f" ({'; '.join(reasons)})" if reasons else "")
