"""moto's CodeDeploy, extended with the calls a lifecycle-hook Lambda makes, plus an owner's control API.

moto 5.2 lacks PutLifecycleEventHookExecutionStatus, the deployment-target calls,
UpdateDeploymentGroup and BatchGetDeploymentGroups, drops ``alarmConfiguration`` and hands out
UUIDs as deployment ids. :func:`install` adds all of that to moto's classes, once, so that real
boto3 clients see the real API shapes both under ``moto.mock_aws()`` and through a moto server.

The extension keeps its state as an attribute of moto's per-(account, region) backend instance.
moto's ``reset()`` wipes an instance's ``__dict__``, so ``mock_aws`` start/stop and
``POST /moto-api/reset`` clear our state together with moto's; nothing else needs to be hooked.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import botocore.session
from moto.codedeploy import responses as moto_responses
from moto.codedeploy.models import CodeDeployBackend, DeploymentInfo, codedeploy_backends
from moto.codedeploy.responses import CodeDeployResponse
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.core.responses import ActionResult

from .exceptions import (
    ApplicationNameRequiredException,
    BatchLimitExceededException,
    CodeDeployError,
    DeploymentDoesNotExistException,
    DeploymentGroupAlreadyExistsException,
    DeploymentGroupNameRequiredException,
    DeploymentIdRequiredException,
    DeploymentTargetDoesNotExistException,
    DeploymentTargetIdRequiredException,
    DeploymentTargetListSizeExceededException,
    InvalidDeploymentIdException,
    InvalidLifecycleEventHookExecutionIdException,
    InvalidLifecycleEventHookExecutionStatusException,
    InvalidTargetFilterNameException,
    LifecycleEventAlreadyCompletedException,
    StandInError,
    UnsupportedActionForDeploymentTypeException,
)
from .model import (
    DEPLOYMENT_ID_PATTERN,
    ECS_LIFECYCLE_EVENTS,
    LIFECYCLE_EVENT_STATUSES,
    REPORTABLE_STATUSES,
    TARGET_STATUSES,
    ExtensionState,
    Fault,
    HookExecution,
    ReportCall,
    StatusRecord,
    TargetState,
    TaskSet,
    new_deployment_id,
    new_hook_execution_id,
    utc_now,
    validate_deployment_id,
)

__all__ = ["HOOK_EVENTS", "PUT_STATUS_OPERATION", "StandIn", "install", "is_installed"]

PUT_STATUS_OPERATION = "PutLifecycleEventHookExecutionStatus"
#: The lifecycle events of an ECS deployment that invoke a hook Lambda.
HOOK_EVENTS = (
    "BeforeInstall",
    "AfterInstall",
    "AfterAllowTestTraffic",
    "BeforeAllowTraffic",
    "AfterAllowTraffic",
)
#: Real service limit for BatchGetDeploymentTargets.
MAX_BATCH_TARGETS = 25
MAX_BATCH_GROUPS = 100
TARGET_FILTER_NAMES = ("TargetStatus", "ServerInstanceLabel")

_STATE_ATTR = "_trafficgate_state"
_INSTALL_MARK = "_trafficgate_installed"
_install_lock = threading.Lock()
# moto's own implementations that our replacements delegate to; filled by install().
_ORIGINALS: dict[str, Any] = {}
_state_lock = threading.Lock()

# UpdateDeploymentGroup request member -> DeploymentGroup attribute.
_GROUP_FIELDS = (
    ("deploymentConfigName", "deployment_config_name"),
    ("ec2TagFilters", "ec2_tag_filters"),
    ("onPremisesInstanceTagFilters", "on_premises_instance_tag_filters"),
    ("autoScalingGroups", "auto_scaling_groups"),
    ("serviceRoleArn", "service_role_arn"),
    ("triggerConfigurations", "trigger_configurations"),
    ("alarmConfiguration", "alarm_configuration"),
    ("autoRollbackConfiguration", "auto_rollback_configuration"),
    ("outdatedInstancesStrategy", "outdated_instances_strategy"),
    ("deploymentStyle", "deployment_style"),
    ("blueGreenDeploymentConfiguration", "blue_green_deployment_configuration"),
    ("loadBalancerInfo", "load_balancer_info"),
    ("ec2TagSet", "ec2_tag_set"),
    ("ecsServices", "ecs_services"),
    ("onPremisesTagSet", "on_premises_tag_set"),
    ("terminationHookEnabled", "termination_hook_enabled"),
)


# --------------------------------------------------------------------------------------------
# helpers shared by the backend extension and the control API
# --------------------------------------------------------------------------------------------
def _state(backend: CodeDeployBackend) -> ExtensionState:
    """Return the extension state stored on ``backend``, creating it on first use."""
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


def _alarm_configuration_api(value: Any) -> dict[str, Any]:
    """Return ``alarmConfiguration`` in API shape from whatever moto stored (dict, object or None)."""
    if value is None:
        return {"enabled": False, "ignorePollAlarmFailure": False, "alarms": []}
    if isinstance(value, Mapping):
        enabled = value.get("enabled", False)
        ignore = value.get("ignorePollAlarmFailure", False)
        alarms = value.get("alarms") or []
    else:  # moto.codedeploy.models.AlarmConfiguration
        enabled = getattr(value, "enabled", False)
        ignore = getattr(value, "ignore_poll_alarm_failure", False)
        alarms = getattr(value, "alarms", None) or []
    return {
        "enabled": bool(enabled),
        "ignorePollAlarmFailure": bool(ignore),
        "alarms": [{"name": alarm["name"]} for alarm in alarms if alarm.get("name")],
    }


def _require_deployment(backend: CodeDeployBackend, deployment_id: str | None) -> DeploymentInfo:
    """Validate a ``deploymentId`` request parameter the way the service does."""
    if not deployment_id:
        raise DeploymentIdRequiredException("Deployment ID is required.")
    if not DEPLOYMENT_ID_PATTERN.match(deployment_id):
        raise InvalidDeploymentIdException(f"Specified DeploymentId is not in the valid format: {deployment_id}")
    if deployment_id not in backend.deployments:
        raise DeploymentDoesNotExistException(f"The deployment {deployment_id} could not be found.")
    return backend.deployments[deployment_id]


def _target_ids(deployment: DeploymentInfo) -> list[str]:
    """ECS target ids are ``<clusterName>:<serviceName>`` of the deployment group's services."""
    services = deployment.deployment_group.ecs_services or []
    return [f"{svc['clusterName']}:{svc['serviceName']}" for svc in services]


