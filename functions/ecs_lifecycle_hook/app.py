"""Amazon ECS native blue/green lifecycle hook: judge the stage and return its hookStatus.

One function serves every stage (``lifecycleStages`` of the service's ``lifecycleHooks``): the
stage in the event picks the plan (PRE_SCALE_UP runs BeforeInstall's, POST_SCALE_UP AfterInstall's,
POST_TEST_TRAFFIC_SHIFT AfterAllowTestTraffic's, PRE_PRODUCTION_TRAFFIC_SHIFT BeforeAllowTraffic's,
POST_PRODUCTION_TRAFFIC_SHIFT AfterAllowTraffic's; the others pass).
"""

from __future__ import annotations

from typing import Any

from trafficgate import instrument, run_ecs_hook


@instrument
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return run_ecs_hook(event, context)
