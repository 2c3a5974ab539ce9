"""The owner's control API of the CodeDeploy stand-in: :class:`StandIn`, one (account, region) of moto.

Tests, the admin endpoints and the rehearsal drive a deployment through it the way CodeDeploy
itself would: seed an ECS deployment, hand out hook execution ids, read what the hooks reported,
inject faults, set task sets and target, lifecycle-event and deployment statuses, reset. It also
sets how long ELBv2 targets read ``initial`` and ``draining`` and overrides a target's health
(:mod:`.target_health`), and moves ECS-native service deployments (:mod:`.ecs_deployments`),
for the same (account, region). The API calls a hook makes are moto's,
extended by :func:`~.moto_patch.install`.

:data:`HOOK_EVENTS`, :data:`PUT_STATUS_OPERATION`, :func:`install` and :func:`is_installed` are
re-exported here, where the rest of the package has always imported them from.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from moto.codedeploy.models import CodeDeployBackend, DeploymentInfo, codedeploy_backends
from moto.core.models import DEFAULT_ACCOUNT_ID

from .deployments import (
    deployment_target_ids,
    extension_state,
    rename_deployment,
    start_lifecycle_event,
    target_state,
    touch_targets,
)
from .ecs_deployment_model import ServiceDeploymentRecord
from .ecs_deployments import (
    service_deployment,
    service_deployments,
    set_service_deployment_stage,
    set_service_deployment_status,
)
from .exceptions import StandInError
from .hook_status import HOOK_EVENTS, PUT_STATUS_OPERATION
from .model import (
    DEPLOYMENT_STATUSES,
    ECS_LIFECYCLE_EVENTS,
    FINAL_DEPLOYMENT_STATUSES,
    LIFECYCLE_EVENT_STATUSES,
    TARGET_STATUSES,
    ExtensionState,
    Fault,
    HookExecution,
    ReportCall,
    StatusRecord,
    TaskSet,
    new_hook_execution_id,
    utc_now,
    validate_deployment_id,
)
from .moto_patch import install, is_installed, operation_names
from .target_health import (
    TargetHealthTiming,
    clear_target_health,
    set_target_health,
    set_target_health_timing,
    target_health_timing,
)

__all__ = ["HOOK_EVENTS", "PUT_STATUS_OPERATION", "StandIn", "install", "is_installed"]


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
        return extension_state(self.backend)

    def _deployment(self, deployment_id: str) -> DeploymentInfo:
        deployment = self.backend.deployments.get(deployment_id)
        if deployment is None:
            raise StandInError(f"deployment {deployment_id!r} does not exist in {self.region_name}")
        return deployment

    def _resolve_target(self, deployment: DeploymentInfo, target_id: str | None) -> str:
        known = deployment_target_ids(deployment)
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
        return deployment_target_ids(self._deployment(deployment_id))

    def rename_deployment(self, old_id: str, new_id: str) -> None:
        """Give an existing deployment a fixed id (``^d-[A-Z0-9]{9}$``), moving its stand-in state too."""
        rename_deployment(self.backend, old_id, new_id)

    # -- hooks ---------------------------------------------------------------------------------
    def register_hook_execution(
        self,
        deployment_id: str,
        lifecycle_event_name: str,
        execution_id: str | None = None,
        *,
        start_event: bool = True,
    ) -> str:
        """Hand out a lifecycle hook execution id, as CodeDeploy does when it invokes a hook.

        Only registered ids are accepted by PutLifecycleEventHookExecutionStatus. Registering moves
        the deployment to that lifecycle event, as CodeDeploy does before it invokes the hook: the
        event is the one ``InProgress`` (with a start time) until the hook reports, the events
        before it have ``Succeeded`` and those after it are ``Pending``.

        Parameters
        ----------
        deployment_id : str
            An existing deployment.
        lifecycle_event_name : str
            One of :data:`HOOK_EVENTS`.
        execution_id : str, optional
            A fixed id (e.g. from a sample event); a realistic opaque id is generated when omitted.
            Registering the same id for the same event again is a no-op.
        start_event : bool, optional
            False registers the id ahead of time and leaves the lifecycle events alone: for sample
            events seeded together, each invoked later in any order (the lifecycle then shows no
            event in progress, and a report still ends the event it names).

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
            if start_event:
                start_lifecycle_event(state, deployment, lifecycle_event_name, now)
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
        if operation not in operation_names():
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
            target = target_state(self._state, deployment, target_id)
            target.task_sets = parsed
            target.last_updated_at = utc_now()

    def set_target_status(self, deployment_id: str, status: str, *, target_id: str | None = None) -> None:
        """Set the ``status`` of a deployment target (``Pending``, ``InProgress``, ``Succeeded``, ...)."""
        if status not in TARGET_STATUSES:
            raise StandInError(f"target status {status!r} is not one of {', '.join(TARGET_STATUSES)}")
        deployment = self._deployment(deployment_id)
        target_id = self._resolve_target(deployment, target_id)
        with self._state.lock:
            target = target_state(self._state, deployment, target_id)
            target.status = status
            target.last_updated_at = utc_now()

    def set_lifecycle_event_status(self, deployment_id: str, lifecycle_event_name: str, status: str) -> None:
        """Set a lifecycle event's status directly, e.g. ``Install`` or ``AllowTraffic`` (no hook).

        ``InProgress`` moves the deployment to that event, as :meth:`register_hook_execution` does
        (one event in progress; earlier ones ``Succeeded``, later ones ``Pending``). Any other
        status is set on that event alone.
        """
        if lifecycle_event_name not in ECS_LIFECYCLE_EVENTS:
            raise StandInError(
                f"lifecycle event {lifecycle_event_name!r} is not one of {', '.join(ECS_LIFECYCLE_EVENTS)}"
            )
        if status not in LIFECYCLE_EVENT_STATUSES:
            raise StandInError(f"status {status!r} is not one of {', '.join(LIFECYCLE_EVENT_STATUSES)}")
        deployment = self._deployment(deployment_id)
        now = utc_now()
        with self._state.lock:
            if status == "InProgress":
                start_lifecycle_event(self._state, deployment, lifecycle_event_name, now)
                return
            event = self._state.deployment(deployment_id).events[lifecycle_event_name]
            event.status = status
            if status == "Pending":
                event.start_time = event.end_time = None
            else:
                event.start_time = event.start_time or now
                event.end_time = now
            touch_targets(self._state, deployment, now)

    def set_deployment_status(self, deployment_id: str, status: str) -> None:
        """Set a deployment's ``status`` (moto has no StopDeployment, and never ends a deployment itself).

        ``Succeeded``, ``Failed`` and ``Stopped`` end it: GetDeployment then has a ``completeTime``.
        """
        if status not in DEPLOYMENT_STATUSES:
            raise StandInError(f"deployment status {status!r} is not one of {', '.join(DEPLOYMENT_STATUSES)}")
        deployment = self._deployment(deployment_id)
        now = utc_now()
        with self._state.lock:
            deployment.status = status
            if status in FINAL_DEPLOYMENT_STATUSES:
                deployment.start_time = deployment.start_time or now
                deployment.complete_time = now
            else:
                deployment.complete_time = None

    # -- target health (ELBv2) -----------------------------------------------------------------
    def set_target_health_timing(
        self,
        *,
        initial_s: float | None = None,
        draining_s: float | None = None,
        clock: Callable[[], float] | None = None,
    ) -> TargetHealthTiming:
        """Set how long targets read ``initial`` and ``draining`` in this region (None keeps a setting).

        See :mod:`.target_health`: ``initial`` (``Elb.RegistrationInProgress`` after registration,
        ``Elb.InitialHealthChecking`` after the group comes into use) lasts ``initial_s``;
        ``draining`` (``Target.DeregistrationInProgress``) lasts ``draining_s``. Both are 0 until
        set. ``clock`` replaces ``time.monotonic`` (in-process only).

        Returns
        -------
        TargetHealthTiming
            The settings now in force.
        """
        return set_target_health_timing(
            self.region_name, initial_s=initial_s, draining_s=draining_s, clock=clock, account_id=self.account_id
        )

    def target_health_timing(self) -> TargetHealthTiming:
        """Return the ``initial`` / ``draining`` settings in force in this region."""
        return target_health_timing(self.region_name, account_id=self.account_id)

    def set_target_health(
        self,
        target_group_arn: str,
        target_id: str,
        port: int | None = None,
        state: str = "unhealthy",
        reason: str | None = None,
        description: str | None = None,
    ) -> None:
        """Make ``DescribeTargetHealth`` report ``state`` for one registered target, whatever else holds."""
        set_target_health(
            self.region_name, target_group_arn, target_id, port, state, reason, description, account_id=self.account_id
        )

    def clear_target_health(self, target_group_arn: str) -> None:
        """Forget every override of a target group: the modelled states apply again."""
        clear_target_health(self.region_name, target_group_arn, account_id=self.account_id)

    # -- ECS service deployments (ECS-native blue/green) ----------------------------------------
    def service_deployments(self, cluster: str, service: str) -> list[ServiceDeploymentRecord]:
        """Return an ECS service's deployments (cluster and service by name or ARN), newest first."""
        return service_deployments(self.region_name, cluster, service, account_id=self.account_id)

    def service_deployment(self, arn: str) -> ServiceDeploymentRecord:
        """Return a snapshot of one ECS service deployment."""
        return service_deployment(self.region_name, arn, account_id=self.account_id)

    def set_service_deployment_stage(self, arn: str, stage: str) -> ServiceDeploymentRecord:
        """Move an ECS service deployment to ``stage``; see :func:`.ecs_deployments.set_service_deployment_stage`."""
        return set_service_deployment_stage(self.region_name, arn, stage, account_id=self.account_id)

    def set_service_deployment_status(
        self, arn: str, status: str, reason: str | None = None
    ) -> ServiceDeploymentRecord:
        """Set an ECS service deployment's status; see :func:`.ecs_deployments.set_service_deployment_status`."""
        return set_service_deployment_status(self.region_name, arn, status, reason, account_id=self.account_id)

    # -- reset ---------------------------------------------------------------------------------
    def reset(self) -> None:
        """Reset this region's CodeDeploy: moto's applications, groups, deployments and our state."""
        self.backend.reset()