def _target_state(state: ExtensionState, deployment: DeploymentInfo, target_id: str) -> TargetState:
    deployment_state = state.deployment(deployment.deployment_id)
    if target_id not in deployment_state.targets:
        deployment_state.targets[target_id] = TargetState(last_updated_at=_aware(deployment.create_time))
    return deployment_state.targets[target_id]


def _touch_targets(state: ExtensionState, deployment: DeploymentInfo, when: datetime) -> None:
    for target_id in _target_ids(deployment):
        _target_state(state, deployment, target_id).last_updated_at = when


def _deployment_target_api(backend: CodeDeployBackend, deployment: DeploymentInfo, target_id: str) -> dict[str, Any]:
    state = _state(backend)
    with state.lock:
        target = _target_state(state, deployment, target_id)
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


def _rename_deployment(backend: CodeDeployBackend, old_id: str, new_id: str) -> None:
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
    state = _state(backend)
    with state.lock:
        if old_id in state.deployments:
            moved = state.deployments.pop(old_id)
            for execution in moved.executions.values():
                execution.deployment_id = new_id
            state.deployments[new_id] = moved


# --------------------------------------------------------------------------------------------
# backend methods (attached to moto's CodeDeployBackend by install())
# --------------------------------------------------------------------------------------------
def _backend_create_deployment(self: CodeDeployBackend, *args: Any, **kwargs: Any) -> str:
    # moto hands out UUIDs; hooks and PutLifecycleEventHookExecutionStatus only accept d-XXXXXXXXX.
    moto_id = _ORIGINALS["create_deployment"](self, *args, **kwargs)
    new_id = new_deployment_id()
    while new_id in self.deployments:
        new_id = new_deployment_id()
    _rename_deployment(self, moto_id, new_id)
    return new_id


