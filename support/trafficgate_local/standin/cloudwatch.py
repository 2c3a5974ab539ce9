"""moto's CloudWatch, extended with percentile statistics in ``GetMetricData`` and composite alarms.

moto 5.2 answers ``Stat: "p95"`` with ``None``, which then breaks its own response serialiser.
AfterAllowTraffic judges ``TargetResponseTime`` by its p95, so :func:`install_cloudwatch` teaches
moto ``pNN`` and ``tmNN`` (trimmed mean) statistics computed from the raw datapoints
(``Value``, or ``Values`` with ``Counts``), and drops the periods moto still cannot compute
(for example a percentile over ``StatisticValues`` only, which CloudWatch cannot compute either)
instead of crashing.

moto also stores composite alarms (``AlarmRule``) but has no ``PutCompositeAlarm`` action and
never returns ``AlarmRule``: both are added, so ``DescribeAlarms`` lists them under
``CompositeAlarms`` as the service does.

Nothing happens at import time; :func:`install_cloudwatch` is idempotent.
"""

from __future__ import annotations

import math
import re
import threading
from typing import Any, SupportsFloat

from moto.cloudwatch.models import Alarm, CloudWatchBackend, Statistics
from moto.cloudwatch.responses import CloudWatchResponse

__all__ = ["install_cloudwatch", "is_cloudwatch_installed", "percentile", "trimmed_mean"]

_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d+)?|100)$")
_TRIMMED_MEAN = re.compile(r"^tm(\d{1,2}(?:\.\d+)?|100)$")
_INSTALL_MARK = "_trafficgate_cloudwatch_installed"
_install_lock = threading.Lock()
_ORIGINALS: dict[str, Any] = {}


def percentile(values: list[float], pct: float) -> float | None:
    """The ``pct`` percentile of ``values`` by the nearest-rank method (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def trimmed_mean(values: list[float], pct: float) -> float | None:
    """Mean of the values at or below the ``pct`` percentile (CloudWatch's ``tmNN``)."""
    if not values:
        return None
    cutoff = percentile(values, pct)
    kept = [v for v in values if cutoff is not None and v <= cutoff]
    return sum(kept) / len(kept) if kept else None


def _get_statistics_for_type(self: Statistics, stat: str) -> SupportsFloat | None:
    value: SupportsFloat | None = _ORIGINALS["get_statistics_for_type"](self, stat)
    if value is not None:
        return value
    if match := _PERCENTILE.match(stat):
        return percentile(self.metric_single_values_list, float(match.group(1)))
    if match := _TRIMMED_MEAN.match(stat):
        return trimmed_mean(self.metric_single_values_list, float(match.group(1)))
    return None


def _get_metric_data(self: CloudWatchBackend, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = _ORIGINALS["get_metric_data"](self, *args, **kwargs)
    for result in results:
        pairs = [(t, v) for t, v in zip(result.get("timestamps", []), result.get("values", []), strict=False)]
        if any(v is None for _, v in pairs):
            # A period whose statistic cannot be computed has no datapoint, as in CloudWatch.
            kept = [(t, v) for t, v in pairs if v is not None]
            result["timestamps"] = [t for t, _ in kept]
            result["values"] = [v for _, v in kept]
    return results


def install_cloudwatch() -> None:
    """Teach moto's GetMetricData percentile and trimmed-mean statistics; safe to call repeatedly."""
    with _install_lock:
        if is_cloudwatch_installed():
            return
        _ORIGINALS["get_statistics_for_type"] = Statistics.get_statistics_for_type
        _ORIGINALS["get_metric_data"] = CloudWatchBackend.get_metric_data
        Statistics.get_statistics_for_type = _get_statistics_for_type  # type: ignore[method-assign]
        CloudWatchBackend.get_metric_data = _get_metric_data  # type: ignore[method-assign]
        # moto's PutMetricAlarm already reads AlarmRule "to re-use this method for composite alarms".
        CloudWatchResponse.put_composite_alarm = CloudWatchResponse.put_metric_alarm  # type: ignore[attr-defined]
        Alarm.alarm_rule = property(lambda self: self.rule)  # type: ignore[attr-defined]
        setattr(CloudWatchBackend, _INSTALL_MARK, True)


def is_cloudwatch_installed() -> bool:
    """Return True once :func:`install_cloudwatch` has extended moto."""
    return bool(getattr(CloudWatchBackend, _INSTALL_MARK, False))
