"""The one place that decides which checks a hook runs.

Layer L3 (composition).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from trafficgate.plan.defaults import default_plan
from trafficgate.plan.loader import checks_or_defaults
from trafficgate.plan.sources import configured_plan

if TYPE_CHECKING:
    from trafficgate.checks.base import Check
    from trafficgate.context import CheckContext
    from trafficgate.hooks import Hook


def plan_for(hook: Hook, ctx: CheckContext) -> list[Check]:
    """The checks ``hook`` runs for this deployment: its configured plan, else the built-in defaults."""
    return checks_or_defaults(configured_plan(ctx), hook, default_plan(hook, ctx.settings))
