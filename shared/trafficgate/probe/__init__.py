"""The probe engine: bursts of HTTP requests against a load-balancer listener.

Usage::

    from trafficgate.probe import ProbeSpec, StatusSet, run_burst, evaluate

    spec = ProbeSpec(path="/health", accepted_status=StatusSet.parse("200-299"))
    burst = run_burst(spec, "https://my-alb.example.com:8443", deadline=time.monotonic() + 30)
    result = evaluate(spec, burst)  # one CheckResult: pass, fail or inconclusive
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from trafficgate.probe.exceptions import ProbeConfigError, ProbeError
from trafficgate.probe.spec import DEFAULT_ACCEPTED_STATUS, ProbeSpec, StatusSet
from trafficgate.probe.stats import allowed_failures, percentile

if TYPE_CHECKING:
    from trafficgate.probe.assertions import Assertion, assertions_for, evaluate
    from trafficgate.probe.engine import (
        ERROR_KINDS,
        MAX_REDIRECTS,
        TLS_VERIFY_DISABLED,
        BurstResult,
        FailureSample,
        TargetAdapter,
        TargetSession,
        certificate_not_after,
        classify_error,
        run_burst,
    )

# The engine pulls in requests; settings only need ProbeSpec. Loading the engine on first use
# keeps it off the cold start of hooks that probe nothing over HTTP.
_LAZY = {
    "Assertion": "assertions",
    "assertions_for": "assertions",
    "evaluate": "assertions",
    "ERROR_KINDS": "engine",
    "MAX_REDIRECTS": "engine",
    "TLS_VERIFY_DISABLED": "engine",
    "BurstResult": "engine",
    "FailureSample": "engine",
    "TargetAdapter": "engine",
    "TargetSession": "engine",
    "certificate_not_after": "engine",
    "classify_error": "engine",
    "run_burst": "engine",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


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
    "TargetSession",
    "allowed_failures",
    "assertions_for",
    "certificate_not_after",
    "classify_error",
    "evaluate",
    "percentile",
    "run_burst",
]
