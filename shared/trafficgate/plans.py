"""Default check plans: an explicit list of checks per hook, no import-time registry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from trafficgate.checks.http import PROD_LISTENER_CHECK_ID, TEST_LISTENER_CHECK_ID, HttpProbe
from trafficgate.hooks import Hook

if TYPE_CHECKING:
    from trafficgate.checks.base import Check
    from trafficgate.context import CheckContext

#: BeforeAllowTraffic sends one more short burst: this share of the configured requests.
SHORT_BURST_SHARE = 5


def default_plan(hook: Hook, ctx: CheckContext) -> list[Check]:
    """The built-in plan for ``hook``.

    BeforeInstall and AfterInstall probe nothing over HTTP: at that point the test listener
    still routes to blue. AfterAllowTestTraffic and BeforeAllowTraffic probe the test listener
    (now green); AfterAllowTraffic probes the production listener (now green).
    """
    if hook is Hook.AFTER_ALLOW_TEST_TRAFFIC:
        return [HttpProbe(check_id=TEST_LISTENER_CHECK_ID, listener="test")]
    if hook is Hook.BEFORE_ALLOW_TRAFFIC:
        configured = ctx.settings.probe.requests if ctx.settings.probe else 50
        short = min(configured, max(5, configured // SHORT_BURST_SHARE))
        return [HttpProbe(check_id=TEST_LISTENER_CHECK_ID, listener="test", requests=short)]
    if hook is Hook.AFTER_ALLOW_TRAFFIC:
        return [HttpProbe(check_id=PROD_LISTENER_CHECK_ID, listener="prod")]
    return []
