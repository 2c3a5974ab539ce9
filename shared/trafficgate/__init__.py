"""Trafficgate: a deployment gate for Amazon ECS blue/green deployments with AWS CodeDeploy.

The package root is the public entry point the handlers import (above every layer).

The flow, and the layers it runs through (each imports only the layers below it)::

    event.py → runner.py (L4: watchdog.py, attempts.py)
             → plan/ (L3: which checks) → checks/ (L2: context.py, checks/base.py)
             → probe/, discovery/, aws.py, config.py (L1 engines)
             → verdict.py (L3) → reporting.py (L3): exactly one PutLifecycleEventHookExecutionStatus

The leaves (L0: exceptions.py, outcome.py, policy.py, hooks.py, constants.py) import nothing of ours.
"""

from __future__ import annotations

from trafficgate.hooks import Hook
from trafficgate.observability import instrument
from trafficgate.runner import run_ecs_hook, run_hook

__all__ = ["Hook", "instrument", "run_ecs_hook", "run_hook"]
