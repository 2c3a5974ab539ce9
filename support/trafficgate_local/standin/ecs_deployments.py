"""moto's ECS, extended with ECS-native blue/green: deployment strategies, service revisions and service deployments.

Since 2025 ECS runs blue/green (and LINEAR, CANARY) deployments itself. moto 5.2 keeps none of
it, so :func:`install_ecs_deployments` patches its ECS responses once (nothing happens at import
time):

* CreateService and UpdateService keep ``deploymentConfiguration`` (``strategy``, ROLLING by
  default; ``bakeTimeInMinutes``; ``lifecycleHooks``; ``linearConfiguration``/``canaryConfiguration``)
  and ``loadBalancers[].advancedConfiguration``, validated as in
  :func:`~.ecs_deployment_config.deployment_configuration`, and answer them in DescribeServices too,
  with ``currentServiceDeployment`` and ``currentServiceRevisions``. UpdateService's task
  definition is answered as an ARN, as ECS does.
* On a service of the ECS deployment controller, every CreateService, and every UpdateService
  that changes the task definition or the load balancers (or forces a new deployment), records a
  service revision. Under a BLUE_GREEN, LINEAR or CANARY strategy it also starts a service deployment
  from the active revisions (sources) to the new one (target): ``IN_PROGRESS``, at
  ``PRE_SCALE_UP`` (``RECONCILE_SERVICE`` when more than one revision is active). An unfinished
  deployment it supersedes is ``STOPPED``.
* DescribeServiceDeployments, ListServiceDeployments and DescribeServiceRevisions
  (:mod:`.ecs_deployment_api`) answer in the service model's shapes; unknown ARNs are
  ``failures`` with reason ``MISSING``.
* DeleteService forgets the service's revisions and deployments, as ECS does.

Nothing moves on its own: the owner moves a deployment with :func:`set_service_deployment_stage`
and :func:`set_service_deployment_status`; traffic weights and task counts follow the stage and
status. State lives on moto's ECS backend, so ``mock_aws`` restarts and ``POST /moto-api/reset``
clear it with moto's own.
"""

from __future__ import annotations

import copy
import threading
from datetime import UTC, datetime
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ecs.models import EC2ContainerServiceBackend, Service, ecs_backends
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.utilities.utils import get_partition

from .ecs_deployment_api import ADDED_RESPONSES
from .ecs_deployment_config import (
    FINAL_STATUSES,
    LIFECYCLE_STAGES,
    ROLLBACK_STATUSES,
    STAGED_STRATEGIES,
    STATUSES,
    deployment_configuration,
)
from .ecs_deployment_model import (
    Deployment,
    DeploymentStore,
    Revision,
    ServiceDeploymentRecord,
    new_deployment_id,
    new_revision_id,
    service_key,
    store_of,
)
from .exceptions import StandInError

__all__ = [
    "install_ecs_deployments",
    "is_ecs_deployments_installed",
    "service_deployment",
    "service_deployments",
    "set_service_deployment_stage",
    "set_service_deployment_status",
]

_INSTALL_MARK = "_trafficgate_ecs_deployments_installed"
_install_lock = threading.Lock()
_ORIGINALS: dict[str, Any] = {}


def _now() -> datetime:
    # Milliseconds, as the API carries them: a record and a Describe answer then tell the same time.
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _arn(service: Service, kind: str, resource_id: str) -> str:
    region = service.region_name
    return (
        f"arn:{get_partition(region)}:ecs:{region}:{service._account_id}:"
        f"{kind}/{service.cluster_name}/{service.name}/{resource_id}"
    )


def _controller(service: Service) -> str:
    return str((service.deployment_controller or {}).get("type", "ECS"))


# --------------------------------------------------------------------------------------------
# revisions and deployments
# --------------------------------------------------------------------------------------------
def _target_groups(service: Service, production: Revision | None) -> tuple[str | None, ...]:
    """Each load balancer's target group for a new revision: the one production does not use."""
    groups: list[str | None] = []
    for index, balancer in enumerate(service.load_balancers or []):
        primary = balancer.get("targetGroupArn")
        alternate = (balancer.get("advancedConfiguration") or {}).get("alternateTargetGroupArn")
        in_use = production.target_groups[index] if production and index < len(production.target_groups) else None
        groups.append(alternate if alternate and in_use == primary else primary)
    return tuple(groups)


