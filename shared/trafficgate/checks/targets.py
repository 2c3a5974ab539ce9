"""The green target group's targets are healthy, as the load balancer judges them (``elb.targets_healthy``).

Layer L2 (a check).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trafficgate.aws import AWS_ERRORS, read_error
from trafficgate.checks.base import Check, CheckResult
from trafficgate.hooks import Hook
from trafficgate.ranges import Range, bounded

if TYPE_CHECKING:
    from trafficgate.context import CheckContext

TARGETS_HEALTHY_CHECK_ID = "elb.targets_healthy"
#: Targets named one by one in a reason; the rest are counted (the reason stays one line).
MAX_NAMED = 3


@dataclass(kw_only=True)
class TargetsHealthy(Check):
    """The green target group's targets are ``healthy``, polled as the load balancer judges them.

    The states a real load balancer reports are all judged (AWS ELBv2 ``TargetHealth.State``):

    - ``healthy``: good.
    - ``initial`` (registering, first health checks) and ``draining``: not judged yet; the check
      polls until they settle or ``timeout_s`` (``TRAFFICGATE_STEADY_TIMEOUT_S``) ends.
    - ``unused`` (``Target.NotInUse``: no listener or rule forwards to the group): at AfterInstall
      that is the normal state, since traffic reaches green only at AllowTestTraffic, and blue and
      green swap target groups after every deployment; the check passes with a note and leaves
      the judgement to the task set's running state and the stopped-task reasons. From
      AfterAllowTestTraffic on, green must be ``healthy``: ``unused`` is polled, then fails.
    - ``unhealthy``, ``unhealthy.draining`` (unhealthy, and drained for it) and ``unavailable``: fails
      at once, naming the reason the load balancer gives.
    - Any other state (one AWS adds later): not taken for healthy; polled like ``initial``, then fails
      naming it.

    Parameters
    ----------
    timeout_s
        How long to wait for the targets to settle; the operator's ``steady_timeout_s`` when omitted.
    poll_interval_s
        Pause between two reads of the target health.
    """

    check_id: str = TARGETS_HEALTHY_CHECK_ID
    timeout_s: float | None = bounded(None, Range(0, 900))
    poll_interval_s: float = bounded(2.0, Range(0.1, 60))

    def run(self, ctx: CheckContext) -> CheckResult:
        group = ctx.deployment().green_target_group()
        before_traffic = HOOK_ORDER.index(ctx.hook) < HOOK_ORDER.index(Hook.AFTER_ALLOW_TEST_TRAFFIC)
        timeout_s = ctx.settings.steady_timeout_s if self.timeout_s is None else self.timeout_s
        started = time.monotonic()
        stop_at = min(started + timeout_s, ctx.deadline - ctx.time_after_s)
        seen: list[str] = []
        while True:
            targets = self._read(ctx, group.arn or "", group.name)
            states = sorted({t["state"] for t in targets})
            if not seen or seen[-1] != "/".join(states):
                seen.append("/".join(states) or "none")
            details: dict[str, Any] = {"target_group": group.name, "targets": targets, "states_seen": seen}
            # The step that first points a listener at green, in the platform's own words.
            shift = "TEST_TRAFFIC_SHIFT" if ctx.platform == "ecs" else "AllowTestTraffic"
            verdict = _judge(targets, group.name, before_traffic, details, shift=shift)
            if verdict is not None:
                return verdict
            now = time.monotonic()
            if now >= stop_at:
                return _unsettled(targets, group.name, now - started, details)
            if not ctx.sleep(min(self.poll_interval_s, stop_at - now)):
                return CheckResult.inconclusive("called off: the hook reported without this check", details=details)

    @staticmethod
    def _read(ctx: CheckContext, arn: str, name: str) -> list[dict[str, Any]]:
        try:
            answer = ctx.aws.client("elbv2").describe_target_health(TargetGroupArn=arn)
            descriptions = answer["TargetHealthDescriptions"]
        except AWS_ERRORS as exc:
            raise read_error(f"target health of {name}", exc) from None
        return [_target(item) for item in descriptions]


#: States the load balancer is still working on: wait and look again.
SETTLING = frozenset({"initial", "draining"})
#: States that condemn a target at once.
BROKEN = frozenset({"unhealthy", "unhealthy.draining", "unavailable"})
HOOK_ORDER = list(Hook)


def _judge(
    targets: list[dict[str, Any]],
    group: str,
    before_traffic: bool,
    details: dict[str, Any],
    *,
    shift: str = "AllowTestTraffic",
) -> CheckResult | None:
    """The result once the targets settled (or one is broken); None to look again."""
    broken = [t for t in targets if t["state"] in BROKEN]
    if broken:
        return CheckResult.failed(
            f"{len(broken)}/{len(targets)} targets unhealthy in green target group {group}: {_named(broken)}",
            value=len(broken),
            threshold=0,
            details=details,
        )
    if not targets or any(t["state"] in SETTLING for t in targets):
        return None
    if any(t["state"] not in {"healthy", "unused"} for t in targets):
        return None  # a state this check does not know is never taken for healthy: wait, then fail naming it
    unused = [t for t in targets if t["state"] == "unused"]
    if unused and before_traffic:
        healthy = len(targets) - len(unused)
        note = (
            f"{len(unused)}/{len(targets)} targets unused in green target group {group}: no listener forwards "
            f"to it before {shift}, so the load balancer has not judged them yet; the task set and the "
            "stopped tasks judge green for now"
        )
        return CheckResult.passed(
            note + (f"; {healthy} healthy" if healthy else ""),
            value=0,
            threshold=0,
            details=details,
            warnings=(note,),
        )
    if unused:
        return None  # from AfterAllowTestTraffic on, green must be behind a listener: wait for it
    return CheckResult.passed(
        f"{len(targets)}/{len(targets)} targets healthy in green target group {group}"
        + (f" (seen: {' -> '.join(details['states_seen'])})" if len(details["states_seen"]) > 1 else ""),
        value=0,
        threshold=0,
        details=details,
    )


def _unsettled(targets: list[dict[str, Any]], group: str, waited_s: float, details: dict[str, Any]) -> CheckResult:
    if not targets:
        reason = f"no target registered in green target group {group} after {waited_s:.0f} s"
        return CheckResult.failed(reason, value=0, threshold="every target healthy", details=details)
    waiting = [t for t in targets if t["state"] != "healthy"]
    return CheckResult.failed(
        f"{len(waiting)}/{len(targets)} targets not healthy in green target group {group} after {waited_s:.0f} s: "
        f"{_named(waiting)}",
        value=len(waiting),
        threshold=0,
        details=details,
    )


def _named(targets: list[dict[str, Any]]) -> str:
    named = "; ".join(_describe_target(t) for t in targets[:MAX_NAMED])
    return named + (f"; and {len(targets) - MAX_NAMED} more" if len(targets) > MAX_NAMED else "")


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
