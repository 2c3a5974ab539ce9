"""The lifecycle hook events, parsed and validated: CodeDeploy's and Amazon ECS's native one.

Layer L4 (orchestration): imports only the leaves. Parsing uses Powertools'
``CodeDeployLifecycleHookEvent``; a missing key is named in the error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trafficgate.exceptions import InvalidEventError
from trafficgate.hooks import EcsStage


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


#: An ECS service deployment ARN: what ``resourceArn`` names (the deployment being judged).
_SERVICE_DEPLOYMENT_ARN = re.compile(
    r"^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:service-deployment/[^/\s]+/[^/\s]+/[^/\s]+$"
)


@dataclass(frozen=True)
class EcsHookEvent:
    """An Amazon ECS native blue/green lifecycle hook event, validated.

    ``{executionId, lifecycleStage, resourceArn, executionDetails: {serviceArn,
    targetServiceRevisionArn, testTrafficWeights, productionTrafficWeights}, hookDetails}``;
    ``resourceArn`` is the service deployment's ARN. ``hookDetails`` is what this hook returned
    on its previous call (IN_PROGRESS), or the hook's configured details on the first.
    """

    execution_id: str
    stage: EcsStage
    resource_arn: str
    service_arn: str
    target_revision_arn: str
    test_traffic_weights: Mapping[str, float]
    production_traffic_weights: Mapping[str, float]
    hook_details: Mapping[str, Any]

    @property
    def deployment_id(self) -> str:
        """The service deployment's ARN: the deployment this call judges."""
        return self.resource_arn

    @classmethod
    def parse(cls, event: Any) -> EcsHookEvent:
        """Validate the event; raise :class:`InvalidEventError` naming the first field that is wrong."""
        if not isinstance(event, Mapping):
            raise InvalidEventError(
                f"event must be a JSON object with executionId, lifecycleStage, resourceArn and executionDetails, "
                f"got {type(event).__name__}"
            )
        execution_id = _text(event, "executionId")
        try:
            stage = EcsStage.parse(_text(event, "lifecycleStage"))
        except ValueError as exc:
            raise InvalidEventError(f"lifecycleStage: {exc}") from None
        resource_arn = _text(event, "resourceArn")
        if not _SERVICE_DEPLOYMENT_ARN.match(resource_arn):
            raise InvalidEventError(
                f"resourceArn {resource_arn[:200]!r} is not an ECS service deployment ARN "
                "(arn:aws:ecs:<region>:<account>:service-deployment/<cluster>/<service>/<id>)"
            )
        details = event.get("executionDetails")
        if not isinstance(details, Mapping):
            raise InvalidEventError(
                "executionDetails: missing, or not an object with serviceArn and targetServiceRevisionArn"
            )
        hook_details = event.get("hookDetails")
        if hook_details is None:
            hook_details = {}
        if not isinstance(hook_details, Mapping):
            raise InvalidEventError(f"hookDetails must be a JSON object, got {type(hook_details).__name__}")
        return cls(
            execution_id=execution_id,
            stage=stage,
            resource_arn=resource_arn,
            service_arn=_text(details, "serviceArn", "executionDetails."),
            target_revision_arn=_text(details, "targetServiceRevisionArn", "executionDetails."),
            test_traffic_weights=_weights(details, "testTrafficWeights"),
            production_traffic_weights=_weights(details, "productionTrafficWeights"),
            hook_details=dict(hook_details),
        )


def _text(where: Mapping[str, Any], key: str, prefix: str = "") -> str:
    value = where.get(key)
    if not isinstance(value, str) or not value.strip():
        shown = "missing" if value is None else f"must be a non-empty string, got {type(value).__name__}"
        raise InvalidEventError(f"not an ECS lifecycle hook event: {prefix}{key} {shown}")
    return value.strip()


def _weights(details: Mapping[str, Any], key: str) -> dict[str, float]:
    """A traffic-weight map (service revision ARN -> percent); absent or null is empty."""
    value = details.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= 100
        for k, v in value.items()
    ):
        raise InvalidEventError(f"executionDetails.{key} must map service revision ARNs to percentages (0 to 100)")
    return {k: float(v) for k, v in value.items()}
