"""HTTP client for the stand-in's admin endpoints, for driving a server in another process."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import requests

from .admin import ADMIN_PREFIX
from .codedeploy import PUT_STATUS_OPERATION
from .ecs_deployment_model import ServiceDeploymentRecord
from .exceptions import StandInAdminError
from .model import Fault, ReportCall, StatusRecord, TaskSet
from .target_health import TargetHealthTiming


class StandInAdmin:
    """Admin client with the same methods and return types as :class:`~.codedeploy.StandIn`.

    Parameters
    ----------
    endpoint_url : str
        Base URL of the stand-in server, e.g. ``http://127.0.0.1:5000``.
    region_name : str
        Region whose CodeDeploy state is controlled (sent with every request).
    account_id : str, optional
        moto account; the server's default when omitted.
    timeout : float, optional
        Seconds per HTTP request.
    session : requests.Session, optional
        Session to reuse; a new one is created otherwise.
    """

    def __init__(
        self,
        endpoint_url: str,
        *,
        region_name: str,
        account_id: str | None = None,
        timeout: float = 10.0,
        session: requests.Session | None = None,
    ) -> None:
        self.endpoint_url = endpoint_url.rstrip("/")
        self.region_name = region_name
        self.account_id = account_id
        self.timeout = timeout
        self._session = session or requests.Session()

    def __repr__(self) -> str:
        return f"StandInAdmin({self.endpoint_url!r}, region_name={self.region_name!r})"

    def close(self) -> None:
        """Close the underlying HTTP session."""
        self._session.close()

    def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None, **query: Any) -> Any:
        params = {"region": self.region_name, **{k: v for k, v in query.items() if v is not None}}
        if self.account_id:
            params["accountId"] = self.account_id
        response = self._session.request(
            method, f"{self.endpoint_url}{ADMIN_PREFIX}{path}", params=params, json=body, timeout=self.timeout
        )
        try:
            payload = response.json()
        except ValueError:
            payload = {"error": "InvalidResponse", "message": response.text[:200]}
        if response.status_code >= 400:
            raise StandInAdminError(response.status_code, payload.get("error", "Unknown"), payload.get("message", ""))
        return payload

    def health(self) -> dict[str, Any]:
        """Return ``{"ok": True, "region": ..., "accountId": ...}`` when the server is up."""
        return dict(self._call("GET", "/health"))

    def create_ecs_deployment(
        self,
        *,
        deployment_id: str | None = None,
        application_name: str | None = None,
        deployment_group_name: str | None = None,
        cluster_name: str | None = None,
        service_name: str | None = None,
        alarm_configuration: Mapping[str, Any] | None = None,
        task_sets: Iterable[Mapping[str, Any] | TaskSet] | None = None,
    ) -> str:
        """Seed an ECS deployment; see :meth:`StandIn.create_ecs_deployment`. Returns its id."""
        body = {
            "deploymentId": deployment_id,
            "applicationName": application_name,
            "deploymentGroupName": deployment_group_name,
            "clusterName": cluster_name,
            "serviceName": service_name,
            "alarmConfiguration": dict(alarm_configuration) if alarm_configuration else None,
            "taskSets": _task_sets_json(task_sets) if task_sets is not None else None,
        }
        payload = self._call("POST", "/deployments", {k: v for k, v in body.items() if v is not None})
        return str(payload["deploymentId"])

    def rename_deployment(self, old_id: str, new_id: str) -> None:
        """Give an existing deployment a fixed id."""
        self._call("POST", "/deployments/rename", {"oldId": old_id, "newId": new_id})

    def register_hook_execution(
        self,
        deployment_id: str,
        lifecycle_event_name: str,
        execution_id: str | None = None,
        *,
        start_event: bool = True,
    ) -> str:
        """Register a lifecycle hook execution id; see :meth:`StandIn.register_hook_execution`."""
        body: dict[str, Any] = {"deploymentId": deployment_id, "lifecycleEventName": lifecycle_event_name}
        if execution_id is not None:
            body["lifecycleEventHookExecutionId"] = execution_id
        if not start_event:
            body["startEvent"] = False
        return str(self._call("POST", "/hook-executions", body)["lifecycleEventHookExecutionId"])

    def statuses(self, deployment_id: str | None = None) -> list[StatusRecord]:
        """Accepted status reports, oldest first."""
        payload = self._call("GET", "/statuses", deploymentId=deployment_id)
        return [StatusRecord.from_dict(item) for item in payload["statuses"]]

    def report_calls(self, deployment_id: str | None = None) -> list[ReportCall]:
        """Every PutLifecycleEventHookExecutionStatus call received, rejected ones included."""
        payload = self._call("GET", "/calls", deploymentId=deployment_id)
        return [ReportCall.from_dict(item) for item in payload["calls"]]

    def inject_fault(
        self,
        operation: str = PUT_STATUS_OPERATION,
        error_code: str = "ThrottlingException",
        http_status: int = 400,
        times: int = 1,
        message: str | None = None,
    ) -> None:
        """Fail the next ``times`` calls of ``operation``; see :meth:`StandIn.inject_fault`."""
        body: dict[str, Any] = {
            "operation": operation,
            "errorCode": error_code,
            "httpStatus": http_status,
            "times": times,
        }
        if message is not None:
            body["message"] = message
        self._call("POST", "/faults", body)

    def faults(self) -> list[Fault]:
        """Faults still pending."""
        return [Fault.from_dict(item) for item in self._call("GET", "/faults")["faults"]]

    def clear_faults(self) -> None:
        """Drop every pending fault."""
        self._call("DELETE", "/faults")

    def set_task_sets(
        self,
        deployment_id: str,
        task_sets: Iterable[Mapping[str, Any] | TaskSet],
        *,
        target_id: str | None = None,
    ) -> None:
        """Replace a target's task sets; see :meth:`StandIn.set_task_sets`."""
        body: dict[str, Any] = {"deploymentId": deployment_id, "taskSets": _task_sets_json(task_sets)}
        if target_id is not None:
            body["targetId"] = target_id
        self._call("POST", "/task-sets", body)

    def set_target_status(self, deployment_id: str, status: str, *, target_id: str | None = None) -> None:
        """Set a deployment target's status."""
        body = {"deploymentId": deployment_id, "status": status}
        if target_id is not None:
            body["targetId"] = target_id
        self._call("POST", "/target-status", body)

    def set_lifecycle_event_status(self, deployment_id: str, lifecycle_event_name: str, status: str) -> None:
        """Set a lifecycle event's status directly."""
        body = {"deploymentId": deployment_id, "lifecycleEventName": lifecycle_event_name, "status": status}
        self._call("POST", "/lifecycle-events", body)

    def set_deployment_status(self, deployment_id: str, status: str) -> None:
        """Set a deployment's status; see :meth:`StandIn.set_deployment_status`."""
        self._call("POST", "/deployment-status", {"deploymentId": deployment_id, "status": status})

    def set_target_health_timing(
        self, *, initial_s: float | None = None, draining_s: float | None = None
    ) -> TargetHealthTiming:
        """Set how long targets read ``initial`` and ``draining``; see :meth:`StandIn.set_target_health_timing`.

        The clock cannot be replaced over HTTP: the server's runs.
        """
        body = {"initialSeconds": initial_s, "drainingSeconds": draining_s}
        payload = self._call("POST", "/target-health-timing", {k: v for k, v in body.items() if v is not None})
        return TargetHealthTiming.from_dict(payload)

    def target_health_timing(self) -> TargetHealthTiming:
        """The ``initial`` / ``draining`` settings in force on the server."""
        return TargetHealthTiming.from_dict(self._call("GET", "/target-health-timing"))

    def set_target_health(
        self,
        target_group_arn: str,
        target_id: str,
        port: int | None = None,
        state: str = "unhealthy",
        reason: str | None = None,
        description: str | None = None,
    ) -> None:
        """Override one target's state; see :meth:`StandIn.set_target_health`."""
        body = {
            "targetGroupArn": target_group_arn,
            "targetId": target_id,
            "port": port,
            "state": state,
            "reason": reason,
            "description": description,
        }
        self._call("POST", "/target-health", {k: v for k, v in body.items() if v is not None})

    def clear_target_health(self, target_group_arn: str) -> None:
        """Drop a target group's overrides."""
        self._call("DELETE", "/target-health", {"targetGroupArn": target_group_arn})

    def service_deployments(self, cluster: str, service: str) -> list[ServiceDeploymentRecord]:
        """An ECS service's deployments, newest first; see :meth:`StandIn.service_deployments`."""
        payload = self._call("GET", "/service-deployments", cluster=cluster, service=service)
        return [ServiceDeploymentRecord.from_dict(item) for item in payload["serviceDeployments"]]

    def service_deployment(self, arn: str) -> ServiceDeploymentRecord:
        """One ECS service deployment; see :meth:`StandIn.service_deployment`."""
        return ServiceDeploymentRecord.from_dict(self._call("GET", "/service-deployment", serviceDeploymentArn=arn))

    def set_service_deployment_stage(self, arn: str, stage: str) -> ServiceDeploymentRecord:
        """Move an ECS service deployment to ``stage``; see :meth:`StandIn.set_service_deployment_stage`."""
        body = {"serviceDeploymentArn": arn, "lifecycleStage": stage}
        return ServiceDeploymentRecord.from_dict(self._call("POST", "/service-deployment/stage", body))

    def set_service_deployment_status(
        self, arn: str, status: str, reason: str | None = None
    ) -> ServiceDeploymentRecord:
        """Set an ECS service deployment's status; see :meth:`StandIn.set_service_deployment_status`."""
        body = {"serviceDeploymentArn": arn, "status": status}
        if reason is not None:
            body["statusReason"] = reason
        return ServiceDeploymentRecord.from_dict(self._call("POST", "/service-deployment/status", body))

    def reset(self) -> None:
        """Reset this region's CodeDeploy on the server (moto data and stand-in state)."""
        self._call("POST", "/reset")

    def reset_moto(self) -> None:
        """Reset every moto backend on the server (``POST /moto-api/reset``), stand-in state included."""
        response = self._session.post(f"{self.endpoint_url}/moto-api/reset", timeout=self.timeout)
        if response.status_code >= 400:
            raise StandInAdminError(response.status_code, "MotoResetFailed", response.text[:200])


def _task_sets_json(task_sets: Iterable[Mapping[str, Any] | TaskSet]) -> list[dict[str, Any]]:
    return [TaskSet.from_mapping(item).to_api() for item in task_sets]
