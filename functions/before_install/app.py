"""CodeDeploy BeforeInstall hook: judge the deployment and report the verdict once."""

from __future__ import annotations

from typing import Any

from trafficgate import Hook, instrument, run_hook


@instrument
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return run_hook(Hook.BEFORE_INSTALL, event, context)
