"""The CodeDeploy lifecycle hook event, parsed and validated.

Layer L4 (orchestration): imports only the leaves. Parsing uses Powertools'
``CodeDeployLifecycleHookEvent``; a missing key is named in the error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trafficgate.exceptions import InvalidEventError


@dataclass(frozen=True)
class HookEvent:
    """The two ids of a CodeDeploy lifecycle hook event, validated."""

    deployment_id: str
    execution_id: str

    @classmethod
    def parse(cls, event: Any) -> HookEvent:
        """Parse with Powertools' ``CodeDeployLifecycleHookEvent``; raise :class:`InvalidEventError`.

        Nothing is reported for an invalid event: without both ids there is nobody to report to.
        """
        from aws_lambda_powertools.utilities.data_classes import CodeDeployLifecycleHookEvent

        if not isinstance(event, Mapping):
            raise InvalidEventError(
                f"event must be a JSON object with DeploymentId and LifecycleEventHookExecutionId, "
                f"got {type(event).__name__}"
            )
        parsed = CodeDeployLifecycleHookEvent(dict(event))
        missing = [
            key
            for key in ("DeploymentId", "LifecycleEventHookExecutionId")
            if not isinstance(parsed.get(key), str) or not str(parsed.get(key)).strip()
        ]
        if missing:
            raise InvalidEventError(
                "not a CodeDeploy lifecycle hook event: missing or empty " + " and ".join(repr(k) for k in missing)
            )
        return cls(
            deployment_id=parsed.deployment_id.strip(),
            execution_id=parsed.lifecycle_event_hook_execution_id.strip(),
        )
