"""What the stand-in keeps for ECS-native service deployments, and how the ECS API spells it.

Mutable records kept on moto's ECS backend (:class:`Revision`, :class:`Deployment`, in a
:class:`DeploymentStore`), their API shapes (``ServiceRevision``, ``ServiceDeployment``,
``ServiceDeploymentBrief``, ``ServiceRevisionSummary``) and the owner-facing snapshot
:class:`ServiceDeploymentRecord`. Used by :mod:`.ecs_deployments` and :mod:`.ecs_deployment_api`.
"""

from __future__ import annotations

import secrets
import string
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from moto.ecs.models import EC2ContainerServiceBackend, Service

from .ecs_deployment_config import (
    DEFAULT_CANARY_PERCENT,
    DEFAULT_LINEAR_STEP,
    FINAL_STATUSES,
    LIFECYCLE_STAGES,
    ROLLBACK_STATUSES,
)

_ALNUM = string.ascii_letters + string.digits
_STORE_ATTR = "_trafficgate_service_deployments"
_store_lock = threading.Lock()


def new_deployment_id() -> str:
    """Return an id shaped like ECS's service deployment ids (21 letters and digits)."""
    return "".join(secrets.choice(_ALNUM) for _ in range(21))


def new_revision_id() -> str:
    """Return an id shaped like ECS's service revision ids (a 19-digit number)."""
    return str(10**18 + secrets.randbelow(9 * 10**18))


# --------------------------------------------------------------------------------------------
# records kept on moto's ECS backend
# --------------------------------------------------------------------------------------------
@dataclass
class Revision:
    """One immutable service revision: the API body (counts aside) and the target group per load balancer."""

    arn: str
    service_key: str
    body: dict[str, Any]
    target_groups: tuple[str | None, ...]


