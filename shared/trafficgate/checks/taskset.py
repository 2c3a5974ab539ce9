"""AfterInstall: the green task set is steady, every desired task running (``ecs.taskset_steady``).

Layer L2 (a check). CodeDeploy calls AfterInstall once the replacement (green) task set exists but
before any traffic reaches it: the cheapest moment to stop a deployment whose tasks cannot start.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from trafficgate.checks.base import Check, CheckResult
from trafficgate.ranges import Range, bounded

if TYPE_CHECKING:
    from trafficgate.context import CheckContext

TASKSET_STEADY_CHECK_ID = "ecs.taskset_steady"


@dataclass(kw_only=True)
class TaskSetSteady(Check):
    """The green task set is steady: every desired task runs and none is pending.

    Polls CodeDeploy's view of the task sets until they are steady, ``timeout_s``
    (``TRAFFICGATE_STEADY_TIMEOUT_S`` by default) has passed, or the hook's deadline comes. A
    timeout longer than the invocation continues the hook (ECS ``IN_PROGRESS``, a CodeDeploy
    hook's next link): the wait counts from the first look, whichever call made it.

    Parameters
    ----------
    poll_interval_s
        Pause between two reads of the task sets.
    timeout_s
        How long to wait for a steady task set; the operator's ``steady_timeout_s`` when omitted.
    """

    check_id: str = TASKSET_STEADY_CHECK_ID
    poll_interval_s: float = bounded(1.0, Range(0.1, 60))
    timeout_s: float | None = bounded(None, Range(0, 900))

    def run(self, ctx: CheckContext) -> CheckResult:
        resumed = ctx.resumed_time("since")
        since = time.time() if resumed is None else resumed
        # The first look's time on this process's monotonic clock (it may have been an earlier call).
        started = time.monotonic() - max(0.0, time.time() - since)
        timeout_s = ctx.settings.steady_timeout_s if self.timeout_s is None else self.timeout_s
        stop_at = min(started + timeout_s, ctx.deadline - ctx.time_after_s)
        progress = ctx.progress(self.check_id)
        deployment = ctx.deployment()
        threshold = "running == desired and pending == 0"
        while True:
            green = deployment.green
            if green is None:
                return CheckResult.failed(
                    f"deployment {deployment.deployment_id} has no GREEN task set "
                    f"(task sets: {deployment.describe_task_sets()})",
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
                look_again = min(self.poll_interval_s, started + timeout_s - now)
                if look_again > 0 and ctx.can_wait_until(time.time() + look_again):
                    return CheckResult.wait(
                        f"green task set {green.identifier} running {green.running}/{green.desired}, "
                        f"pending {green.pending} after {waited:.0f} s of {timeout_s:.0f} s; still waiting",
                        after_s=look_again,
                        state={"since": round(since, 3)},
                        value=value,
                        threshold=threshold,
                    )
                cut = " (hook deadline)" if stop_at < started + timeout_s else ""
                return CheckResult.failed(
                    f"green task set {green.identifier} running {green.running}/{green.desired}, "
                    f"pending {green.pending} after {waited:.0f} s{cut}",
                    value=value,
                    threshold=threshold,
                    details={"task_set": green.identifier, "status": green.status, "timeout_s": timeout_s},
                )
            if not ctx.sleep(max(0.0, min(self.poll_interval_s, stop_at - now))):
                return CheckResult.inconclusive("called off: the hook reported without this check")
            deployment = dataclasses.replace(deployment, task_sets=ctx.read_task_sets())
