"""Installs the CodeDeploy extension into moto's classes, and answers injected faults before moto does.

moto 5.2 lacks PutLifecycleEventHookExecutionStatus, the deployment-target calls,
UpdateDeploymentGroup, BatchGetDeploymentGroups, GetDeploymentConfig and GetApplicationRevision, drops
``alarmConfiguration``, answers absent members as ``{}``, calls every unknown deployment id
"does not exist" (malformed ones too) and hands out UUIDs as deployment ids. :func:`install` puts
the replacements from :mod:`.hook_status`, :mod:`.deployment_targets`, :mod:`.deployment_groups`,
:mod:`.deployment_configs`, :mod:`.application_revisions` and :mod:`.deployments` onto moto's
classes, once, so that real boto3 clients see the real API shapes both under ``moto.mock_aws()``
and through a moto server. Every request then passes :func:`_response_call_action`, which fails
it when the owner injected a fault for its operation.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import botocore.session
from moto.codedeploy import responses as moto_responses
from moto.codedeploy.models import CodeDeployBackend
from moto.codedeploy.responses import CodeDeployResponse

from . import application_revisions, deployment_configs, deployment_groups, deployment_targets, hook_status
from .deployments import (
    ORIGINALS,
    backend_batch_get_deployments,
    backend_create_deployment,
    backend_get_deployment,
    deployment_info,
    extension_state,
)
from .hook_status import PUT_STATUS_OPERATION, record_report_call

__all__ = ["install", "is_installed", "operation_names"]

_INSTALL_MARK = "_trafficgate_installed"
_install_lock = threading.Lock()


def _response_call_action(self: CodeDeployResponse) -> Any:
    """Dispatch a request to moto, unless a fault is pending for its operation: then answer with it."""
    operation = self._get_action()
    fault = extension_state(self.codedeploy_backend).take_fault(operation) if operation else None
    if fault is None:
        return ORIGINALS["call_action"](self)
    if operation == PUT_STATUS_OPERATION:
        # A faulted report never reaches the backend, but the owner still sees that it was made.
        record_report_call(
            extension_state(self.codedeploy_backend),
            deployment_id=self._get_param("deploymentId"),
            execution_id=self._get_param("lifecycleEventHookExecutionId"),
            status=self._get_param("status"),
            lifecycle_event_name=None,
            error_code=fault.error_code,
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


_BACKEND_METHODS = {
    "create_deployment": backend_create_deployment,
    "get_deployment": backend_get_deployment,
    "batch_get_deployments": backend_batch_get_deployments,
    "get_deployment_config": deployment_configs.backend_get_deployment_config,
    "get_application_revision": application_revisions.backend_get_application_revision,
    "put_lifecycle_event_hook_execution_status": hook_status.backend_put_lifecycle_event_hook_execution_status,
    "list_deployment_targets": deployment_targets.backend_list_deployment_targets,
    "get_deployment_target": deployment_targets.backend_get_deployment_target,
    "batch_get_deployment_targets": deployment_targets.backend_batch_get_deployment_targets,
    "update_deployment_group": deployment_groups.backend_update_deployment_group,
    "batch_get_deployment_groups": deployment_groups.backend_batch_get_deployment_groups,
}
_RESPONSE_METHODS = {
    "call_action": _response_call_action,
    "put_lifecycle_event_hook_execution_status": hook_status.response_put_lifecycle_event_hook_execution_status,
    "list_deployment_targets": deployment_targets.response_list_deployment_targets,
    "get_deployment_target": deployment_targets.response_get_deployment_target,
    "batch_get_deployment_targets": deployment_targets.response_batch_get_deployment_targets,
    "update_deployment_group": deployment_groups.response_update_deployment_group,
    "batch_get_deployment_groups": deployment_groups.response_batch_get_deployment_groups,
    "get_deployment_config": deployment_configs.response_get_deployment_config,
    "get_application_revision": application_revisions.response_get_application_revision,
}


def install() -> None:
    """Extend moto's CodeDeploy backend and responses in place; safe to call any number of times.

    Nothing happens at import time: owners (tests, the server, :class:`~.codedeploy.StandIn`) call
    this explicitly. The ECS/ELB, ECS service deployment, ECS grace period, CloudWatch, ECR, ACM,
    EC2 (interface endpoints) and IAM (SimulatePrincipalPolicy) extensions are installed with it
    (each idempotent).
    """
    from .acm import install_acm
    from .cloudwatch import install_cloudwatch
    from .ec2 import install_ec2
    from .ecr import install_ecr
    from .ecs import install_ecs
    from .ecs_deployments import install_ecs_deployments
    from .ecs_services import install_ecs_services
    from .iam import install_iam

    install_acm()
    install_ec2()
    install_ecs()
    install_ecs_deployments()
    install_ecs_services()
    install_cloudwatch()
    install_ecr()
    install_iam()
    with _install_lock:
        if is_installed():
            return
        ORIGINALS["create_deployment"] = CodeDeployBackend.create_deployment
        ORIGINALS["call_action"] = CodeDeployResponse.call_action
        ORIGINALS["_deployment_group_info"] = moto_responses._deployment_group_info
        ORIGINALS["_deployment_info"] = moto_responses._deployment_info
        for name, function in _BACKEND_METHODS.items():
            setattr(CodeDeployBackend, name, function)
        for name, function in _RESPONSE_METHODS.items():
            setattr(CodeDeployResponse, name, function)
        # moto's response methods look the helper up as a module global, so replacing it is enough.
        moto_responses._deployment_group_info = deployment_groups.deployment_group_info
        moto_responses._deployment_info = deployment_info
        setattr(CodeDeployBackend, _INSTALL_MARK, True)


def is_installed() -> bool:
    """Return True once :func:`install` has extended moto."""
    return bool(getattr(CodeDeployBackend, _INSTALL_MARK, False))


def operation_names() -> frozenset[str]:
    """Return the operation names of the CodeDeploy API, as botocore's service model spells them."""
    model = botocore.session.get_session().get_service_model("codedeploy")
    return frozenset(model.operation_names)
