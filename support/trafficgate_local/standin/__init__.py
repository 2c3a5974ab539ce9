"""Embedded AWS stand-in: moto, extended with the CodeDeploy calls a lifecycle hook makes.

Entry points
------------
install()
    Extend moto's CodeDeploy in place (idempotent; nothing happens at import time).
StandIn(region_name)
    In-process control API for one (account, region): seed deployments, register hook executions,
    read reports, inject faults, set task sets, reset.
StandInServer(port=0)
    moto server plus the admin endpoints (``/_trafficgate/...``) in a background thread.
StandInAdmin(endpoint_url, region_name=...)
    HTTP client for the admin endpoints of a server in another process.
set_target_health_timing(region, initial_s=..., draining_s=...)
    How long ELBv2 targets read ``initial`` and ``draining`` (see :mod:`.target_health`).
install_ecs_services()
    CreateService and UpdateService keep ``healthCheckGracePeriodSeconds`` (see :mod:`.ecs_services`).
install_ecs_deployments(), ServiceDeploymentRecord
    ECS-native blue/green: deployment strategies, service revisions and service deployments
    (see :mod:`.ecs_deployments`); ``StandIn``/``StandInAdmin`` move a deployment's stage and status.
"""

from __future__ import annotations

from .admin import ADMIN_PREFIX, AdminMiddleware
from .appspec import ecs_revision
from .client import StandInAdmin
from .codedeploy import HOOK_EVENTS, PUT_STATUS_OPERATION, StandIn, install, is_installed
from .ecr import clear_scan, install_ecr, is_ecr_installed, set_scan_findings
from .ecs import add_task, clear_target_health, set_target_health
from .ecs_deployment_model import ServiceDeploymentRecord
from .ecs_deployments import install_ecs_deployments, is_ecs_deployments_installed
from .ecs_services import install_ecs_services, is_ecs_services_installed
from .exceptions import CodeDeployError, StandInAdminError, StandInError
from .model import (
    ECS_LIFECYCLE_EVENTS,
    Fault,
    ReportCall,
    StatusRecord,
    TaskSet,
    new_deployment_id,
    new_hook_execution_id,
)
from .server import StandInServer, build_app, main
from .target_health import TargetHealthTiming, set_target_health_timing, target_health_timing

__all__ = [
    "ADMIN_PREFIX",
    "ECS_LIFECYCLE_EVENTS",
    "HOOK_EVENTS",
    "PUT_STATUS_OPERATION",
    "AdminMiddleware",
    "CodeDeployError",
    "Fault",
    "ReportCall",
    "ServiceDeploymentRecord",
    "StandIn",
    "StandInAdmin",
    "StandInAdminError",
    "StandInError",
    "StandInServer",
    "StatusRecord",
    "TargetHealthTiming",
    "TaskSet",
    "add_task",
    "build_app",
    "clear_scan",
    "clear_target_health",
    "ecs_revision",
    "install",
    "install_ecr",
    "install_ecs_deployments",
    "install_ecs_services",
    "is_ecr_installed",
    "is_ecs_deployments_installed",
    "is_ecs_services_installed",
    "is_installed",
    "main",
    "new_deployment_id",
    "new_hook_execution_id",
    "set_scan_findings",
    "set_target_health",
    "set_target_health_timing",
    "target_health_timing",
]
