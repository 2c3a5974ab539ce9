"""Deprecated alias kept for plans and tests written against 0.1: use :mod:`trafficgate.plan`.

Layer L3 (composition). Holds no logic: the built-in check types live in
:data:`trafficgate.plan.BUILTIN_TYPES`, the default plans in :mod:`trafficgate.plan.defaults`.
"""

from __future__ import annotations

import warnings
from typing import Any

from trafficgate.plan.builtins import BUILTIN_TYPES


def check_types() -> dict[str, Any]:
    """Every built-in check type a plan may name. Deprecated: use ``trafficgate.plan.BUILTIN_TYPES``."""
    warnings.warn(
        "trafficgate.plans.check_types() is deprecated; use trafficgate.plan.BUILTIN_TYPES",
        DeprecationWarning,
        stacklevel=2,
    )
    return dict(BUILTIN_TYPES)