def _backend_put_lifecycle_event_hook_execution_status(
    self: CodeDeployBackend,
    deployment_id: str | None,
    lifecycle_event_hook_execution_id: str | None,
    status: str | None,
) -> str:
    state = _state(self)
    with state.lock:
        event_name: str | None = None
        error_code: str | None = None
        try:
            deployment = _require_deployment(self, deployment_id)
            if deployment.application.compute_platform == "Server":
                raise UnsupportedActionForDeploymentTypeException(
                    "This action is only supported for Lambda and ECS deployments."
                )
            if status not in REPORTABLE_STATUSES:
                raise InvalidLifecycleEventHookExecutionStatusException(
                    f"The status {status} is not valid. Valid values are Succeeded and Failed."
                )
            deployment_state = state.deployments.get(deployment.deployment_id)
            execution = (
                deployment_state.executions.get(lifecycle_event_hook_execution_id or "") if deployment_state else None
            )
            if execution is None or deployment_state is None:
                raise InvalidLifecycleEventHookExecutionIdException(
                    f"The lifecycle event hook execution ID {lifecycle_event_hook_execution_id} is not valid "
                    f"for deployment {deployment_id}."
                )
            event_name = execution.lifecycle_event_name
            if execution.status is not None:
                # The first report wins; the service refuses to change a completed hook.
                raise LifecycleEventAlreadyCompletedException(
                    f"The lifecycle event {event_name} has already been completed with status {execution.status}."
                )
            now = utc_now()
            execution.status = status
            execution.reported_at = now
            event = deployment_state.events[event_name]
            event.status = status
            event.start_time = event.start_time or execution.registered_at
            event.end_time = now
            _touch_targets(state, deployment, now)
            state.statuses.append(
                StatusRecord(deployment.deployment_id, execution.execution_id, event_name, status, now)
            )
            return execution.execution_id
        except CodeDeployError as exc:
            error_code = exc.error_name
            raise
        finally:
            state.calls.append(
                ReportCall(
                    deployment_id=deployment_id,
                    execution_id=lifecycle_event_hook_execution_id,
                    status=status,
                    lifecycle_event_name=event_name,
                    error_code=error_code,
                    time=utc_now(),
                )
            )


def _backend_list_deployment_targets(
    self: CodeDeployBackend, deployment_id: str | None, target_filters: Mapping[str, list[str]] | None
) -> list[str]:
    deployment = _require_deployment(self, deployment_id)
    filters = dict(target_filters or {})
    unknown = sorted(set(filters) - set(TARGET_FILTER_NAMES))
    if unknown:
        raise InvalidTargetFilterNameException(f"The target filter name {unknown[0]} is invalid.")
    target_ids = _target_ids(deployment)
    wanted_statuses = filters.get("TargetStatus")
    if wanted_statuses:
        state = _state(self)
        with state.lock:
            target_ids = [tid for tid in target_ids if _target_state(state, deployment, tid).status in wanted_statuses]
    return target_ids


def _backend_get_deployment_target(
    self: CodeDeployBackend, deployment_id: str | None, target_id: str | None
) -> dict[str, Any]:
    deployment = _require_deployment(self, deployment_id)
    if not target_id:
        raise DeploymentTargetIdRequiredException("A deployment target ID is required.")
    if target_id not in _target_ids(deployment):
        raise DeploymentTargetDoesNotExistException(
            f"The deployment target {target_id} does not exist in deployment {deployment_id}."
        )
    return _deployment_target_api(self, deployment, target_id)


def _backend_batch_get_deployment_targets(
    self: CodeDeployBackend, deployment_id: str | None, target_ids: Sequence[str] | None
) -> list[dict[str, Any]]:
    deployment = _require_deployment(self, deployment_id)
    if not target_ids:
        raise DeploymentTargetIdRequiredException("At least one deployment target ID is required.")
    if len(target_ids) > MAX_BATCH_TARGETS:
        raise DeploymentTargetListSizeExceededException(
            f"The maximum number of targets per request is {MAX_BATCH_TARGETS}."
        )
    known = _target_ids(deployment)
    for target_id in target_ids:
        if target_id not in known:
            raise DeploymentTargetDoesNotExistException(
                f"The deployment target {target_id} does not exist in deployment {deployment_id}."
            )
    return [_deployment_target_api(self, deployment, target_id) for target_id in target_ids]


