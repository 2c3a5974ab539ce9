"""Which checks a hook runs: the configured plan, or the built-in defaults.

The built-in plan of each hook is an explicit list (no import-time registry). A plan from SSM
(per deployment group) or from a bundled file replaces the list of every hook it names; the
operator's ``TRAFFICGATE_DISABLED_CHECKS`` switches single built-in checks off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trafficgate.checks.http import PROD_LISTENER_CHECK_ID, TEST_LISTENER_CHECK_ID, HttpProbe
from trafficgate.hooks import Hook
from trafficgate.plan import checks_or_defaults
from trafficgate.plan.builtins import BUILTIN_TYPES
from trafficgate.plan.sources import configured_plan

if TYPE_CHECKING:
    from trafficgate.checks.base import Check
    from trafficgate.context import CheckContext

#: BeforeAllowTraffic sends one more short burst: this share of the configured requests.
SHORT_BURST_SHARE = 5


def check_types() -> dict[str, tuple[type[Check], dict[str, Any]]]:
    """Every built-in check type a plan may name, by type name and by check id."""
    return dict(BUILTIN_TYPES)


def default_plan(hook: Hook, ctx: CheckContext) -> list[Check]:
    """The built-in plan for ``hook``, without the checks the operator switched off.

    BeforeInstall and AfterInstall probe nothing over HTTP: at that point the test listener
    still routes to blue. AfterAllowTestTraffic and BeforeAllowTraffic probe the test listener
    (now green); AfterAllowTraffic probes the production listener (now green).
    """
    checks: list[Check] = []
    if hook is Hook.AFTER_ALLOW_TEST_TRAFFIC:
        checks = [HttpProbe(check_id=TEST_LISTENER_CHECK_ID, listener="test")]
    elif hook is Hook.BEFORE_ALLOW_TRAFFIC:
        configured = ctx.settings.probe.requests if ctx.settings.probe else 50
        short = min(configured, max(5, configured // SHORT_BURST_SHARE))
        checks = [HttpProbe(check_id=TEST_LISTENER_CHECK_ID, listener="test", requests=short)]
    elif hook is Hook.AFTER_ALLOW_TRAFFIC:
        checks = [HttpProbe(check_id=PROD_LISTENER_CHECK_ID, listener="prod")]
    return [c for c in checks if c.check_id not in ctx.settings.disabled_checks]


def plan_for(hook: Hook, ctx: CheckContext) -> list[Check]:
    """The checks ``hook`` runs for this deployment: its configured plan, else the defaults."""
    plan = configured_plan(ctx, check_types())
    return checks_or_defaults(plan, hook, default_plan(hook, ctx))