@dataclass
class Deployment:
    """One service deployment; status and stage move only through the control API."""

    arn: str
    service_key: str
    service_arn: str
    cluster_arn: str
    created_at: datetime
    source_arns: list[str]
    target_arn: str
    configuration: dict[str, Any]
    lifecycle_stage: str
    status: str = "IN_PROGRESS"
    status_reason: str | None = None
    updated_at: datetime | None = None
    finished_at: datetime | None = None
    stopped_at: datetime | None = None
    rollback_started_at: datetime | None = None

    @property
    def strategy(self) -> str:
        return str(self.configuration.get("strategy", "ROLLING"))

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES

    def active_revisions(self) -> list[str]:
        """Revisions with tasks once this deployment is where it is now (sources first)."""
        if self.status == "SUCCESSFUL":
            return [self.target_arn]
        if self.status == "ROLLBACK_SUCCESSFUL":
            return list(self.source_arns)
        return [*self.source_arns, self.target_arn]

    def first_production_step(self) -> float:
        if self.strategy == "LINEAR":
            return float((self.configuration.get("linearConfiguration") or {}).get("stepPercent", DEFAULT_LINEAR_STEP))
        if self.strategy == "CANARY":
            canary = self.configuration.get("canaryConfiguration") or {}
            return float(canary.get("canaryPercent", DEFAULT_CANARY_PERCENT))
        return 100.0

    def target_traffic(self) -> tuple[float, float]:
        """(production %, test %) requested for the target revision, as the stage implies."""
        if self.status in ROLLBACK_STATUSES:
            return 0.0, 0.0
        if self.status == "SUCCESSFUL":
            return 100.0, 100.0
        stage = LIFECYCLE_STAGES.index(self.lifecycle_stage)
        test = 100.0 if stage >= LIFECYCLE_STAGES.index("TEST_TRAFFIC_SHIFT") else 0.0
        production_shift = LIFECYCLE_STAGES.index("PRODUCTION_TRAFFIC_SHIFT")
        if stage < production_shift:
            return 0.0, test
        return (self.first_production_step() if stage == production_shift else 100.0), test

    def summary(self, revision_arn: str, desired_count: int) -> dict[str, Any]:
        """``ServiceRevisionSummary`` of one of this deployment's revisions.

        The stand-in starts and stops tasks at once: running = requested, none pending. The first
        source is the one serving production; further sources (left by an unfinished deployment)
        get no traffic.
        """
        production, test = self.target_traffic()
        stage = LIFECYCLE_STAGES.index(self.lifecycle_stage)
        if revision_arn == self.target_arn:
            scaled = self.status == "SUCCESSFUL" or stage >= LIFECYCLE_STAGES.index("SCALE_UP")
            requested = desired_count if scaled and self.status != "ROLLBACK_SUCCESSFUL" else 0
        else:
            first = bool(self.source_arns) and revision_arn == self.source_arns[0]
            production, test = (100.0 - production, 100.0 - test) if first else (0.0, 0.0)
            cleaned = self.status == "SUCCESSFUL" or (self.lifecycle_stage == "CLEAN_UP" and not self.finished)
            requested = desired_count if first and not cleaned else 0
        return {
            "arn": revision_arn,
            "requestedTaskCount": requested,
            "runningTaskCount": requested,
            "pendingTaskCount": 0,
            "requestedTestTrafficWeight": test,
            "requestedProductionTrafficWeight": production,
        }

    def to_api(self, desired_count: int) -> dict[str, Any]:
        """The ``ServiceDeployment`` shape of DescribeServiceDeployments."""
        configuration = self.configuration
        alarms = configuration.get("alarms") or {}
        breaker = configuration.get("deploymentCircuitBreaker") or {}
        monitoring = "MONITORING_COMPLETE" if self.finished else "MONITORING"
        data: dict[str, Any] = {
            **self.brief(),
            "updatedAt": self.updated_at or self.created_at,
            "sourceServiceRevisions": [self.summary(arn, desired_count) for arn in self.source_arns],
            "targetServiceRevision": self.summary(self.target_arn, desired_count),
            "lifecycleStage": self.lifecycle_stage,
            "deploymentConfiguration": configuration,
            "deploymentCircuitBreaker": {
                "status": monitoring if breaker.get("enable") else "DISABLED",
                "failureCount": 0,
            },
            "alarms": {"status": monitoring if alarms.get("enable") else "DISABLED"},
        }
        data.pop("targetServiceRevisionArn")
        if alarms.get("enable"):
            data["alarms"]["alarmNames"] = list(alarms.get("alarmNames") or [])
        if self.stopped_at is not None:
            data["stoppedAt"] = self.stopped_at
        if self.rollback_started_at is not None:
            reason = self.status_reason or "Rollback requested"
            data["rollback"] = {"reason": reason, "startedAt": self.rollback_started_at}
            if self.source_arns:
                data["rollback"]["serviceRevisionArn"] = self.source_arns[0]
        return data

    def brief(self) -> dict[str, Any]:
        """The ``ServiceDeploymentBrief`` shape of ListServiceDeployments."""
        data: dict[str, Any] = {
            "serviceDeploymentArn": self.arn,
            "serviceArn": self.service_arn,
            "clusterArn": self.cluster_arn,
            "createdAt": self.created_at,
            "startedAt": self.created_at,
            "targetServiceRevisionArn": self.target_arn,
            "status": self.status,
        }
        if self.finished_at is not None:
            data["finishedAt"] = self.finished_at
        if self.status_reason:
            data["statusReason"] = self.status_reason
        return data

    def record(self) -> ServiceDeploymentRecord:
        """The owner-facing snapshot."""
        return ServiceDeploymentRecord(
            arn=self.arn,
            service_arn=self.service_arn,
            cluster_arn=self.cluster_arn,
            strategy=self.strategy,
            status=self.status,
            status_reason=self.status_reason,
            lifecycle_stage=self.lifecycle_stage,
            source_revision_arns=tuple(self.source_arns),
            target_revision_arn=self.target_arn,
            created_at=self.created_at,
            updated_at=self.updated_at or self.created_at,
            finished_at=self.finished_at,
            stopped_at=self.stopped_at,
        )