def _backend_update_deployment_group(
    self: CodeDeployBackend,
    application_name: str | None,
    current_deployment_group_name: str | None,
    new_deployment_group_name: str | None,
    changes: Mapping[str, Any],
) -> list[dict[str, Any]]:
    if not application_name:
        raise ApplicationNameRequiredException("The minimum number of required application names was not specified.")
    if not current_deployment_group_name:
        raise DeploymentGroupNameRequiredException("The deployment group name was not specified.")
    group = self.get_deployment_group(application_name, current_deployment_group_name)
    groups = self.deployment_groups[application_name]
    if new_deployment_group_name and new_deployment_group_name != current_deployment_group_name:
        if new_deployment_group_name in groups:
            raise DeploymentGroupAlreadyExistsException(f"Deployment group {new_deployment_group_name} already exists.")
        groups[new_deployment_group_name] = groups.pop(current_deployment_group_name)
        group.deployment_group_name = new_deployment_group_name
    for attribute, value in changes.items():
        if value is not None:
            setattr(group, attribute, value)
    return []  # hooksNotCleanedUp: Auto Scaling hooks do not exist for ECS groups


def _backend_batch_get_deployment_groups(
    self: CodeDeployBackend, application_name: str | None, deployment_group_names: Sequence[str] | None
) -> tuple[list[Any], str | None]:
    if not application_name:
        raise ApplicationNameRequiredException("The minimum number of required application names was not specified.")
    self.get_application(application_name)
    if not deployment_group_names:
        raise DeploymentGroupNameRequiredException("The deployment group name was not specified.")
    if len(deployment_group_names) > MAX_BATCH_GROUPS:
        raise BatchLimitExceededException(f"The maximum number of names is {MAX_BATCH_GROUPS}.")
    groups = self.deployment_groups.get(application_name, {})
    found = [groups[name] for name in deployment_group_names if name in groups]
    missing = [name for name in deployment_group_names if name not in groups]
    message = f"Deployment groups do not exist: {', '.join(missing)}" if missing else None
    return found, message


# --------------------------------------------------------------------------------------------
# response methods (attached to moto's CodeDeployResponse by install())
# --------------------------------------------------------------------------------------------
def _deployment_group_info(deployment_group: Any) -> dict[str, Any]:
    info: dict[str, Any] = _ORIGINALS["_deployment_group_info"](deployment_group)
    info["alarmConfiguration"] = _alarm_configuration_api(deployment_group.alarm_configuration)
    return info


def _response_call_action(self: CodeDeployResponse) -> Any:
    operation = self._get_action()
    fault = _state(self.codedeploy_backend).take_fault(operation) if operation else None
    if fault is None:
        return _ORIGINALS["call_action"](self)
    if operation == PUT_STATUS_OPERATION:
        state = _state(self.codedeploy_backend)
        with state.lock:
            state.calls.append(
                ReportCall(
                    deployment_id=self._get_param("deploymentId"),
                    execution_id=self._get_param("lifecycleEventHookExecutionId"),
                    status=self._get_param("status"),
                    lifecycle_event_name=None,
                    error_code=fault.error_code,
                    time=utc_now(),
                )
            )
    headers = dict(self.response_headers)
    headers.update(
        {
            "status": str(fault.http_status),
            "Content-Type": "application/x-amz-json-1.1",
            "x-amzn-ErrorType": fault.error_code,
        }
    )
    body = json.dumps({"__type": fault.error_code, "message": fault.message})
    return fault.http_status, headers, body


def _response_put_lifecycle_event_hook_execution_status(self: CodeDeployResponse) -> ActionResult:
    execution_id = _backend_put_lifecycle_event_hook_execution_status(
        self.codedeploy_backend,
        deployment_id=self._get_param("deploymentId"),
        lifecycle_event_hook_execution_id=self._get_param("lifecycleEventHookExecutionId"),
        status=self._get_param("status"),
    )
    return ActionResult({"lifecycleEventHookExecutionId": execution_id})


