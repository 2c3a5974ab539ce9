"""The one place that decides which checks a hook (or an ECS native stage) runs.

Layer L3 (composition).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from trafficgate.hooks import EcsStage
from trafficgate.observability import logger
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

    With a LINEAR or CANARY strategy ECS calls PRE_PRODUCTION_TRAFFIC_SHIFT before *every*
    production step (ECS API reference, ``DeploymentLifecycleHook.lifecycleStages``).
    BeforeAllowTraffic's plan (the test listener's burst, green against blue, an approval) judges
    green once, before production first reaches it: a call whose event already gives green a
    share of production comes between steps, and runs no checks unless the plan names the stage
    itself. Each step is judged at PRODUCTION_TRAFFIC_SHIFT (``cloudwatch.step_gate``).
    """
    plan = configured_plan(ctx)
    stage = ctx.ecs_stage
    if stage is not None:
        planned = plan.checks_for(stage) if plan is not None else None
        if planned is not None:
            return planned
        if stage.hook is None:
            return default_stage_plan(stage, ctx.settings)
        green = ctx.green_production_percent() if stage is EcsStage.PRE_PRODUCTION_TRAFFIC_SHIFT else None
        if green is not None and green > 0:
            ctx.empty_plan_reason = (
                f"no checks between production steps: green already has {green:g} % of production; "
                f"{stage.hook.value}'s plan ran before the first step, and PRODUCTION_TRAFFIC_SHIFT judges each step"
            )
            logger.info(ctx.empty_plan_reason, extra={"stage": stage.value, "green_percent": green})
            return []
    return checks_or_defaults(plan, hook, default_plan(hook, ctx.settings))
