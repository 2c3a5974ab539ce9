"""Deployments as the CodeDeploy extension sees them: its state on moto's backend, lookups and real ids.

Every part of the extension (hook status, deployment targets, deployment groups, the control API)
works through the helpers here, so a deployment is validated, its ECS targets are named and its
state is found in one way only.

The extension keeps its state as an attribute of moto's per-(account, region) backend instance.
moto's ``reset()`` wipes an instance's ``__dict__``, so ``mock_aws`` start/stop and
``POST /moto-api/reset`` clear our state together with moto's; nothing else needs to be hooked.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from moto.codedeploy.models import CodeDeployBackend, DeploymentInfo

from .application_revisions import INLINE_REVISIONS, revision_digest
from .deployment_configs import config_name
from .exceptions import (
    BatchLimitExceededException,
    DeploymentDoesNotExistException,
    DeploymentIdRequiredException,
    InvalidDeploymentIdException,
    StandInError,
)
from .model import (
    DEPLOYMENT_ID_PATTERN,
    ECS_LIFECYCLE_EVENTS,
    ExtensionState,
    TargetState,
    new_deployment_id,
    validate_deployment_id,
)

__all__ = [
    "MAX_BATCH_DEPLOYMENTS",
    "ORIGINALS",
    "backend_batch_get_deployments",
    "backend_create_deployment",
    "backend_get_deployment",
    "deployment_info",
    "deployment_target_ids",
    "extension_state",
    "rename_deployment",
    "require_deployment",
    "start_lifecycle_event",
    "target_state",
    "touch_targets",
    "without_absent",
]

_STATE_ATTR = "_trafficgate_state"
_state_lock = threading.Lock()
#: moto's own implementations that our replacements delegate to, by name; filled once by
#: :func:`~.moto_patch.install` before any replacement can run.
ORIGINALS: dict[str, Any] = {}
#: Real service limit for BatchGetDeployments.
MAX_BATCH_DEPLOYMENTS = 100


def extension_state(backend: CodeDeployBackend) -> ExtensionState:
    """Return the extension state stored on ``backend``, creating it on first use.

    Parameters
    ----------
    backend : CodeDeployBackend
        moto's backend of one (account, region).

    Returns
    -------
    ExtensionState
        The same object until moto resets the backend.
    """
    state = backend.__dict__.get(_STATE_ATTR)
    if state is None:
        with _state_lock:
            state = backend.__dict__.get(_STATE_ATTR)
            if state is None:
                state = ExtensionState()
                setattr(backend, _STATE_ATTR, state)
    return state


def _aware(value: datetime) -> datetime:
    # moto stores naive UTC datetimes; our records are aware. Normalise before comparing/serialising.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def require_well_formed(deployment_id: str | None) -> str:
    """Return ``deployment_id`` if it has the service's shape (``d-`` and 9 of A-Z, 0-9).

    Raises
    ------
    DeploymentIdRequiredException, InvalidDeploymentIdException
        With the service's messages.
    """
    if not deployment_id:
        raise DeploymentIdRequiredException("Deployment ID is required.")
    if not DEPLOYMENT_ID_PATTERN.match(deployment_id):
        raise InvalidDeploymentIdException(f"Specified DeploymentId is not in the valid format: {deployment_id}")
    return deployment_id


def require_deployment(backend: CodeDeployBackend, deployment_id: str | None) -> DeploymentInfo:
    """Validate a ``deploymentId`` request parameter the way the service does.

    Raises
    ------
    DeploymentIdRequiredException, InvalidDeploymentIdException, DeploymentDoesNotExistException
        With the service's messages, so a client sees the real error codes: a malformed id is
        invalid, a well-formed one that names no deployment does not exist.
    """
    deployment_id = require_well_formed(deployment_id)
    if deployment_id not in backend.deployments:
        raise DeploymentDoesNotExistException(f"The deployment {deployment_id} could not be found.")
    return backend.deployments[deployment_id]


def deployment_target_ids(deployment: DeploymentInfo) -> list[str]:
    """ECS target ids are ``<clusterName>:<serviceName>`` of the deployment group's services."""
    services = deployment.deployment_group.ecs_services or []
    return [f"{svc['clusterName']}:{svc['serviceName']}" for svc in services]


def target_state(state: ExtensionState, deployment: DeploymentInfo, target_id: str) -> TargetState:
    """Return (creating if needed) the owner-controlled state of one target; call with ``state.lock`` held."""
    deployment_state = state.deployment(deployment.deployment_id)
    if target_id not in deployment_state.targets:
        deployment_state.targets[target_id] = TargetState(last_updated_at=_aware(deployment.create_time))
    return deployment_state.targets[target_id]


def touch_targets(state: ExtensionState, deployment: DeploymentInfo, when: datetime) -> None:
    """Set every target's ``lastUpdatedAt`` to ``when``, as the service does on each lifecycle change."""
    for target_id in deployment_target_ids(deployment):
        target_state(state, deployment, target_id).last_updated_at = when