def _response_list_deployment_targets(self: CodeDeployResponse) -> ActionResult:
    target_ids = _backend_list_deployment_targets(
        self.codedeploy_backend,
        deployment_id=self._get_param("deploymentId"),
        target_filters=self._get_param("targetFilters"),
    )
    return ActionResult({"targetIds": target_ids})


def _response_get_deployment_target(self: CodeDeployResponse) -> ActionResult:
    target = _backend_get_deployment_target(
        self.codedeploy_backend,
        deployment_id=self._get_param("deploymentId"),
        target_id=self._get_param("targetId"),
    )
    return ActionResult({"deploymentTarget": target})


def _response_batch_get_deployment_targets(self: CodeDeployResponse) -> ActionResult:
    targets = _backend_batch_get_deployment_targets(
        self.codedeploy_backend,
        deployment_id=self._get_param("deploymentId"),
        target_ids=self._get_param("targetIds"),
    )
    return ActionResult({"deploymentTargets": targets})


def _response_update_deployment_group(self: CodeDeployResponse) -> ActionResult:
    changes = {attribute: self._get_param(member) for member, attribute in _GROUP_FIELDS}
    hooks = _backend_update_deployment_group(
        self.codedeploy_backend,
        application_name=self._get_param("applicationName"),
        current_deployment_group_name=self._get_param("currentDeploymentGroupName"),
        new_deployment_group_name=self._get_param("newDeploymentGroupName"),
        changes=changes,
    )
    return ActionResult({"hooksNotCleanedUp": hooks})


def _response_batch_get_deployment_groups(self: CodeDeployResponse) -> ActionResult:
    groups, message = _backend_batch_get_deployment_groups(
        self.codedeploy_backend,
        application_name=self._get_param("applicationName"),
        deployment_group_names=self._get_param("deploymentGroupNames"),
    )
    result: dict[str, Any] = {"deploymentGroupsInfo": [_deployment_group_info(group) for group in groups]}
    if message:
        result["errorMessage"] = message
    return ActionResult(result)


_BACKEND_METHODS = {
    "create_deployment": _backend_create_deployment,
    "put_lifecycle_event_hook_execution_status": _backend_put_lifecycle_event_hook_execution_status,
    "list_deployment_targets": _backend_list_deployment_targets,
    "get_deployment_target": _backend_get_deployment_target,
    "batch_get_deployment_targets": _backend_batch_get_deployment_targets,
    "update_deployment_group": _backend_update_deployment_group,
    "batch_get_deployment_groups": _backend_batch_get_deployment_groups,
}
_RESPONSE_METHODS = {
    "call_action": _response_call_action,
    "put_lifecycle_event_hook_execution_status": _response_put_lifecycle_event_hook_execution_status,
    "list_deployment_targets": _response_list_deployment_targets,
    "get_deployment_target": _response_get_deployment_target,
    "batch_get_deployment_targets": _response_batch_get_deployment_targets,
    "update_deployment_group": _response_update_deployment_group,
    "batch_get_deployment_groups": _response_batch_get_deployment_groups,
}


def install() -> None:
    """Extend moto's CodeDeploy backend and responses in place; safe to call any number of times.

    Nothing happens at import time: owners (tests, the server, :class:`StandIn`) call this explicitly.
    The ECS/ELB, CloudWatch and ECR extensions are installed with it (each idempotent).
    """
    from .cloudwatch import install_cloudwatch
    from .ecr import install_ecr
    from .ecs import install_ecs

    install_ecs()
    install_cloudwatch()
    install_ecr()
    with _install_lock:
        if is_installed():
            return
        _ORIGINALS["create_deployment"] = CodeDeployBackend.create_deployment
        _ORIGINALS["call_action"] = CodeDeployResponse.call_action
        _ORIGINALS["_deployment_group_info"] = moto_responses._deployment_group_info
        for name, function in _BACKEND_METHODS.items():
            setattr(CodeDeployBackend, name, function)
        for name, function in _RESPONSE_METHODS.items():
            setattr(CodeDeployResponse, name, function)
        # moto's response methods look the helper up as a module global, so replacing it is enough.
        moto_responses._deployment_group_info = _deployment_group_info
        setattr(CodeDeployBackend, _INSTALL_MARK, True)


