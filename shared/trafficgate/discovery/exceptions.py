"""Errors of deployment discovery.

Layer L1 (engines); imports only the leaves.
"""

from __future__ import annotations

from trafficgate.exceptions import CheckError


class DiscoveryError(CheckError):
    """Something the deployment should have could not be found; the message names it."""


class TaskDefinitionNotFound(DiscoveryError):
    """The AppSpec names a task definition that ECS does not know."""