def _record_revision(backend: EC2ContainerServiceBackend, service: Service, production: Revision | None) -> Revision:
    arn = _arn(service, "service-revision", new_revision_id())
    groups = _target_groups(service, production)
    body: dict[str, Any] = {
        "serviceRevisionArn": arn,
        "serviceArn": service.arn,
        "clusterArn": service.cluster_arn,
        "taskDefinition": service.task_definition,
        "launchType": service.launch_type,
        "platformVersion": service.platform_version,
        "loadBalancers": copy.deepcopy(service.load_balancers) or None,
        "serviceRegistries": copy.deepcopy(service.service_registries) or None,
        "networkConfiguration": copy.deepcopy(service.network_configuration) or None,
        "createdAt": _now(),
    }
    if service.task_definition:
        definition = backend.describe_task_definition(service.task_definition)
        body["containerImages"] = [
            {"containerName": c.get("name"), "image": c.get("image")} for c in definition.container_definitions
        ]
    resolved = []
    for balancer, group in zip(service.load_balancers or [], groups, strict=True):
        if group:
            entry = {"targetGroupArn": group}
            rule = (balancer.get("advancedConfiguration") or {}).get("productionListenerRule")
            if rule:
                entry["productionListenerRule"] = rule
            resolved.append(entry)
    if resolved:
        body["resolvedConfiguration"] = {"loadBalancers": resolved}
    revision = Revision(arn, service_key(service), {k: v for k, v in body.items() if v is not None}, groups)
    store_of(backend).revisions[arn] = revision
    return revision


def _new_revision(backend: EC2ContainerServiceBackend, service: Service) -> None:
    """Record a revision of the service as it now stands; under a staged strategy, deploy it."""
    if _controller(service) != "ECS":
        return  # CodeDeploy and external deployments are not ECS's service deployments
    store = store_of(backend)
    configuration = getattr(service, "deployment_configuration", None) or {}
    with store.lock:
        key = service_key(service)
        sources = store.active_revisions(key)
        production = store.revisions.get(sources[0]) if sources else None
        revision = _record_revision(backend, service, production)
        if configuration.get("strategy") not in STAGED_STRATEGIES:
            return
        now = _now()
        deployment = Deployment(
            arn=_arn(service, "service-deployment", new_deployment_id()),
            service_key=key,
            service_arn=service.arn,
            cluster_arn=service.cluster_arn,
            created_at=now,
            source_arns=sources,
            target_arn=revision.arn,
            configuration=copy.deepcopy(configuration),
            lifecycle_stage="RECONCILE_SERVICE" if len(sources) > 1 else "PRE_SCALE_UP",
        )
        for earlier in store.of_service(key):
            if not earlier.finished:
                # Assumption: a newer deployment stops the unfinished one; both revisions stay active.
                _apply_status(earlier, "STOPPED", f"Superseded by service deployment {deployment.arn}", now)
        store.deployments[deployment.arn] = deployment


def _apply_status(deployment: Deployment, status: str, reason: str | None, now: datetime) -> None:
    deployment.status = status
    deployment.status_reason = reason
    deployment.updated_at = now
    final = status in FINAL_STATUSES
    deployment.finished_at = (deployment.finished_at or now) if final else None
    deployment.stopped_at = (deployment.stopped_at or now) if status == "STOPPED" else None
    if status in ROLLBACK_STATUSES:
        deployment.rollback_started_at = deployment.rollback_started_at or now
    else:
        deployment.rollback_started_at = None


# --------------------------------------------------------------------------------------------
# what DescribeServices reads off moto's Service (the serializer looks these attributes up)
# --------------------------------------------------------------------------------------------
def _current_service_deployment(self: Service) -> str | None:
    store = store_of(self._backend)
    with store.lock:
        deployments = store.of_service(service_key(self))
    return deployments[-1].arn if deployments else None