def is_installed() -> bool:
    """Return True once :func:`install` has extended moto."""
    return bool(getattr(CodeDeployBackend, _INSTALL_MARK, False))


def _operation_names() -> frozenset[str]:
    model = botocore.session.get_session().get_service_model("codedeploy")
    return frozenset(model.operation_names)


# --------------------------------------------------------------------------------------------
# the owner's control API
# --------------------------------------------------------------------------------------------
class StandIn:
    """Control API of the CodeDeploy stand-in for one (account, region).

    The object holds no data itself: every call looks moto's backend up afresh, so it stays valid
    across ``mock_aws`` restarts and moto resets. Creating one calls :func:`install`.

    Parameters
    ----------
    region_name : str
        Region the boto3 clients under test use.
    account_id : str, optional
        moto account; defaults to moto's ``123456789012`` (what the access key ``testing`` maps to).
    """

    def __init__(self, region_name: str, *, account_id: str = DEFAULT_ACCOUNT_ID) -> None:
        if not region_name:
            raise StandInError("region_name is required")
        install()
        self.region_name = region_name
        self.account_id = account_id

    def __repr__(self) -> str:
        return f"StandIn(region_name={self.region_name!r}, account_id={self.account_id!r})"

    @property
    def backend(self) -> CodeDeployBackend:
        """moto's CodeDeploy backend for this account and region (looked up on every access)."""
        return codedeploy_backends[self.account_id][self.region_name]

    @property
    def _state(self) -> ExtensionState:
        return _state(self.backend)

    def _deployment(self, deployment_id: str) -> DeploymentInfo:
        deployment = self.backend.deployments.get(deployment_id)
        if deployment is None:
            raise StandInError(f"deployment {deployment_id!r} does not exist in {self.region_name}")
        return deployment

    def _resolve_target(self, deployment: DeploymentInfo, target_id: str | None) -> str:
        known = _target_ids(deployment)
        if target_id is None:
            if len(known) != 1:
                raise StandInError(
                    f"deployment {deployment.deployment_id} has {len(known)} ECS targets; pass target_id"
                )
            return known[0]
        if target_id not in known:
            raise StandInError(f"target {target_id!r} is not one of {known} of {deployment.deployment_id}")
        return target_id

    # -- seeding ------------------------------------------------------------------------------
    def create_ecs_deployment(
        self,
        *,
        deployment_id: str | None = None,
        application_name: str = "trafficgate-app",
        deployment_group_name: str = "trafficgate-dg",
        cluster_name: str = "trafficgate-cluster",
        service_name: str = "trafficgate-service",
        alarm_configuration: Mapping[str, Any] | None = None,
        task_sets: Iterable[Mapping[str, Any] | TaskSet] | None = None,
    ) -> str:
        """Create (or reuse) an ECS application and blue/green group, then a deployment in it.

        Parameters
        ----------
        deployment_id : str, optional
            Fixed id to give the deployment (must match ``^d-[A-Z0-9]{9}$``), e.g. the id carried by
            a sample event. A fresh realistic id is generated when omitted.
        application_name, deployment_group_name : str
            Reused when they already exist; the group is created with ``ecsServices`` =
            ``[{clusterName, serviceName}]`` and the given ``alarm_configuration``.
        cluster_name, service_name : str
            Make up the single target id ``"<cluster_name>:<service_name>"``.
        alarm_configuration : mapping, optional
            API-shaped ``alarmConfiguration`` for a newly created group.
        task_sets : iterable, optional
            Initial task sets of the target (see :meth:`set_task_sets`).

        Returns
        -------
        str
            The deployment id.
        """
        if deployment_id is not None:
            validate_deployment_id(deployment_id)
            if deployment_id in self.backend.deployments:
                raise StandInError(f"deployment {deployment_id!r} already exists")
        backend = self.backend
        if application_name not in backend.applications:
            backend.create_application(application_name, "ECS", [])
        if deployment_group_name not in backend.deployment_groups.get(application_name, {}):
            backend.create_deployment_group(
                application_name=application_name,
                deployment_group_name=deployment_group_name,
                deployment_config_name="CodeDeployDefault.ECSAllAtOnce",
                ec2_tag_filters=None,
                on_premises_instance_tag_filters=None,
                auto_scaling_groups=None,
                service_role_arn=f"arn:{backend.partition}:iam::{self.account_id}:role/trafficgate-codedeploy",
                # moto annotates an AlarmConfiguration object but its own responses pass the raw
                # request dict; we store the same dict shape so both paths read back alike.
                alarm_configuration=dict(alarm_configuration) if alarm_configuration else None,  # type: ignore[arg-type]
                deployment_style={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
                ecs_services=[{"serviceName": service_name, "clusterName": cluster_name}],
            )
        revision = {
            "revisionType": "AppSpecContent",
            "appSpecContent": {"content": json.dumps({"version": 0.0, "Resources": []})},
        }
        new_id = backend.create_deployment(application_name, deployment_group_name, revision)
        if deployment_id is not None:
            self.rename_deployment(new_id, deployment_id)
            new_id = deployment_id
        if task_sets is not None:
            self.set_task_sets(new_id, task_sets)
        return new_id

    def target_ids(self, deployment_id: str) -> list[str]:
        """Return the ECS target ids (``<cluster>:<service>``) of a deployment."""
        return _target_ids(self._deployment(deployment_id))

    def rename_deployment(self, old_id: str, new_id: str) -> None:
        """Give an existing deployment a fixed id (``^d-[A-Z0-9]{9}$``), moving its stand-in state too."""
        _rename_deployment(self.backend, old_id, new_id)

    # -- hooks ---------------------------------------------------------------------------------
    def register_hook_execution(
        self, deployment_id: str, lifecycle_event_name: str, execution_id: str | None = None
    ) -> str:
        """Hand out a lifecycle hook execution id, as CodeDeploy does when it invokes a hook.

        Only registered ids are accepted by PutLifecycleEventHookExecutionStatus. Registering marks
        the lifecycle event ``InProgress`` (with a start time) until the hook reports.

        Parameters
        ----------
        deployment_id : str
            An existing deployment.
        lifecycle_event_name : str
            One of :data:`HOOK_EVENTS`.
        execution_id : str, optional
            A fixed id (e.g. from a sample event); a realistic opaque id is generated when omitted.
            Registering the same id for the same event again is a no-op.

        Returns
        -------
        str
            The execution id.
        """
        if lifecycle_event_name not in HOOK_EVENTS:
            raise StandInError(f"lifecycle event {lifecycle_event_name!r} is not one of {', '.join(HOOK_EVENTS)}")
        deployment = self._deployment(deployment_id)
        state = self._state
        with state.lock:
            deployment_state = state.deployment(deployment_id)
            if execution_id is not None and execution_id in deployment_state.executions:
                existing = deployment_state.executions[execution_id]
                if existing.lifecycle_event_name != lifecycle_event_name:
                    raise StandInError(
                        f"execution id already registered for {existing.lifecycle_event_name} of {deployment_id}"
                    )
                return execution_id
            execution_id = execution_id or new_hook_execution_id()
            now = utc_now()
            deployment_state.executions[execution_id] = HookExecution(
                deployment_id, lifecycle_event_name, execution_id, registered_at=now
            )
            event = deployment_state.events[lifecycle_event_name]
            event.status, event.start_time, event.end_time = "InProgress", now, None
            _touch_targets(state, deployment, now)
        return execution_id

    def statuses(self, deployment_id: str | None = None) -> list[StatusRecord]:
        """Return the accepted status reports, oldest first, optionally for one deployment."""
        with self._state.lock:
            records = list(self._state.statuses)
        return [r for r in records if deployment_id is None or r.deployment_id == deployment_id]

    def report_calls(self, deployment_id: str | None = None) -> list[ReportCall]:
        """Return every PutLifecycleEventHookExecutionStatus call received, rejected ones included."""
        with self._state.lock:
            calls = list(self._state.calls)
        return [c for c in calls if deployment_id is None or c.deployment_id == deployment_id]

    # -- faults --------------------------------------------------------------------------------
    def inject_fault(
        self,
        operation: str = PUT_STATUS_OPERATION,
        error_code: str = "ThrottlingException",
        http_status: int = 400,
        times: int = 1,
        message: str | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``operation`` fail with ``error_code``.

        ``ThrottlingException``/400 and any 5xx (e.g. ``InternalFailure``/500) are retried by
        botocore's standard retry mode, so a client with retries sees one failure then success.

        Parameters
        ----------
        operation : str
            CodeDeploy operation name as in the API (``PutLifecycleEventHookExecutionStatus``).
        error_code : str
            ``Error.Code`` the client receives.
        http_status : int
            400-599.
        times : int
            Number of consecutive calls to fail (>= 1).
        message : str, optional
            Error message; a generic one by default.
        """
        if operation not in _operation_names():
            raise StandInError(f"{operation!r} is not a CodeDeploy operation")
        if not 400 <= int(http_status) <= 599:
            raise StandInError(f"http_status must be 400-599, not {http_status}")
        if int(times) < 1:
            raise StandInError("times must be >= 1")
        if not error_code:
            raise StandInError("error_code is required")
        fault = Fault(
            operation=operation,
            error_code=error_code,
            http_status=int(http_status),
            remaining=int(times),
            message=message or f"Injected {error_code} by the Trafficgate stand-in",
        )
        with self._state.lock:
            self._state.faults.append(fault)

    def faults(self) -> list[Fault]:
        """Return the faults still pending."""
        with self._state.lock:
            return list(self._state.faults)

    def clear_faults(self) -> None:
        """Drop every pending fault."""
        with self._state.lock:
            self._state.faults.clear()

    # -- targets -------------------------------------------------------------------------------
    def set_task_sets(
        self,
        deployment_id: str,
        task_sets: Iterable[Mapping[str, Any] | TaskSet],
        *,
        target_id: str | None = None,
    ) -> None:
        """Replace the task sets reported for a deployment target.

        Parameters
        ----------
        deployment_id : str
            An existing ECS deployment.
        task_sets : iterable of TaskSet or mapping
            API-shaped (``identifer``, ``desiredCount``, ..., ``targetGroup: {name}``,
            ``taskSetLabel``) or snake_case mappings, or :class:`TaskSet` objects.
        target_id : str, optional
            Needed only when the deployment group has more than one ECS service.
        """
        parsed = [TaskSet.from_mapping(item) for item in task_sets]
        deployment = self._deployment(deployment_id)
        target_id = self._resolve_target(deployment, target_id)
        with self._state.lock:
            target = _target_state(self._state, deployment, target_id)
            target.task_sets = parsed
            target.last_updated_at = utc_now()

    def set_target_status(self, deployment_id: str, status: str, *, target_id: str | None = None) -> None:
        """Set the ``status`` of a deployment target (``Pending``, ``InProgress``, ``Succeeded``, ...)."""
        if status not in TARGET_STATUSES:
            raise StandInError(f"target status {status!r} is not one of {', '.join(TARGET_STATUSES)}")
        deployment = self._deployment(deployment_id)
        target_id = self._resolve_target(deployment, target_id)
        with self._state.lock:
            target = _target_state(self._state, deployment, target_id)
            target.status = status
            target.last_updated_at = utc_now()

    def set_lifecycle_event_status(self, deployment_id: str, lifecycle_event_name: str, status: str) -> None:
        """Set a lifecycle event's status directly, e.g. ``Install`` or ``AllowTraffic`` (no hook)."""
        if lifecycle_event_name not in ECS_LIFECYCLE_EVENTS:
            raise StandInError(
                f"lifecycle event {lifecycle_event_name!r} is not one of {', '.join(ECS_LIFECYCLE_EVENTS)}"
            )
        if status not in LIFECYCLE_EVENT_STATUSES:
            raise StandInError(f"status {status!r} is not one of {', '.join(LIFECYCLE_EVENT_STATUSES)}")
        deployment = self._deployment(deployment_id)
        now = utc_now()
        with self._state.lock:
            event = self._state.deployment(deployment_id).events[lifecycle_event_name]
            event.status = status
            if status == "InProgress":
                event.start_time, event.end_time = now, None
            elif status != "Pending":
                event.start_time = event.start_time or now
                event.end_time = now
            _touch_targets(self._state, deployment, now)

    # -- reset ---------------------------------------------------------------------------------
    def reset(self) -> None:
        """Reset this region's CodeDeploy: moto's applications, groups, deployments and our state."""
        self.backend.reset()
