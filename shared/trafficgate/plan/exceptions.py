"""Errors of check plans.

Layer L3 (composition); imports only the leaves.
"""

from __future__ import annotations

from trafficgate.exceptions import TrafficgateError


class PlanError(TrafficgateError, ValueError):
    """A plan that cannot be used. The message starts with the exact field, e.g.
    ``hooks.AfterAllowTestTraffic[2].max_p95_ms: expected a number``.
    """
