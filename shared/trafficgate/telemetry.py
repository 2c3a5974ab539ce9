"""What a verdict leaves behind besides the report: its JSON summary and its EMF metrics.

Layer L3 (composition): imports the leaves, the engines (logger, settings) and the verdict.
Neither may ever stand between a verdict and CodeDeploy: the runner reports first, and both
functions here swallow their own failures (logged with the stack, never raised).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from botocore.config import Config

from trafficgate.aws import AwsClients
from trafficgate.config import ObservabilitySettings
from trafficgate.observability import SETTINGS, logger
from trafficgate.redaction import masker
from trafficgate.verdict import Verdict

#: One quick try: the verdict is already with CodeDeploy; this is a courtesy copy.
PUBLISH_CONFIG = Config(connect_timeout=0.5, read_timeout=1.0, retries={"total_max_attempts": 1})


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


def emit_report_failed(settings: ObservabilitySettings = SETTINGS) -> None:
    """EMF ``ReportFailed`` (dimension ``service`` only): the template's alarm watches exactly this.

    A report that could not be made leaves a deployment waiting an hour; someone must hear of it.
    """
    try:
        blob = EphemeralMetrics(namespace=settings.metrics_namespace, service=settings.service_name)
        blob.add_metric(name="ReportFailed", unit=MetricUnit.Count, value=1)
        blob.flush_metrics()
    except Exception:
        logger.exception("could not record the ReportFailed metric")


def publish_verdict(clients: AwsClients, topic_arn: str, summary: dict[str, Any]) -> None:
    """Send the verdict's headline to an SNS topic (deployment, hook, verdict, reason); never raises.

    Sent after the report, with short timeouts: a slow or failing topic must not stand between the
    verdict and CodeDeploy, nor keep the function past its deadline.
    """
    message = {key: summary.get(key) for key in ("deployment_id", "hook", "execution_id", "status", "reason")}
    try:
        clients.client("sns", config=PUBLISH_CONFIG).publish(
            TopicArn=topic_arn,
            Subject=f"Trafficgate {summary.get('hook')} {summary.get('status')}"[:100],
            Message=json.dumps(message),
            MessageAttributes={"status": {"DataType": "String", "StringValue": str(summary.get("status"))}},
        )
    except Exception:
        logger.exception("could not publish the verdict to SNS")


def _blob(settings: ObservabilitySettings, dimensions: dict[str, str]) -> EphemeralMetrics:
    blob = EphemeralMetrics(namespace=settings.metrics_namespace, service=settings.service_name)
    for name, value in dimensions.items():
        blob.add_dimension(name=name, value=value)
    return blob