def start_lifecycle_event(state: ExtensionState, deployment: DeploymentInfo, name: str, when: datetime) -> None:
    """Move a deployment to lifecycle event ``name``, as CodeDeploy runs them; call with ``state.lock`` held.

    CodeDeploy runs an ECS deployment's events one at a time, in :data:`ECS_LIFECYCLE_EVENTS` order.
    So ``name`` becomes the one event ``InProgress``; the events before it that had not ended
    have ``Succeeded`` (the deployment could not have got here otherwise), and the events after it
    are ``Pending`` again. The deployment itself is ``InProgress`` from its first event on.
    """
    events = state.deployment(deployment.deployment_id).events
    position = ECS_LIFECYCLE_EVENTS.index(name)
    for index, event_name in enumerate(ECS_LIFECYCLE_EVENTS):
        event = events[event_name]
        if index < position:
            if event.status in ("Pending", "InProgress"):
                event.status = "Succeeded"
                event.start_time = event.start_time or when
                event.end_time = when
        elif index == position:
            event.status, event.start_time, event.end_time = "InProgress", when, None
        else:
            event.status, event.start_time, event.end_time = "Pending", None, None
    if deployment.status in ("Created", "Queued", "Ready"):
        deployment.status = "InProgress"
        deployment.start_time = deployment.start_time or when
    touch_targets(state, deployment, when)


def rename_deployment(backend: CodeDeployBackend, old_id: str, new_id: str) -> None:
    """Give a deployment another id, moving its tags and extension state with it.

    Raises
    ------
    StandInError
        When ``old_id`` does not exist, ``new_id`` is taken or not shaped like a real id.
    """
    if old_id not in backend.deployments:
        raise StandInError(f"deployment {old_id!r} does not exist")
    validate_deployment_id(new_id)
    if new_id == old_id:
        return
    if new_id in backend.deployments:
        raise StandInError(f"deployment {new_id!r} already exists")
    deployment = backend.deployments.pop(old_id)
    deployment.deployment_id = new_id
    backend.deployments[new_id] = deployment
    # moto tags a deployment under its ARN; keep those tags reachable under the new id.
    old_arn = backend._arn(f"deployment:{old_id}")
    tags = backend.tagger.list_tags_for_resource(old_arn)["Tags"]
    if tags:
        backend.tagger.tag_resource(backend._arn(f"deployment:{new_id}"), tags)
        backend.tagger.delete_all_tags_for_resource(old_arn)
    state = extension_state(backend)
    with state.lock:
        if old_id in state.deployments:
            moved = state.deployments.pop(old_id)
            for execution in moved.executions.values():
                execution.deployment_id = new_id
            state.deployments[new_id] = moved


def backend_get_deployment(self: CodeDeployBackend, deployment_id: str) -> DeploymentInfo:
    """``CodeDeployBackend.get_deployment`` that tells a malformed id from an unknown one, as the service does."""
    return require_deployment(self, deployment_id)


def backend_batch_get_deployments(self: CodeDeployBackend, deployment_ids: list[str] | None) -> list[DeploymentInfo]:
    """``CodeDeployBackend.batch_get_deployments``: malformed ids are refused, unknown ones left out."""
    ids = list(deployment_ids or [])
    if len(ids) > MAX_BATCH_DEPLOYMENTS:
        raise BatchLimitExceededException(f"The maximum number of deployment IDs is {MAX_BATCH_DEPLOYMENTS}.")
    for deployment_id in ids:
        require_well_formed(deployment_id)
    return [self.deployments[i] for i in ids if i in self.deployments]


def without_absent(info: dict[str, Any]) -> dict[str, Any]:
    """``info`` without the members moto fills with ``None``, ``{}`` or ``""`` for "not there".

    The service leaves an absent member out. Empty lists and ``False`` stay: they are values
    (``deploymentStatusMessages: []``, ``instanceTerminationWaitTimeStarted: false``).
    """
    return {key: value for key, value in info.items() if value is not None and value != {} and value != ""}


def deployment_info(deployment: DeploymentInfo) -> dict[str, Any]:
    """moto's ``DeploymentInfo`` serialiser, answering as the service does.

    Absent members are left out rather than sent as ``{}``/``null`` (``previousRevision``,
    ``errorInformation``, ``rollbackInfo``, ``startTime`` and ``completeTime`` until they happen,
    ...). ``deploymentConfigName`` is the group's, or the platform's default (see :func:`.config_name`). An
    inline revision (``appSpecContent``, or the older ``string``) carries its ``sha256`` and not its
    ``content``, as on the service ("always null", says the API reference): GetApplicationRevision,
    given the application and the ``sha256``, returns the text (:mod:`.application_revisions`).
    """
    info = without_absent(ORIGINALS["_deployment_info"](deployment))
    info["deploymentConfigName"] = config_name(
        deployment.deployment_config_name, deployment.application.compute_platform
    )
    revision = info.get("revision")
    digest = revision_digest(revision) if isinstance(revision, dict) else None
    if isinstance(revision, dict) and digest is not None:
        holder = INLINE_REVISIONS[str(revision["revisionType"])]
        info["revision"] = {**revision, holder: {"sha256": digest}}
    return info


def backend_create_deployment(self: CodeDeployBackend, *args: Any, **kwargs: Any) -> str:
    """``CodeDeployBackend.create_deployment`` that hands out ids shaped like the service's."""
    # moto hands out UUIDs; hooks and PutLifecycleEventHookExecutionStatus only accept d-XXXXXXXXX.
    moto_id = ORIGINALS["create_deployment"](self, *args, **kwargs)
    new_id = new_deployment_id()
    while new_id in self.deployments:
        new_id = new_deployment_id()
    rename_deployment(self, moto_id, new_id)
    return new_id
