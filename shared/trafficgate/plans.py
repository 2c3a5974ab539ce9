"""Which checks a hook runs: the configured plan, or the built-in defaults.

The built-in plan of each hook is an explicit list (no import-time registry). A plan from SSM
(per deployment group) or from a bundled file replaces the list of every hook it names; the
operator's ``TRAFFICGATE_DISABLED_CHECKS`` switches single built-in checks off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trafficgate.checks.alarms import alarm_checks
from trafficgate.checks.ecs import after_install_checks
from trafficgate.checks.http import PROD_LISTENER_CHECK_ID, TEST_LISTENER_CHECK_ID, HttpProbe
from trafficgate.checks.metrics import after_allow_traffic_metric_checks
from trafficgate.checks.taskdef import before_install_checks
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
    types = dict(BUILTIN_TYPES)
    for check in (*before_install_checks(), *after_install_checks(), *alarm_checks()):
        types[check.check_id] = (type(check), {})
    for check in after_allow_traffic_metric_checks():
        types[check.check_id] = (type(check), {})
    return types


def default_plan(hook: Hook, ctx: CheckContext) -> list[Check]:
    """The built-in plan for ``hook``, without the checks the operator switched off.

    - BeforeInstall: the new task definition (exists and ACTIVE, container port, size, ECR
      images and scan findings, secret references, required environment). No HTTP probe: the
      test listener still routes to blue.
    - AfterInstall: the green task set is steady, its targets healthy, none of its tasks stopped.
    - AfterAllowTestTraffic: a burst on the test listener (now green).
    - BeforeAllowTraffic: no alarm firing, and one more short burst on the test listener.
    - AfterAllowTraffic: no alarm firing, CloudWatch metrics over the bake window, and a burst on
      the production listener (now green).
    """
    checks: list[Check] = []
    if hook is Hook.BEFORE_INSTALL:
        checks = before_install_checks()
    elif hook is Hook.AFTER_INSTALL:
        checks = after_install_checks()
    elif hook is Hook.AFTER_ALLOW_TEST_TRAFFIC:
        checks = [HttpProbe(check_id=TEST_LISTENER_CHECK_ID, listener="test")]
    elif hook is Hook.BEFORE_ALLOW_TRAFFIC:
        configured = ctx.settings.probe.requests if ctx.settings.probe else 50
        short = min(configured, max(5, configured // SHORT_BURST_SHARE))
        checks = [*alarm_checks(), HttpProbe(check_id=TEST_LISTENER_CHECK_ID, listener="test", requests=short)]
    elif hook is Hook.AFTER_ALLOW_TRAFFIC:
        checks = [
            *alarm_checks(),
            *after_allow_traffic_metric_checks(),
            HttpProbe(check_id=PROD_LISTENER_CHECK_ID, listener="prod"),
        ]
    return [c for c in checks if c.check_id not in ctx.settings.disabled_checks]


def plan_for(hook: Hook, ctx: CheckContext) -> list[Check]:
    """The checks ``hook`` runs for this deployment: its configured plan, else the defaults."""
    plan = configured_plan(ctx, check_types())
    return checks_or_defaults(plan, hook, default_plan(hook, ctx))
