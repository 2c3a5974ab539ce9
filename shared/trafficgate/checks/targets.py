"""AfterInstall: every target of the green target group is healthy (``elb.targets_healthy``).

Layer L2 (a check).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trafficgate.aws import AWS_ERRORS, read_error
from trafficgate.checks.base import Check, CheckResult

if TYPE_CHECKING:
    from trafficgate.context import CheckContext

TARGETS_HEALTHY_CHECK_ID = "elb.targets_healthy"
#: Targets named one by one in a reason; the rest are counted (the reason stays one line).
MAX_NAMED = 3


@dataclass(kw_only=True)
class TargetsHealthy(Check):
    """Every target registered in the green target group is ``healthy``."""

    check_id: str = TARGETS_HEALTHY_CHECK_ID

    def run(self, ctx: CheckContext) -> CheckResult:
        group = ctx.deployment().green_target_group()
        try:
            descriptions = ctx.aws.client("elbv2").describe_target_health(TargetGroupArn=group.arn)[
                "TargetHealthDescriptions"
            ]
        except AWS_ERRORS as exc:
            raise read_error(f"target health of {group.name}", exc) from None
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
