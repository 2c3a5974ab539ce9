"""Default check plans: an explicit list of checks per hook, no import-time registry."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trafficgate.checks.base import Check
    from trafficgate.context import CheckContext
    from trafficgate.hooks import Hook


def default_plan(hook: Hook, ctx: CheckContext) -> list[Check]:
    """The built-in plan for ``hook``.

    BeforeInstall and AfterInstall probe nothing over HTTP: at that point the test listener
    still routes to blue.
    """
    return []
