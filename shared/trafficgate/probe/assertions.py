"""Judge a burst: turn a :class:`BurstResult` into one :class:`CheckResult`.

Layer L1 (probe engine); the result type comes from the leaves (:mod:`trafficgate.outcome`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trafficgate.outcome import CheckResult
from trafficgate.probe.kinds import STATUS
from trafficgate.probe.results import BurstResult
from trafficgate.probe.spec import ProbeSpec, clean_requests_to_pass

#: Assertion names, in the order they are evaluated (the first failed one is the reason).
SUCCESS_RATE = "success_rate"
LATENCY_P50 = "latency_p50_ms"
LATENCY_P95 = "latency_p95_ms"
LATENCY_P99 = "latency_p99_ms"
CERT_DAYS = "cert_days_left"


@dataclass(frozen=True, kw_only=True)
class Assertion:
    """One comparison of a measured value with its limit.

    ``ok`` is ``None`` when there was nothing to measure (no response came back).
    """

    name: str
    value: Any
    threshold: Any
    ok: bool | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "threshold": self.threshold, "ok": self.ok}


def assertions_for(spec: ProbeSpec, burst: BurstResult) -> list[Assertion]:
    """Every assertion the spec asks for, evaluated against the burst."""
    found = [_success_rate(spec, burst)]
    for name, label, limit, measured in (
        (LATENCY_P50, "p50", spec.max_p50_ms, burst.latency_p50_ms),
        (LATENCY_P95, "p95", spec.max_p95_ms, burst.latency_p95_ms),
        (LATENCY_P99, "p99", spec.max_p99_ms, burst.latency_p99_ms),
    ):
        if limit is None:
            continue
        if measured is None:
            found.append(Assertion(name=name, value=None, threshold=limit, ok=None, reason=f"{label}: no responses"))
            continue
        ok = measured <= limit
        sign = "<=" if ok else ">"
        found.append(
            Assertion(
                name=name,
                value=measured,
                threshold=limit,
                ok=ok,
                reason=f"{label} {measured:.0f} ms {sign} {limit:.0f} ms ({burst.latency_count} responses)",
            )
        )
    if spec.min_cert_days is not None and (burst.cert_days_left is not None or burst.cert_error is not None):
        found.append(_cert_days(spec.min_cert_days, burst))
    return found


def _success_rate(spec: ProbeSpec, burst: BurstResult) -> Assertion:
    rate = burst.success_rate
    limit = spec.min_success_rate
    if rate is None:
        return Assertion(name=SUCCESS_RATE, value=None, threshold=limit, ok=None, reason="no request completed")
    test = burst.sequential
    ok: bool | None
    if test is None:
        # Judged on the failure budget of the whole burst, so a burst cut short by the deadline
        # fails only when the failures already seen could not have passed. For a complete burst
        # this is the same as rate < min_success_rate.
        ok = burst.failures <= burst.allowed_failures
    elif test["decision"] is not None:
        ok = test["decision"] == "pass"
    elif test["every_request_must_succeed"]:
        # Threshold 1 and no failure yet: every planned request must have succeeded.
        ok = True if burst.completed >= burst.requests_planned else None
    else:
        ok = None  # neither side shown
    shown, shown_limit = _rate(rate), _rate(limit)
    if shown == shown_limit and rate != limit:
        shown, shown_limit = f"{rate:.4f}", f"{limit:.4f}"
    breakdown = failure_breakdown(burst)
    counts = f"({burst.successes}/{burst.completed} ok" + (f"; {breakdown})" if breakdown else ")")
    if test is None:
        sign = ">=" if ok else "<"
        reason = f"success rate {shown} {sign} {shown_limit} {counts}"
    else:
        # The sequential decision speaks for itself: the observed rate is only what was seen.
        reason = f"success rate {shown} {counts}; " + _sequential_note(test, shown_limit, limit)
    # A status failure says it all in the breakdown ("status 500 x4"); others need their detail.
    first = next((sample for sample in burst.failure_samples if sample.detail and sample.kind != STATUS), None)
    if first is not None:
        # What failed, not only how often: "status is 'down', expected 'ok'" (masked, then cut).
        reason += f"; first: {first.detail}"
    return Assertion(name=SUCCESS_RATE, value=round(rate, 4), threshold=limit, ok=ok, reason=reason)


def _sequential_note(test: Mapping[str, Any], limit: str, min_success_rate: float) -> str:
    """How the sequential test came to its decision, or why it has none: for a person."""
    decision, at = test["decision"], test["decided_at"]
    # Requests in flight when it was shown still end, and count in the totals: say what it rested on.
    then = "" if test["judged"] == at else f"{test.get('failures_at_decision', 0)} of {at} failed then; "
    if "evidence_fail" not in test:  # the edges: 0 or 1
        if decision == "fail":
            return f"below {limit}: a failure at request {at}, and every request must succeed"
        if decision == "pass":
            return f"{limit} required: nothing to show"
        return f"every request must succeed ({limit})"
    if decision == "fail":
        return (
            f"shown below {limit} at request {at} ({then}evidence {test['evidence_fail']:g} >= "
            f"{1 / test['alpha']:g}, alpha={test['alpha']:g})"
        )
    if decision == "pass":
        return (
            f"shown above {limit} at {1 - test['beta']:.0%} at request {at} ({then}evidence "
            f"{test['evidence_pass']:g} >= {1 / test['beta']:g})"
        )
    needed = clean_requests_to_pass(min_success_rate, test["beta"])
    hint = f"; a pass needs about {needed} requests in a row without an error" if needed else ""
    return (
        f"neither above nor below {limit} shown after {test['judged']} requests (evidence to fail "
        f"{test['evidence_fail']:g} of {1 / test['alpha']:g}, to pass {test['evidence_pass']:g} of "
        f"{1 / test['beta']:g}){hint}"
    )


def _cert_days(min_days: int, burst: BurstResult) -> Assertion:
    days = burst.cert_days_left
    if days is None:
        return Assertion(
            name=CERT_DAYS,
            value=None,
            threshold=min_days,
            ok=False,
            reason=f"certificate expiry unknown ({burst.cert_error}); min_cert_days={min_days}",
        )
    ok = days >= min_days
    sign = ">=" if ok else "<"
    return Assertion(
        name=CERT_DAYS,
        value=days,
        threshold=min_days,
        ok=ok,
        reason=f"certificate expires in {days:.1f} days {sign} {min_days} days",
    )


def failure_breakdown(burst: BurstResult, limit: int = 3) -> str:
    """The commonest failure causes, e.g. ``"status 500 x4, connect_refused x2"``."""
    parts = [(n, f"status {code}") for code, n in burst.failed_status_counts.items()]
    parts += [(n, kind) for kind, n in burst.error_counts.items() if kind != STATUS]
    parts.sort(key=lambda item: (-item[0], item[1]))
    text = ", ".join(f"{label} x{n}" for n, label in parts[:limit])
    return text + (", ..." if len(parts) > limit else "")


def _rate(value: float) -> str:
    return f"{value:.2f}"


def evaluate(spec: ProbeSpec, burst: BurstResult) -> CheckResult:
    """One result for the burst.

    FAIL names the first failed assertion (success rate, then p50/p95/p99, then certificate
    days) with its numbers. INCONCLUSIVE when no request completed, when the deadline cut the
    burst short and nothing failed yet, or when a sequential burst showed its success rate
    neither above nor below the threshold by its last request. PASS otherwise.

    ``value``/``threshold`` are those of the deciding assertion (the success rate when
    everything passed); ``details`` is ``burst.to_dict()`` plus ``assertions``: every
    assertion with name, value, threshold and ok.
    """
    found = assertions_for(spec, burst)
    details = {**burst.to_dict(), "assertions": [a.to_dict() for a in found]}
    warnings = list(burst.warnings)
    rate = found[0]
    # A sequential pass shown before the deadline stands: the deadline took nothing it needed.
    cut = burst.deadline_hit and burst.completed < burst.requests_planned and not (
        burst.sequential is not None and rate.ok is True
    )
    if cut:
        warnings.append(
            f"deadline reached after {burst.completed}/{burst.requests_planned} requests"
            + (f" ({burst.aborted} aborted)" if burst.aborted else "")
        )
    common: dict[str, Any] = {"details": details, "warnings": tuple(warnings)}
    failed = next((a for a in found if a.ok is False), None)
    if failed is not None:
        reason = failed.reason
        if burst.stopped_early:
            reason += "; stopped early"
        elif cut:
            reason += "; deadline reached"
        return CheckResult.failed(reason, value=failed.value, threshold=failed.threshold, **common)
    if burst.completed == 0:
        return CheckResult.inconclusive(
            f"no request completed before the deadline ({burst.requests_sent}/{burst.requests_planned} sent)",
            value=None,
            threshold=spec.min_success_rate,
            **common,
        )
    if cut and burst.sequential is not None:
        # Not "inconclusive at the cap", which the built-in entries let pass: the deadline took the
        # requests that could have shown a failure, so this fails closed under every policy.
        return CheckResult.errored(
            f"deadline reached after {burst.completed}/{burst.requests_planned} requests, before the success "
            "rate was shown either way; " + rate.reason,
            value=rate.value,
            threshold=rate.threshold,
            **common,
        )
    if cut:
        return CheckResult.inconclusive(
            f"deadline reached after {burst.completed}/{burst.requests_planned} requests, too few to pass; "
            + rate.reason,
            value=rate.value,
            threshold=rate.threshold,
            **common,
        )
    if rate.ok is None:
        return CheckResult.inconclusive(
            f"inconclusive after {burst.completed} requests: " + rate.reason,
            value=rate.value,
            threshold=rate.threshold,
            **common,
        )
    passed = "; ".join(a.reason for a in found if a.ok)
    return CheckResult.passed(passed, value=rate.value, threshold=rate.threshold, **common)