@dataclass
class DeploymentStore:
    """Revisions and deployments of one ECS backend, oldest first; lives on the backend, so moto resets it."""

    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    revisions: dict[str, Revision] = field(default_factory=dict)
    deployments: dict[str, Deployment] = field(default_factory=dict)

    def of_service(self, service_key: str) -> list[Deployment]:
        """The service's deployments, oldest first."""
        return [d for d in self.deployments.values() if d.service_key == service_key]

    def latest_revision(self, service_key: str) -> Revision | None:
        found = [r for r in self.revisions.values() if r.service_key == service_key]
        return found[-1] if found else None

    def active_revisions(self, service_key: str) -> list[str]:
        """Revisions with tasks: as the latest deployment leaves them, else the latest revision."""
        deployments = self.of_service(service_key)
        if deployments:
            return deployments[-1].active_revisions()
        latest = self.latest_revision(service_key)
        return [latest.arn] if latest else []

    def forget_service(self, service_key: str) -> None:
        """Drop a deleted service's revisions and deployments, as ECS does."""
        for table in (self.revisions, self.deployments):
            for arn in [arn for arn, item in table.items() if item.service_key == service_key]:
                del table[arn]


def store_of(backend: EC2ContainerServiceBackend) -> DeploymentStore:
    """The deployment store of one moto ECS backend (created on first use)."""
    with _store_lock:
        store = getattr(backend, _STORE_ATTR, None)
        if store is None:
            store = DeploymentStore()
            setattr(backend, _STORE_ATTR, store)
        return store


def service_key(service: Service) -> str:
    """``<cluster>:<service>``, as moto keys its services."""
    return f"{service.cluster_name}:{service.name}"


# --------------------------------------------------------------------------------------------
# owner-facing snapshot
# --------------------------------------------------------------------------------------------
def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True)
class ServiceDeploymentRecord:
    """A service deployment as the control API reports it (a snapshot, not a live view).

    Attributes
    ----------
    arn, service_arn, cluster_arn : str
        ``serviceDeploymentArn``, ``serviceArn``, ``clusterArn``.
    strategy : str
        ``BLUE_GREEN``, ``LINEAR`` or ``CANARY``.
    status, lifecycle_stage : str
        ``ServiceDeploymentStatus`` and ``ServiceDeploymentLifecycleStage``.
    status_reason : str or None
        ``statusReason``.
    source_revision_arns : tuple of str
        Revisions being replaced (empty for the service's first deployment).
    target_revision_arn : str
        The revision being deployed.
    created_at, updated_at : datetime
        UTC.
    finished_at, stopped_at : datetime or None
        Set once the deployment ends (``stopped_at`` only when STOPPED).
    """

    arn: str
    service_arn: str
    cluster_arn: str
    strategy: str
    status: str
    status_reason: str | None
    lifecycle_stage: str
    source_revision_arns: tuple[str, ...]
    target_revision_arn: str
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None
    stopped_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form used by the admin endpoints."""
        return {
            "serviceDeploymentArn": self.arn,
            "serviceArn": self.service_arn,
            "clusterArn": self.cluster_arn,
            "strategy": self.strategy,
            "status": self.status,
            "statusReason": self.status_reason,
            "lifecycleStage": self.lifecycle_stage,
            "sourceServiceRevisionArns": list(self.source_revision_arns),
            "targetServiceRevisionArn": self.target_revision_arn,
            "createdAt": _iso(self.created_at),
            "updatedAt": _iso(self.updated_at),
            "finishedAt": _iso(self.finished_at),
            "stoppedAt": _iso(self.stopped_at),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ServiceDeploymentRecord:
        """Inverse of :meth:`to_dict`."""
        created = _time(data["createdAt"])
        assert created is not None
        return cls(
            arn=data["serviceDeploymentArn"],
            service_arn=data["serviceArn"],
            cluster_arn=data["clusterArn"],
            strategy=data["strategy"],
            status=data["status"],
            status_reason=data.get("statusReason"),
            lifecycle_stage=data["lifecycleStage"],
            source_revision_arns=tuple(data.get("sourceServiceRevisionArns") or ()),
            target_revision_arn=data["targetServiceRevisionArn"],
            created_at=created,
            updated_at=_time(data.get("updatedAt")) or created,
            finished_at=_time(data.get("finishedAt")),
            stopped_at=_time(data.get("stoppedAt")),
        )
