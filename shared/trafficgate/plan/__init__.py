"""Which checks a hook runs: a declarative plan (SSM or file), or the built-in defaults.

Layer L3 (composition): imports the checks. Per hook, a plan lists the checks with their
parameters and policies; :func:`plan_for` is the one place that decides.

The names below load on first use: importing :mod:`trafficgate.plan.exceptions` (the runner
does, at start-up) must not import every check module before the first hook runs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from trafficgate.plan.exceptions import PlanError

if TYPE_CHECKING:
    from trafficgate.plan.builtins import BUILTIN_TYPES
    from trafficgate.plan.custom import FunctionCheck
    from trafficgate.plan.defaults import default_plan
    from trafficgate.plan.loader import Plan, checks_or_defaults, parse_plan, parse_plan_text
    from trafficgate.plan.select import plan_for

_LAZY = {
    "BUILTIN_TYPES": "builtins",
    "FunctionCheck": "custom",
    "Plan": "loader",
    "checks_or_defaults": "loader",
    "default_plan": "defaults",
    "parse_plan": "loader",
    "parse_plan_text": "loader",
    "plan_for": "select",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "BUILTIN_TYPES",
    "FunctionCheck",
    "Plan",
    "PlanError",
    "checks_or_defaults",
    "default_plan",
    "parse_plan",
    "parse_plan_text",
    "plan_for",
]
