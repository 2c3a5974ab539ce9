"""ListDeploymentTargets, GetDeploymentTarget and BatchGetDeploymentTargets for moto's CodeDeploy.

moto 5.2 lacks the deployment-target calls, which a hook uses to find the ECS service and task sets
of its deployment. An ECS deployment has one target per service of its deployment group; the target
state (status, task sets, lifecycle events) is what the owner set through the control API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from moto.codedeploy.models import CodeDeployBackend, DeploymentInfo
from moto.codedeploy.responses import CodeDeployResponse
from moto.core.responses import ActionResult

from .deployments import deployment_target_ids, extension_state, require_deployment, target_state
from .exceptions import (
    DeploymentTargetDoesNotExistException,
    DeploymentTargetIdRequiredException,
    DeploymentTargetListSizeExceededException,
    InvalidTargetFilterNameException,
)
from .model import ECS_LIFECYCLE_EVENTS

__all__ = [
    "MAX_BATCH_TARGETS",
    "TARGET_FILTER_NAMES",
    "backend_batch_get_deployment_targets",
    "backend_get_deployment_target",
    "backend_list_deployment_targets",
    "response_batch_get_deployment_targets",
    "response_get_deployment_target",
    "response_list_deployment_targets",
]

#: Real service limit for BatchGetDeploymentTargets.
MAX_BATCH_TARGETS = 25
TARGET_FILTER_NAMES = ("TargetStatus", "ServerInstanceLabel")


def _deployment_target_api(backend: CodeDeployBackend, deployment: DeploymentInfo, target_id: str) -> dict[str, Any]:
    """Return one ``DeploymentTarget`` in API shape (``deploymentTargetType: ECSTarget``)."""
    state = extension_state(backend)
    with state.lock:
        target = target_state(state, deployment, target_id)
        events = state.deployment(deployment.deployment_id).events
        cluster, _, service = target_id.partition(":")
        ecs_target = {
            "deploymentId": deployment.deployment_id,
            "targetId": target_id,
            "targetArn": f"arn:{backend.partition}:ecs:{backend.region_name}:{backend.account_id}"
            f":service/{cluster}/{service}",
            "lastUpdatedAt": target.last_updated_at,
            "status": target.status,
            "lifecycleEvents": [events[name].to_api(name) for name in ECS_LIFECYCLE_EVENTS],
            "taskSetsInfo": [task_set.to_api() for task_set in target.task_sets],
        }
    return {"deploymentTargetType": "ECSTarget", "ecsTarget": ecs_target}


def _require_known_target(deployment: DeploymentInfo, target_id: str, known: Sequence[str]) -> None:
    if target_id not in known:
        raise DeploymentTargetDoesNotExistException(
            f"The deployment target {target_id} does not exist in deployment {deployment.deployment_id}."
        )


def backend_list_deployment_targets(
    self: CodeDeployBackend, deployment_id: str | None, target_filters: Mapping[str, list[str]] | None
) -> list[str]:
    """Return the target ids of a deployment, optionally only those whose status is in ``TargetStatus``."""
    deployment = require_deployment(self, deployment_id)
    filters = dict(target_filters or {})
    unknown = sorted(set(filters) - set(TARGET_FILTER_NAMES))
    if unknown:
        raise InvalidTargetFilterNameException(f"The target filter name {unknown[0]} is invalid.")
    ids = deployment_target_ids(deployment)
    wanted_statuses = filters.get("TargetStatus")
    if wanted_statuses:
        state = extension_state(self)
        with state.lock:
            ids = [tid for tid in ids if target_state(state, deployment, tid).status in wanted_statuses]
    return ids


def backend_get_deployment_target(
    self: CodeDeployBackend, deployment_id: str | None, target_id: str | None
) -> dict[str, Any]:
    """Return one target of a deployment in API shape."""
    deployment = require_deployment(self, deployment_id)
    if not target_id:
        raise DeploymentTargetIdRequiredException("A deployment target ID is required.")
    _require_known_target(deployment, target_id, deployment_target_ids(deployment))
    return _deployment_target_api(self, deployment, target_id)


def backend_batch_get_deployment_targets(
    self: CodeDeployBackend, deployment_id: str | None, target_ids: Sequence[str] | None
) -> list[dict[str, Any]]:
    """Return up to :data:`MAX_BATCH_TARGETS` targets of a deployment in API shape, in the order asked."""
    deployment = require_deployment(self, deployment_id)
    if not target_ids:
        raise DeploymentTargetIdRequiredException("At least one deployment target ID is required.")
    if len(target_ids) > MAX_BATCH_TARGETS:
        raise DeploymentTargetListSizeExceededException(
            f"The maximum number of targets per request is {MAX_BATCH_TARGETS}."
        )
    known = deployment_target_ids(deployment)
    for target_id in target_ids:
        _require_known_target(deployment, target_id, known)
    return [_deployment_target_api(self, deployment, target_id) for target_id in target_ids]


def response_list_deployment_targets(self: CodeDeployResponse) -> ActionResult:
    """``CodeDeployResponse`` method for ListDeploymentTargets."""
    ids = backend_list_deployment_targets(
        self.codedeploy_backend,
        deployment_id=self._get_param("deploymentId"),
        target_filters=self._get_param("targetFilters"),
    )
    return ActionResult({"targetIds": ids})


def response_get_deployment_target(self: CodeDeployResponse) -> ActionResult:
    """``CodeDeployResponse`` method for GetDeploymentTarget."""
    target = backend_get_deployment_target(
        self.codedeploy_backend,
        deployment_id=self._get_param("deploymentId"),
        target_id=self._get_param("targetId"),
    )
    return ActionResult({"deploymentTarget": target})


def response_batch_get_deployment_targets(self: CodeDeployResponse) -> ActionResult:
    """``CodeDeployResponse`` method for BatchGetDeploymentTargets."""
    targets = backend_batch_get_deployment_targets(
        self.codedeploy_backend,
        deployment_id=self._get_param("deploymentId"),
        target_ids=self._get_param("targetIds"),
    )
    return ActionResult({"deploymentTargets": targets})
