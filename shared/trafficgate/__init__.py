"""Trafficgate: a deployment gate for Amazon ECS blue/green deployments with AWS CodeDeploy.

The flow: event → :func:`run_hook` → plan of checks → probes and AWS readers → verdict →
exactly one ``PutLifecycleEventHookExecutionStatus``.
"""

from __future__ import annotations

from trafficgate.hooks import Hook
from trafficgate.observability import instrument
from trafficgate.runner import run_hook

__all__ = ["Hook", "instrument", "run_hook"]
