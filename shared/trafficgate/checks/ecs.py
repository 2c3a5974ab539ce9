"""AfterInstall checks of the ECS side: the green task set is steady, its targets healthy, no task died.

CodeDeploy calls AfterInstall once the replacement (green) task set exists but before any
traffic reaches it, so this is the cheapest moment to stop a deployment whose tasks cannot
start, crash (OOM, a bad image) or fail their load balancer health checks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from trafficgate.checks.base import Check, CheckError, CheckResult

if TYPE_CHECKING:
    from trafficgate.context import CheckContext
    from trafficgate.discovery import Deployment, TargetGroup, TaskSet

TASKSET_STEADY_CHECK_ID = "ecs.taskset_steady"
TARGETS_HEALTHY_CHECK_ID = "elb.targets_healthy"
STOPPED_TASKS_CHECK_ID = "ecs.stopped_tasks"

#: Tasks named one by one in a reason; the rest are counted (the reason stays one line).
MAX_NAMED = 3
#: DescribeTasks accepts at most this many tasks per call.
DESCRIBE_TASKS_BATCH = 100


def aws_error(what: str, exc: Exception) -> CheckError:
    """A :class:`CheckError` naming what could not be read and the AWS error code (never the message)."""
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "unknown")
        return CheckError(f"could not read {what}: AWS error {code}")
    return CheckError(f"could not read {what}: {type(exc).__name__}")


def green_task_set(task_sets: tuple[TaskSet, ...]) -> TaskSet | None:
    """The task set CodeDeploy labels GREEN (the replacement), if any."""
    return next((t for t in task_sets if t.label.upper() == "GREEN"), None)


def green_target_group(deployment: Deployment) -> TargetGroup:
    """The target group the green task set registers in.

    The green task set's own ``targetGroup`` wins; without one, the second group of the
    deployment group's pair (CodeDeploy's convention: [blue, green]).

    Raises
    ------
    CheckError
        When no target group (or its ARN) is known.
    """
    green = green_task_set(deployment.task_sets)
    groups = {tg.name: tg for tg in deployment.target_groups}
    if green is not None and green.target_group:
        found = groups.get(green.target_group)
        if found is None:
            raise CheckError(
                f"green task set {green.identifier} names target group {green.target_group}, "
                f"which is not one of the deployment group's ({', '.join(groups) or 'none'})"
            )
    elif len(deployment.target_groups) >= 2:
        found = deployment.target_groups[1]
    else:
        raise CheckError(f"deployment {deployment.deployment_id} has no green target group")
    if not found.arn:
        raise CheckError(f"target group {found.name} has no known ARN")
    return found


def _describe_labels(task_sets: tuple[TaskSet, ...]) -> str:
    return ", ".join(f"{t.label or '?'} {t.identifier}" for t in task_sets) or "none"


@dataclass(kw_only=True)
class TaskSetSteady(Check):
    """The green task set is steady: every desired task runs and none is pending.

    Polls CodeDeploy's view of the task sets until they are steady, ``timeout_s``
    (``TRAFFICGATE_STEADY_TIMEOUT_S`` by default) has passed, or the hook's deadline comes.

    Parameters
    ----------
    poll_interval_s
        Pause between two reads of the task sets.
    timeout_s
        How long to wait for a steady task set; the operator's ``steady_timeout_s`` when omitted.
    """

    check_id: str = TASKSET_STEADY_CHECK_ID
    poll_interval_s: float = 1.0
    timeout_s: float | None = None

    def run(self, ctx: CheckContext) -> CheckResult:
        from trafficgate.discovery import read_task_sets

        started = time.monotonic()
        timeout_s = ctx.settings.steady_timeout_s if self.timeout_s is None else self.timeout_s
        stop_at = min(started + timeout_s, ctx.deadline)
        progress = ctx.progress(self.check_id)
        deployment = ctx.deployment()
        task_sets = deployment.task_sets
        threshold = "running == desired and pending == 0"
        while True:
            green = green_task_set(task_sets)
            if green is None:
                return CheckResult.failed(
                    f"deployment {deployment.deployment_id} has no GREEN task set "
                    f"(task sets: {_describe_labels(task_sets)})",
                    threshold=threshold,
                )
            value = {"running": green.running, "desired": green.desired, "pending": green.pending}
            if progress is not None:
                progress(min(green.running, green.desired), green.desired)
            waited = time.monotonic() - started
            if green.running == green.desired and green.pending == 0:
                warnings: tuple[str, ...] = ()
                if green.desired == 0:
                    warnings = (f"green task set {green.identifier} has a desired count of 0",)
                return CheckResult.passed(
                    f"green task set {green.identifier} steady: running {green.running}/{green.desired}, "
                    f"pending 0 after {waited:.0f} s",
                    value=value,
                    threshold=threshold,
                    details={"task_set": green.identifier, "status": green.status},
                    warnings=warnings,
                )
            now = time.monotonic()
            if now >= stop_at:
                cut = " (hook deadline)" if stop_at < started + timeout_s else ""
                return CheckResult.failed(
                    f"green task set {green.identifier} running {green.running}/{green.desired}, "
                    f"pending {green.pending} after {waited:.0f} s{cut}",
                    value=value,
                    threshold=threshold,
                    details={"task_set": green.identifier, "status": green.status, "timeout_s": timeout_s},
                )
            time.sleep(max(0.0, min(self.poll_interval_s, stop_at - now)))
            task_sets = read_task_sets(ctx.deployment_id, ctx.aws)


@dataclass(kw_only=True)
class TargetsHealthy(Check):
    """Every target registered in the green target group is ``healthy``."""

    check_id: str = TARGETS_HEALTHY_CHECK_ID

    def run(self, ctx: CheckContext) -> CheckResult:
        group = green_target_group(ctx.deployment())
        try:
            descriptions = ctx.aws.client("elbv2").describe_target_health(TargetGroupArn=group.arn)[
                "TargetHealthDescriptions"
            ]
        except (ClientError, BotoCoreError) as exc:
            raise aws_error(f"target health of {group.name}", exc) from None
        targets = [_target(item) for item in descriptions]
        sick = [t for t in targets if t["state"] != "healthy"]
        details: dict[str, Any] = {"target_group": group.name, "targets": targets}
        if not targets:
            return CheckResult.failed(
                f"no target registered in green target group {group.name}",
                value=0,
                threshold="every target healthy",
                details=details,
            )
        if not sick:
            return CheckResult.passed(
                f"{len(targets)}/{len(targets)} targets healthy in green target group {group.name}",
                value=0,
                threshold=0,
                details=details,
            )
        named = "; ".join(_describe_target(t) for t in sick[:MAX_NAMED])
        more = f"; and {len(sick) - MAX_NAMED} more" if len(sick) > MAX_NAMED else ""
        return CheckResult.failed(
            f"{len(sick)}/{len(targets)} targets not healthy in green target group {group.name}: {named}{more}",
            value=len(sick),
            threshold=0,
            details=details,
        )


def _target(item: dict[str, Any]) -> dict[str, Any]:
    target = item.get("Target") or {}
    health = item.get("TargetHealth") or {}
    return {
        "id": target.get("Id", "?"),
        "port": target.get("Port"),
        "state": health.get("State", "unknown"),
        "reason": health.get("Reason"),
        "description": health.get("Description"),
    }


def _describe_target(target: dict[str, Any]) -> str:
    where = target["id"] if target["port"] is None else f"{target['id']}:{target['port']}"
    why = ": ".join(str(p) for p in (target["reason"], target["description"]) if p)
    return f"{where} {target['state']}" + (f" ({why})" if why else "")


@dataclass(kw_only=True)
class StoppedTasks(Check):
    """No task of the green task set has stopped (OOM, a failed image pull, an exiting container).

    ECS sets ``startedBy`` of a task set's tasks to the task set id; those that stopped are
    listed and described, each with its ``stoppedReason`` and its containers' ``reason``.

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
        if self.group is not None:
            scope = f"group {self.group}"
        else:
            green = green_task_set(deployment.task_sets)
            if green is None:
                return CheckResult.failed(
                    f"deployment {deployment.deployment_id} has no GREEN task set "
                    f"(task sets: {_describe_labels(deployment.task_sets)})"
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
        except (ClientError, BotoCoreError) as exc:
            raise aws_error(f"stopped tasks of {scope}", exc) from None
        if self.group is not None:
            tasks = [t for t in tasks if t.get("group") == self.group]
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


def after_install_checks() -> list[Check]:
    """The AfterInstall checks, in order: steady task set, healthy targets, no stopped task."""
    return [TaskSetSteady(), TargetsHealthy(), StoppedTasks()]
