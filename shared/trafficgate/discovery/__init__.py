"""Zero-config discovery of a deployment's listeners, target groups, service and task sets."""

from __future__ import annotations

from trafficgate.discovery.exceptions import DiscoveryError
from trafficgate.discovery.models import AppSpec, Deployment, Listener, ListenerRole, TargetGroup, TaskSet
from trafficgate.discovery.reader import clear_cache, deployment_info, discover, read_task_sets

__all__ = [
    "AppSpec",
    "Deployment",
    "DiscoveryError",
    "Listener",
    "ListenerRole",
    "TargetGroup",
    "TaskSet",
    "clear_cache",
    "deployment_info",
    "discover",
    "read_task_sets",
]
