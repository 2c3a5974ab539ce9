"""The probe engine: bursts of HTTP requests against a load-balancer listener.

Usage::

    from trafficgate.probe import ProbeSpec, StatusSet, run_burst, evaluate

    spec = ProbeSpec(path="/health", accepted_status=StatusSet.parse("200-299"))
    burst = run_burst(spec, "https://my-alb.example.com:8443", deadline=time.monotonic() + 30)
    result = evaluate(spec, burst)  # one CheckResult: pass, fail or inconclusive
"""

from __future__ import annotations

from trafficgate.probe.assertions import Assertion, assertions_for, evaluate
from trafficgate.probe.engine import (
    ERROR_KINDS,
    MAX_REDIRECTS,
    TLS_VERIFY_DISABLED,
    BurstResult,
    FailureSample,
    TargetAdapter,
    certificate_not_after,
    classify_error,
    run_burst,
)
from trafficgate.probe.exceptions import ProbeConfigError, ProbeError
from trafficgate.probe.spec import DEFAULT_ACCEPTED_STATUS, ProbeSpec, StatusSet
from trafficgate.probe.stats import allowed_failures, percentile

__all__ = [
    "DEFAULT_ACCEPTED_STATUS",
    "ERROR_KINDS",
    "MAX_REDIRECTS",
    "TLS_VERIFY_DISABLED",
    "Assertion",
    "BurstResult",
    "FailureSample",
    "ProbeConfigError",
    "ProbeError",
    "ProbeSpec",
    "StatusSet",
    "TargetAdapter",
    "allowed_failures",
    "assertions_for",
    "certificate_not_after",
    "classify_error",
    "evaluate",
    "percentile",
    "run_burst",
]
