"""PutLifecycleEventHookExecutionStatus for moto's CodeDeploy: the call with which a hook reports its verdict.

moto 5.2 lacks the call. The backend method below accepts a report the way the service does
(registered execution id, ``Succeeded``/``Failed`` only, first report wins), records every call,
rejected ones included, and moves the lifecycle event to its final status.
"""

from __future__ import annotations

from moto.codedeploy.models import CodeDeployBackend
from moto.codedeploy.responses import CodeDeployResponse
from moto.core.responses import ActionResult

from .deployments import extension_state, require_deployment, touch_targets
from .exceptions import (
    CodeDeployError,
    InvalidLifecycleEventHookExecutionIdException,
    InvalidLifecycleEventHookExecutionStatusException,
    LifecycleEventAlreadyCompletedException,
    UnsupportedActionForDeploymentTypeException,
)
from .model import REPORTABLE_STATUSES, ExtensionState, ReportCall, StatusRecord, utc_now

__all__ = [
    "HOOK_EVENTS",
    "PUT_STATUS_OPERATION",
    "backend_put_lifecycle_event_hook_execution_status",
    "record_report_call",
    "response_put_lifecycle_event_hook_execution_status",
]

PUT_STATUS_OPERATION = "PutLifecycleEventHookExecutionStatus"
#: The lifecycle events of an ECS deployment that invoke a hook Lambda.
HOOK_EVENTS = (
    "BeforeInstall",
    "AfterInstall",
    "AfterAllowTestTraffic",
    "BeforeAllowTraffic",
    "AfterAllowTraffic",
)


def record_report_call(
    state: ExtensionState,
    *,
    deployment_id: str | None,
    execution_id: str | None,
    status: str | None,
    lifecycle_event_name: str | None,
    error_code: str | None,
) -> None:
    """Append one received PutLifecycleEventHookExecutionStatus call to ``state.calls``.

    Parameters
    ----------
    state : ExtensionState
        The backend's extension state.
    deployment_id, execution_id, status : str or None
        The request parameters as sent.
    lifecycle_event_name : str or None
        The event of the execution id, when it was known.
    error_code : str or None
        ``None`` when the call was accepted, else the error code the caller received.
    """
    with state.lock:
        state.calls.append(
            ReportCall(
                deployment_id=deployment_id,
                execution_id=execution_id,
                status=status,
                lifecycle_event_name=lifecycle_event_name,
                error_code=error_code,
                time=utc_now(),
            )
        )


def backend_put_lifecycle_event_hook_execution_status(
    self: CodeDeployBackend,
    deployment_id: str | None,
    lifecycle_event_hook_execution_id: str | None,
    status: str | None,
) -> str:
    """Accept or refuse one hook report, as the service does, and record the call either way.

    Returns
    -------
    str
        The lifecycle event hook execution id, as the API answers.

    Raises
    ------
    CodeDeployError
        The service's error for a missing or unknown deployment, a Server deployment, a status other
        than ``Succeeded``/``Failed``, an unregistered execution id, or a hook that already reported.
    """
    state = extension_state(self)
    with state.lock:
        event_name: str | None = None
        error_code: str | None = None
        try:
            deployment = require_deployment(self, deployment_id)
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
            touch_targets(state, deployment, now)
            state.statuses.append(
                StatusRecord(deployment.deployment_id, execution.execution_id, event_name, status, now)
            )
            return execution.execution_id
        except CodeDeployError as exc:
            error_code = exc.error_name
            raise
        finally:
            record_report_call(
                state,
                deployment_id=deployment_id,
                execution_id=lifecycle_event_hook_execution_id,
                status=status,
                lifecycle_event_name=event_name,
                error_code=error_code,
            )


def response_put_lifecycle_event_hook_execution_status(self: CodeDeployResponse) -> ActionResult:
    """``CodeDeployResponse`` method: parse the request, answer ``{lifecycleEventHookExecutionId}``."""
    execution_id = backend_put_lifecycle_event_hook_execution_status(
        self.codedeploy_backend,
        deployment_id=self._get_param("deploymentId"),
        lifecycle_event_hook_execution_id=self._get_param("lifecycleEventHookExecutionId"),
        status=self._get_param("status"),
    )
    return ActionResult({"lifecycleEventHookExecutionId": execution_id})
