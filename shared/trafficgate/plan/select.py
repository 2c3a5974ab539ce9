"""The one place that decides which checks a hook (or an ECS native stage) runs.

Layer L3 (composition).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from trafficgate.plan.defaults import default_plan, default_stage_plan
from trafficgate.plan.loader import checks_or_defaults
from trafficgate.plan.sources import configured_plan

if TYPE_CHECKING:
    from trafficgate.checks.base import Check
    from trafficgate.context import CheckContext
    from trafficgate.hooks import Hook


def plan_for(hook: Hook, ctx: CheckContext) -> list[Check]:
    """The checks ``hook`` runs for this deployment: its configured plan, else the built-in defaults.

    On ECS (``ctx.ecs_stage``), the plan's entry under the stage's own name comes first; then, for a
    stage mapped to a CodeDeploy hook, that hook's entry and defaults; for a stage without one
    (RECONCILE_SERVICE, TEST_TRAFFIC_SHIFT, PRODUCTION_TRAFFIC_SHIFT), the stage's built-in checks.
    """
    plan = configured_plan(ctx)
    stage = ctx.ecs_stage
    if stage is not None:
        planned = plan.checks_for(stage) if plan is not None else None
        if planned is not None:
            return planned
        if stage.hook is None:
            return default_stage_plan(stage, ctx.settings)
    return checks_or_defaults(plan, hook, default_plan(hook, ctx.settings))
