"""Zero-config discovery of a deployment's listeners, target groups, service, task sets and task definition.

Layer L1 (engines): imports the leaves and :mod:`trafficgate.aws`; never checks, context or plans.
"""

from __future__ import annotations

from trafficgate.discovery.ecs_native import discover_service_deployment, read_revision_task_sets
from trafficgate.discovery.exceptions import DiscoveryError, TaskDefinitionNotFound
from trafficgate.discovery.models import (
    AppSpec,
    Deployment,
    LifecycleEvent,
    Listener,
    ListenerRole,
    TargetGroup,
    TaskSet,
)
from trafficgate.discovery.reader import (
    clear_cache,
    deployment_info,
    discover,
    lifecycle_events_of,
    read_ecs_targets,
    read_lifecycle_events,
    read_task_sets,
    task_sets_of,
)
from trafficgate.discovery.taskdef import containers, describe_task_definition, is_essential

__all__ = [
    "AppSpec",
    "Deployment",
    "DiscoveryError",
    "LifecycleEvent",
    "Listener",
    "ListenerRole",
    "TargetGroup",
    "TaskDefinitionNotFound",
    "TaskSet",
    "clear_cache",
    "containers",
    "deployment_info",
    "describe_task_definition",
    "discover",
    "discover_service_deployment",
    "is_essential",
    "lifecycle_events_of",
    "read_ecs_targets",
    "read_lifecycle_events",
    "read_revision_task_sets",
    "read_task_sets",
    "task_sets_of",
]
