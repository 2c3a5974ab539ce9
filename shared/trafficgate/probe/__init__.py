"""The probe engine: bursts of HTTP requests against a load-balancer listener.

Layer L1 (engines): imports only the leaves and its own modules.
Never imports checks, the check context or plans.

Usage::

    from trafficgate.probe import ProbeSpec, StatusSet, run_burst, evaluate

    spec = ProbeSpec(path="/health", accepted_status=StatusSet.parse("200-299"))
    burst = run_burst(spec, "https://my-alb.example.com:8443", deadline=time.monotonic() + 30)
    result = evaluate(spec, burst)  # one CheckResult: pass, fail or inconclusive

The modules, in the order a request meets them: :mod:`.spec` (what to send and judge),
:mod:`.target` (where), :mod:`.transport` (how), :mod:`.request` (one request, judged by
:mod:`.rules`, errors named by :mod:`.classify`), :mod:`.burst` (many, with fail-fast),
:mod:`.assertions` (the burst judged), plus :mod:`.certs`, :mod:`.masking`, :mod:`.jsonquery`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from trafficgate.probe.exceptions import ProbeConfigError, ProbeError
from trafficgate.probe.kinds import ERROR_KINDS, MAX_REDIRECTS, TLS_VERIFY_DISABLED
from trafficgate.probe.spec import DEFAULT_ACCEPTED_STATUS, ProbeSpec, StatusSet
from trafficgate.probe.stats import allowed_failures, percentile

if TYPE_CHECKING:
    from trafficgate.probe.assertions import Assertion, assertions_for, evaluate
    from trafficgate.probe.burst import run_burst
    from trafficgate.probe.certs import certificate_not_after
    from trafficgate.probe.classify import classify_error
    from trafficgate.probe.results import BurstResult, FailureSample
    from trafficgate.probe.transport import TargetAdapter, TargetSession

# The transport pulls in requests; settings only need ProbeSpec. Loading the engine on first use
# keeps it off the cold start of hooks that probe nothing over HTTP.
_LAZY = {
    "Assertion": "assertions",
    "assertions_for": "assertions",
    "evaluate": "assertions",
    "BurstResult": "results",
    "FailureSample": "results",
    "TargetAdapter": "transport",
    "TargetSession": "transport",
    "certificate_not_after": "certs",
    "classify_error": "classify",
    "run_burst": "burst",
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
