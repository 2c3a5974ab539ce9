"""Data the stand-in keeps next to moto's CodeDeploy backend.

Records are immutable dataclasses with ``to_dict``/``from_dict`` in the AWS camelCase style, so the
in-process control API (:class:`~trafficgate_local.standin.codedeploy.StandIn`) and the admin HTTP
client (:class:`~trafficgate_local.standin.client.StandInAdmin`) hand back the same types.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import string
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from .exceptions import StandInError

#: Shape of a real CodeDeploy deployment id; PutLifecycleEventHookExecutionStatus rejects others.
DEPLOYMENT_ID_PATTERN = re.compile(r"^d-[A-Z0-9]{9}$")

#: Lifecycle events of an ECS blue/green deployment, in the order CodeDeploy runs them.
ECS_LIFECYCLE_EVENTS = (
    "BeforeInstall",
    "Install",
    "AfterInstall",
    "AllowTestTraffic",
    "AfterAllowTestTraffic",
    "BeforeAllowTraffic",
    "AllowTraffic",
    "AfterAllowTraffic",
)

#: The only values PutLifecycleEventHookExecutionStatus accepts from a hook.
REPORTABLE_STATUSES = ("Succeeded", "Failed")
LIFECYCLE_EVENT_STATUSES = ("Pending", "InProgress", "Succeeded", "Failed", "Skipped", "Unknown")
TARGET_STATUSES = ("Pending", "InProgress", "Succeeded", "Failed", "Skipped", "Unknown", "Ready")
#: ``DeploymentStatus`` enum of the service model.
DEPLOYMENT_STATUSES = ("Created", "Queued", "InProgress", "Baking", "Succeeded", "Failed", "Stopped", "Ready")
#: Statuses a deployment ends in: it then has a ``completeTime``.
FINAL_DEPLOYMENT_STATUSES = ("Succeeded", "Failed", "Stopped")
#: ``TargetLabel`` enum of the service model (the API spells it ``Blue``/``Green``).
TASK_SET_LABELS = ("Blue", "Green")

_ID_ALPHABET = string.ascii_uppercase + string.digits


def utc_now() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def new_deployment_id() -> str:
    """Return a fresh id in the real service's format, e.g. ``d-7QK2M0XAB``."""
    return "d-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(9))


def new_hook_execution_id() -> str:
    """Return an opaque hook execution id shaped like the real one.

    CodeDeploy hands hooks a base64 blob of JSON (``encryptedData``, ``ivParameterSpec``,
    ``materialSetSerial``); code under test must treat it as opaque, so we mimic the shape and length.
    """
    inner = {
        "encryptedData": base64.b64encode(secrets.token_bytes(96)).decode(),
        "ivParameterSpec": base64.b64encode(secrets.token_bytes(16)).decode(),
        "materialSetSerial": 1,
    }
    return base64.b64encode(json.dumps(inner, separators=(",", ":")).encode()).decode()


def validate_deployment_id(deployment_id: str) -> None:
    """Raise :class:`StandInError` unless ``deployment_id`` has the real service's shape."""
    if not DEPLOYMENT_ID_PATTERN.match(deployment_id or ""):
        raise StandInError(f"deployment id {deployment_id!r} must match {DEPLOYMENT_ID_PATTERN.pattern}")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    for option in allowed:
        if option.lower() == str(value).lower():
            return option
    raise StandInError(f"{what} {value!r} is not one of {', '.join(allowed)}")


