"""What a verdict leaves behind besides the report: its JSON summary and its EMF metrics.

Layer L3 (composition): imports the leaves, the engines (logger, settings) and the verdict.
Neither may ever stand between a verdict and CodeDeploy: the runner reports first, and both
functions here swallow their own failures (logged with the stack, never raised).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from trafficgate.config import ObservabilitySettings
from trafficgate.observability import SETTINGS, logger
from trafficgate.redaction import masker
from trafficgate.verdict import Verdict


def summarize(verdict: Verdict) -> dict[str, Any]:
    """The verdict summary, every registered secret masked in it.

    A check value that cannot be serialised must not break the hook: the short form then.
    """
    summary = _summary(verdict)
    masked: dict[str, Any] = masker().tree(summary)
    return masked


def _summary(verdict: Verdict) -> dict[str, Any]:
    try:
        return verdict.to_dict()
    except Exception:
        logger.exception("could not build the full verdict summary; returning the short form")
        return {
            "hook": verdict.hook,
            "deployment_id": verdict.deployment_id,
            "execution_id": verdict.execution_id,
            "status": verdict.status,
            "reason": verdict.reason,
            "duration_ms": round(verdict.duration_ms, 1),
            "checks": [{"id": c.check_id, "outcome": c.outcome.value, "reason": c.reason} for c in verdict.checks],
        }


def emit_metrics(verdict: Verdict, settings: ObservabilitySettings = SETTINGS) -> None:
    """EMF metrics of one verdict: the verdict and its duration, and each check's outcome and duration.

    ``settings`` gives the namespace and service (the runner's validated settings; the ones read
    at import when the configuration is invalid). Each blob is its own :class:`EphemeralMetrics`:
    nothing accumulates on a container-wide object between invocations, and the hook and check
    dimensions never collide.
    """
    try:
        blob = _blob(settings, {"hook": verdict.hook})
        blob.add_metric(name="VerdictSucceeded", unit=MetricUnit.Count, value=int(verdict.succeeded))
        blob.add_metric(name="VerdictFailed", unit=MetricUnit.Count, value=int(not verdict.succeeded))
        blob.add_metric(name="HookDuration", unit=MetricUnit.Milliseconds, value=verdict.duration_ms)
        blob.flush_metrics()
        for check in verdict.checks:
            blob = _blob(settings, {"hook": verdict.hook, "check": check.check_id})
            blob.add_metric(name=f"Check{check.outcome.value.capitalize()}", unit=MetricUnit.Count, value=1)
            blob.add_metric(name="CheckDuration", unit=MetricUnit.Milliseconds, value=check.duration_ms)
            blob.flush_metrics()
    except Exception:
        logger.exception("could not record verdict metrics")


def _blob(settings: ObservabilitySettings, dimensions: dict[str, str]) -> EphemeralMetrics:
    blob = EphemeralMetrics(namespace=settings.metrics_namespace, service=settings.service_name)
    for name, value in dimensions.items():
        blob.add_dimension(name=name, value=value)
    return blob