def _current_service_revisions(self: Service) -> list[dict[str, Any]] | None:
    store = store_of(self._backend)
    with store.lock:
        active = store.active_revisions(service_key(self))
        deployments = store.of_service(service_key(self))
        if not active:
            return None
        if not deployments:
            count = int(self.desired_count)
            return [{"arn": active[0], "requestedTaskCount": count, "runningTaskCount": count, "pendingTaskCount": 0}]
        summaries = [deployments[-1].summary(arn, int(self.desired_count)) for arn in active]
    keep = ("arn", "requestedTaskCount", "runningTaskCount", "pendingTaskCount")
    return [{k: s[k] for k in keep} for s in summaries]


# --------------------------------------------------------------------------------------------
# patched responses
# --------------------------------------------------------------------------------------------
def _create_service(self: EC2ContainerServiceResponse) -> Any:
    controller = (self._get_param("deploymentController") or {}).get("type", "ECS")
    configuration = deployment_configuration(
        self._get_param("deploymentConfiguration"),
        controller=controller,
        load_balancers=self._get_param("loadBalancers") or [],
    )
    result = _ORIGINALS["create_service"](self)
    service: Service = result.result["service"]
    service.deployment_configuration = configuration  # type: ignore[attr-defined]  # kept for the serializer
    _new_revision(self.ecs_backend, service)
    return result


def _update_service(self: EC2ContainerServiceResponse) -> Any:
    backend = self.ecs_backend
    service = backend._get_service(self._get_param("cluster", "default"), self._get_param("service"))
    before = (service.task_definition, copy.deepcopy(service.load_balancers))
    requested_balancers = self._get_param("loadBalancers")
    controller = (self._get_param("deploymentController") or service.deployment_controller or {}).get("type", "ECS")
    configuration = deployment_configuration(
        self._get_param("deploymentConfiguration"),
        controller=controller,
        load_balancers=requested_balancers if requested_balancers is not None else service.load_balancers or [],
        current=getattr(service, "deployment_configuration", None),
    )
    result = _ORIGINALS["update_service"](self)
    service.deployment_configuration = configuration  # type: ignore[attr-defined]  # kept for the serializer
    if service.task_definition:
        # moto keeps the string as sent ("family:3"); ECS answers with the ARN.
        service.task_definition = backend.describe_task_definition(service.task_definition).arn
    changed = (service.task_definition, service.load_balancers) != before
    if changed or self._get_param("forceNewDeployment"):
        _new_revision(backend, service)
    return result


def _delete_service(self: EC2ContainerServiceResponse) -> Any:
    result = _ORIGINALS["delete_service"](self)
    service: Service = result.result["service"]
    store = store_of(self.ecs_backend)
    with store.lock:
        store.forget_service(service_key(service))
    return result


# --------------------------------------------------------------------------------------------
# install
# --------------------------------------------------------------------------------------------
_PATCHED = {"create_service": _create_service, "update_service": _update_service, "delete_service": _delete_service}


def install_ecs_deployments() -> None:
    """Patch moto's ECS responses and ``Service`` as the module docstring says; idempotent."""
    with _install_lock:
        if is_ecs_deployments_installed():
            return
        for name, function in _PATCHED.items():
            _ORIGINALS[name] = getattr(EC2ContainerServiceResponse, name)
            setattr(EC2ContainerServiceResponse, name, function)
        for name, function in ADDED_RESPONSES.items():
            setattr(EC2ContainerServiceResponse, name, function)
        # Properties, so that every answer shows the deployments as they are now.
        Service.current_service_deployment = property(_current_service_deployment)  # type: ignore[attr-defined]
        Service.current_service_revisions = property(_current_service_revisions)  # type: ignore[attr-defined]
        setattr(EC2ContainerServiceResponse, _INSTALL_MARK, True)


def is_ecs_deployments_installed() -> bool:
    """Return True once :func:`install_ecs_deployments` has patched moto."""
    return bool(getattr(EC2ContainerServiceResponse, _INSTALL_MARK, False))


# --------------------------------------------------------------------------------------------
# control API (wrapped by StandIn and the admin endpoints)
# --------------------------------------------------------------------------------------------
def _deployment(region: str, arn: str, account_id: str) -> tuple[DeploymentStore, Deployment]:
    if not is_ecs_deployments_installed():
        raise StandInError("call install_ecs_deployments() (or install()) first")
    store = store_of(ecs_backends[account_id][region])
    deployment = store.deployments.get(arn)
    if deployment is None:
        raise StandInError(f"service deployment {arn!r} does not exist in {account_id}/{region}")
    return store, deployment