@dataclass(frozen=True)
class StatusRecord:
    """One accepted PutLifecycleEventHookExecutionStatus call.

    Attributes
    ----------
    deployment_id, execution_id, lifecycle_event_name : str
        What was reported on.
    status : str
        ``Succeeded`` or ``Failed``.
    time : datetime
        When the stand-in accepted it (UTC).
    """

    deployment_id: str
    execution_id: str
    lifecycle_event_name: str
    status: str
    time: datetime

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form used by the admin endpoints."""
        return {
            "deploymentId": self.deployment_id,
            "lifecycleEventHookExecutionId": self.execution_id,
            "lifecycleEventName": self.lifecycle_event_name,
            "status": self.status,
            "time": _iso(self.time),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StatusRecord:
        """Inverse of :meth:`to_dict`."""
        return cls(
            deployment_id=data["deploymentId"],
            execution_id=data["lifecycleEventHookExecutionId"],
            lifecycle_event_name=data["lifecycleEventName"],
            status=data["status"],
            time=_parse_time(data["time"]) or utc_now(),
        )


@dataclass(frozen=True)
class ReportCall:
    """Every PutLifecycleEventHookExecutionStatus call received, accepted or rejected.

    Attributes
    ----------
    deployment_id, execution_id, status : str or None
        The request parameters as sent (``None`` when missing).
    lifecycle_event_name : str or None
        Known when the execution id was registered for that deployment.
    error_code : str or None
        ``None`` when accepted, else the AWS error code returned (including injected faults).
    time : datetime
        When the call arrived (UTC).
    """

    deployment_id: str | None
    execution_id: str | None
    status: str | None
    lifecycle_event_name: str | None
    error_code: str | None
    time: datetime

    @property
    def accepted(self) -> bool:
        """True when the call was accepted and recorded as a status."""
        return self.error_code is None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form used by the admin endpoints."""
        return {
            "deploymentId": self.deployment_id,
            "lifecycleEventHookExecutionId": self.execution_id,
            "status": self.status,
            "lifecycleEventName": self.lifecycle_event_name,
            "errorCode": self.error_code,
            "time": _iso(self.time),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReportCall:
        """Inverse of :meth:`to_dict`."""
        return cls(
            deployment_id=data.get("deploymentId"),
            execution_id=data.get("lifecycleEventHookExecutionId"),
            status=data.get("status"),
            lifecycle_event_name=data.get("lifecycleEventName"),
            error_code=data.get("errorCode"),
            time=_parse_time(data.get("time")) or utc_now(),
        )


@dataclass(frozen=True)
class TaskSet:
    """One ECS task set of a deployment target, as GetDeploymentTarget reports it.

    Attributes
    ----------
    identifier : str
        Task set id (``ecs-svc/...``); the API field is spelled ``identifer``.
    desired_count, pending_count, running_count : int
        Task counts; a conductor raises ``running_count`` to simulate the replacement starting.
    status : str
        ECS task set status: ``PRIMARY``, ``ACTIVE`` or ``DRAINING``.
    traffic_weight : float
        Percentage of production traffic (0-100).
    target_group_name : str or None
        Name of the target group the task set is registered with.
    label : str
        ``Blue`` (original) or ``Green`` (replacement); input is case-insensitive.
    """

    identifier: str
    desired_count: int = 0
    pending_count: int = 0
    running_count: int = 0
    status: str = "ACTIVE"
    traffic_weight: float = 0.0
    target_group_name: str | None = None
    label: str = "Green"

    def __post_init__(self) -> None:
        object.__setattr__(self, "label", _choice(self.label, TASK_SET_LABELS, "task set label"))
        for name in ("desired_count", "pending_count", "running_count"):
            if int(getattr(self, name)) < 0:
                raise StandInError(f"task set {name} must be >= 0")

    def to_api(self) -> dict[str, Any]:
        """Return the ``ECSTaskSet`` shape of the CodeDeploy API (with its ``identifer`` spelling)."""
        data: dict[str, Any] = {
            "identifer": self.identifier,
            "desiredCount": int(self.desired_count),
            "pendingCount": int(self.pending_count),
            "runningCount": int(self.running_count),
            "status": self.status,
            "trafficWeight": float(self.traffic_weight),
            "taskSetLabel": self.label,
        }
        if self.target_group_name:
            data["targetGroup"] = {"name": self.target_group_name}
        return data

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | TaskSet) -> TaskSet:
        """Build from the API shape (``identifer``/``identifier``, camelCase) or snake_case keys."""
        if isinstance(data, TaskSet):
            return data

        def pick(*keys: str, default: Any = None) -> Any:
            for key in keys:
                if key in data:
                    return data[key]
            return default

        identifier = pick("identifer", "identifier")
        if not identifier:
            raise StandInError("a task set needs an 'identifer' (or 'identifier')")
        target_group = pick("targetGroup", "target_group")
        target_group_name = pick("target_group_name")
        if isinstance(target_group, Mapping):
            target_group_name = target_group.get("name")
        elif isinstance(target_group, str):
            target_group_name = target_group
        return cls(
            identifier=str(identifier),
            desired_count=int(pick("desiredCount", "desired_count", default=0)),
            pending_count=int(pick("pendingCount", "pending_count", default=0)),
            running_count=int(pick("runningCount", "running_count", default=0)),
            status=str(pick("status", default="ACTIVE")),
            traffic_weight=float(pick("trafficWeight", "traffic_weight", default=0.0)),
            target_group_name=target_group_name,
            label=str(pick("taskSetLabel", "label", default="Green")),
        )


