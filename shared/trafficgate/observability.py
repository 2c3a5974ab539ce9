"""Logger, metrics and optional tracing, all from Powertools.

One :data:`logger` and one :data:`metrics` object per container. The handler decorator
:func:`instrument` adds the Lambda context to every log line, flushes EMF metrics, and wraps
the handler in the Tracer only when ``TRAFFICGATE_TRACING`` is true, so that a container with
tracing off never imports the X-Ray SDK.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

from aws_lambda_powertools import Logger, Metrics, single_metric
from aws_lambda_powertools.metrics import MetricUnit

from trafficgate import constants as env

if TYPE_CHECKING:
    from trafficgate.verdict import Verdict

_SERVICE = os.environ.get(env.SERVICE_NAME) or "trafficgate"
_NAMESPACE = os.environ.get(env.METRICS_NAMESPACE) or "Trafficgate"

_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_LEVEL = (os.environ.get(env.LOG_LEVEL) or "INFO").strip().upper()
_BAD_LEVEL = _LEVEL not in _LEVELS
# An unknown level makes Powertools raise at import, and then no hook could answer: fall back to
# INFO and say so on the first line instead.
logger = Logger(service=_SERVICE, level="INFO" if _BAD_LEVEL else _LEVEL)
if _BAD_LEVEL:
    logger.error(f"{env.LOG_LEVEL}={os.environ.get(env.LOG_LEVEL)!r}: expected one of {', '.join(_LEVELS)}; using INFO")
metrics = Metrics(namespace=_NAMESPACE, service=_SERVICE)

Handler = TypeVar("Handler", bound=Callable[..., Any])


def tracing_enabled() -> bool:
    """True when ``TRAFFICGATE_TRACING`` asks for X-Ray tracing."""
    return os.environ.get(env.TRACING, "").strip().lower() in {"1", "true", "yes", "on"}


def instrument(handler: Handler) -> Handler:
    """Decorate a hook handler with Powertools logging, metrics and (optionally) tracing."""
    wrapped: Any = metrics.log_metrics(handler)
    if tracing_enabled():
        # Imported only here: the X-Ray SDK costs start-up time that untraced hooks should not pay.
        from aws_lambda_powertools import Tracer

        wrapped = Tracer(service=_SERVICE).capture_lambda_handler(wrapped)
    wrapped = logger.inject_lambda_context(wrapped, clear_state=True)
    return wrapped  # type: ignore[no-any-return]


def record_verdict_metrics(verdict: Verdict) -> None:
    """Emit EMF metrics for one verdict: the verdict, its duration and each check's outcome."""
    metrics.add_dimension(name="hook", value=verdict.hook)
    metrics.add_metric(name="VerdictSucceeded", unit=MetricUnit.Count, value=int(verdict.succeeded))
    metrics.add_metric(name="VerdictFailed", unit=MetricUnit.Count, value=int(not verdict.succeeded))
    metrics.add_metric(name="HookDuration", unit=MetricUnit.Milliseconds, value=verdict.duration_ms)
    for check in verdict.checks:
        # One EMF blob per check: its own dimension set (hook, check) without disturbing the above.
        with single_metric(
            name=f"Check{check.outcome.value.capitalize()}",
            unit=MetricUnit.Count,
            value=1,
            namespace=_NAMESPACE,
            default_dimensions={"service": _SERVICE, "hook": verdict.hook, "check": check.check_id},
        ) as metric:
            metric.add_metric(name="CheckDuration", unit=MetricUnit.Milliseconds, value=check.duration_ms)


def send_logs_to(stream: TextIO) -> None:
    """Point the Powertools log handler at another stream (the local runner keeps stdout clean)."""
    handler = logger.registered_handler
    if hasattr(handler, "setStream"):
        handler.setStream(stream)
