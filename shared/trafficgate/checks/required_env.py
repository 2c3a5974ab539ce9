"""BeforeInstall: every essential container sets the required variables (``ecs.required_env``).

Layer L2 (a check).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from trafficgate.checks.base import Check, CheckResult
from trafficgate.discovery import containers, is_essential

if TYPE_CHECKING:
    from trafficgate.context import CheckContext

REQUIRED_ENV_CHECK_ID = "ecs.required_env"


@dataclass(kw_only=True)
class RequiredEnvironment(Check):
    """Every name in ``settings.required_env`` is set by every essential container.

    A name counts as set when it is in the container's ``environment`` or ``secrets``. A container
    with ``environmentFiles`` may set it there, which cannot be read from the task definition: that
    is a warning, not a failure.
    """

    check_id: str = REQUIRED_ENV_CHECK_ID

    def run(self, ctx: CheckContext) -> CheckResult:
        required = tuple(ctx.settings.required_env)
        if not required:
            return CheckResult.passed("no required variables configured", value={}, threshold=[])
        missing: dict[str, list[str]] = {}
        warnings: list[str] = []
        essential = [c for c in containers(ctx.task_definition()) if is_essential(c)]
        for container in essential:
            name = str(container.get("name"))
            present = {str(e.get("name")) for e in container.get("environment") or []}
            present |= {str(s.get("name")) for s in container.get("secrets") or []}
            absent = [n for n in required if n not in present]
            if not absent:
                continue
            if container.get("environmentFiles"):
                warnings.append(f"container {name}: cannot verify environmentFiles for {', '.join(absent)}")
            else:
                missing[name] = absent
        details = {"containers": [str(c.get("name")) for c in essential]}
        if missing:
            parts = [f"container {c} does not set {', '.join(names)}" for c, names in missing.items()]
            return CheckResult.failed(
                "; ".join(parts) + " (environment or secrets)",
                value=missing,
                threshold=list(required),
                details=details,
                warnings=tuple(warnings),
            )
        return CheckResult.passed(
            f"{len(essential)} essential container(s) set {', '.join(required)}",
            value=missing,
            threshold=list(required),
            details=details,
            warnings=tuple(warnings),
        )


# --------------------------------------------------------------------------------------------