@dataclass(frozen=True)
class Fault:
    """An injected failure for the next ``remaining`` calls of one CodeDeploy operation."""

    operation: str
    error_code: str
    http_status: int
    remaining: int
    message: str

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form used by the admin endpoints."""
        return {
            "operation": self.operation,
            "errorCode": self.error_code,
            "httpStatus": self.http_status,
            "times": self.remaining,
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Fault:
        """Inverse of :meth:`to_dict`."""
        return cls(
            operation=data["operation"],
            error_code=data["errorCode"],
            http_status=int(data["httpStatus"]),
            remaining=int(data["times"]),
            message=data.get("message", ""),
        )


@dataclass
class HookExecution:
    """A lifecycle hook execution id handed to a hook, and what the hook reported for it."""

    deployment_id: str
    lifecycle_event_name: str
    execution_id: str
    registered_at: datetime
    status: str | None = None
    reported_at: datetime | None = None


@dataclass
class LifecycleEventState:
    """Status of one lifecycle event of a deployment."""

    status: str = "Pending"
    start_time: datetime | None = None
    end_time: datetime | None = None

    def to_api(self, name: str) -> dict[str, Any]:
        """Return the ``LifecycleEvent`` shape of the CodeDeploy API."""
        data: dict[str, Any] = {"lifecycleEventName": name, "status": self.status}
        if self.start_time is not None:
            data["startTime"] = self.start_time
        if self.end_time is not None:
            data["endTime"] = self.end_time
        return data


@dataclass
class TargetState:
    """Owner-controlled part of one ECS deployment target."""

    status: str = "InProgress"
    last_updated_at: datetime = field(default_factory=utc_now)
    task_sets: list[TaskSet] = field(default_factory=list)


@dataclass
class DeploymentState:
    """Everything the stand-in tracks for one deployment id."""

    executions: dict[str, HookExecution] = field(default_factory=dict)
    events: dict[str, LifecycleEventState] = field(
        default_factory=lambda: {name: LifecycleEventState() for name in ECS_LIFECYCLE_EVENTS}
    )
    targets: dict[str, TargetState] = field(default_factory=dict)


@dataclass
class ExtensionState:
    """Extension state of one (account, region) CodeDeploy backend.

    It lives as an attribute of moto's backend instance, so ``BaseBackend.reset()`` (called by
    ``mock_aws`` and ``POST /moto-api/reset``) discards it together with moto's own data.
    """

    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    deployments: dict[str, DeploymentState] = field(default_factory=dict)
    statuses: list[StatusRecord] = field(default_factory=list)
    calls: list[ReportCall] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)

    def deployment(self, deployment_id: str) -> DeploymentState:
        """Return (creating if needed) the state of ``deployment_id``."""
        return self.deployments.setdefault(deployment_id, DeploymentState())

    def take_fault(self, operation: str) -> Fault | None:
        """Consume one pending fault for ``operation``, oldest first."""
        with self.lock:
            for index, fault in enumerate(self.faults):
                if fault.operation == operation:
                    if fault.remaining <= 1:
                        del self.faults[index]
                    else:
                        self.faults[index] = replace(fault, remaining=fault.remaining - 1)
                    return fault
        return None