def service_deployment(region: str, arn: str, *, account_id: str = DEFAULT_ACCOUNT_ID) -> ServiceDeploymentRecord:
    """Return a snapshot of one service deployment.

    Raises
    ------
    StandInError
        No such deployment in this (account, region).
    """
    store, deployment = _deployment(region, arn, account_id)
    with store.lock:
        return deployment.record()


def service_deployments(
    region: str, cluster: str, service: str, *, account_id: str = DEFAULT_ACCOUNT_ID
) -> list[ServiceDeploymentRecord]:
    """Return the deployments of one service (cluster and service by name or ARN), newest first."""
    backend = ecs_backends[account_id][region]
    try:
        found = backend._get_service(cluster, service)
    except Exception as exc:  # moto's ClusterNotFound/ServiceNotFound; say what is missing
        raise StandInError(f"service {service!r} of cluster {cluster!r} in {account_id}/{region}: {exc}") from None
    store = store_of(backend)
    with store.lock:
        return [d.record() for d in reversed(store.of_service(service_key(found)))]


def set_service_deployment_stage(
    region: str, arn: str, stage: str, *, account_id: str = DEFAULT_ACCOUNT_ID
) -> ServiceDeploymentRecord:
    """Move an unfinished deployment to ``lifecycleStage`` ``stage``, as ECS does stage by stage.

    Task counts and traffic weights follow: the target revision is scaled up from ``SCALE_UP``,
    takes test traffic from ``TEST_TRAFFIC_SHIFT``, production traffic in
    ``PRODUCTION_TRAFFIC_SHIFT`` (all of it under BLUE_GREEN, the first step or canary share
    under LINEAR and CANARY) and all of it after; sources scale down at ``CLEAN_UP``.

    Raises
    ------
    StandInError
        Unknown deployment, a stage outside ``ServiceDeploymentLifecycleStage``, or a finished deployment.
    """
    if stage not in LIFECYCLE_STAGES:
        raise StandInError(f"lifecycle stage {stage!r} is not one of {', '.join(LIFECYCLE_STAGES)}")
    store, deployment = _deployment(region, arn, account_id)
    with store.lock:
        if deployment.finished:
            raise StandInError(f"service deployment {arn} is {deployment.status}: its stage no longer moves")
        deployment.lifecycle_stage = stage
        deployment.updated_at = _now()
        return deployment.record()


def set_service_deployment_status(
    region: str, arn: str, status: str, reason: str | None = None, *, account_id: str = DEFAULT_ACCOUNT_ID
) -> ServiceDeploymentRecord:
    """Set a deployment's ``status`` (and ``statusReason``), with the timestamps ECS gives it.

    A final status (``SUCCESSFUL``, ``STOPPED``, ``ROLLBACK_SUCCESSFUL``, ``ROLLBACK_FAILED``) sets
    ``finishedAt`` (``STOPPED`` also ``stoppedAt``); a ``ROLLBACK_*`` status adds ``rollback``
    (reason, start, the source revision rolled back to). After ``SUCCESSFUL`` the target revision
    alone is active, after ``ROLLBACK_SUCCESSFUL`` the sources (and the service's task definition
    and load balancers are the first source's again); the service's next deployment starts from those.

    Raises
    ------
    StandInError
        Unknown deployment or a status outside ``ServiceDeploymentStatus``.
    """
    if status not in STATUSES:
        raise StandInError(f"service deployment status {status!r} is not one of {', '.join(STATUSES)}")
    store, deployment = _deployment(region, arn, account_id)
    with store.lock:
        _apply_status(deployment, status, reason, _now())
        service = ecs_backends[account_id][region].services.get(deployment.service_key)
        source = store.revisions.get(deployment.source_arns[0]) if deployment.source_arns else None
        latest = store.of_service(deployment.service_key)[-1] is deployment
        if status == "ROLLBACK_SUCCESSFUL" and latest and service is not None and source is not None:
            # ECS puts the service back on the revision it rolled back to.
            service.task_definition = source.body.get("taskDefinition")
            service.load_balancers = copy.deepcopy(source.body.get("loadBalancers", []))
        return deployment.record()
