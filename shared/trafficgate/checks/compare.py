"""Green against blue: the same requests to the test listener (green) and the production listener (blue).

Layer L2 (a check): imports the check API, the probe engine and the statistics (a leaf).

Between AllowTestTraffic and AllowTraffic the test listener serves green while the production
listener still serves blue, so both can be asked the same thing at the same moment. The pairs
(:mod:`trafficgate.probe.pairs`) feed :class:`~trafficgate.stats.PairedComparison`: anytime-valid
betting tests that stop as soon as a regression is shown or green is shown good enough, at a
false-rollback level ``alpha`` whenever they stop. Still open at ``max_requests`` per side (or at
the deadline), the result is inconclusive and the check's policy decides.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from trafficgate.checks.base import Check, CheckError, CheckResult, Policy
from trafficgate.probe.compare_spec import CompareSpec
from trafficgate.probe.exceptions import ProbeConfigError
from trafficgate.probe.spec import ProbeSpec
from trafficgate.stats import (
    PairedComparison,
    confidence_interval,
    error_pair,
    quantile,
    slowdown_of,
    slowdown_pair,
    slower_pair,
)

if TYPE_CHECKING:
    from trafficgate.context import CheckContext
    from trafficgate.probe.pairs import PairsResult, SideResult

COMPARE_CHECK_ID = "http.compare"

#: ProbeSpec fields a plan may set on a comparison: what to send and what makes an answer good.
#: Not the burst's size and absolute limits (the comparison has its own), nor headers and resolve
#: (the auth secret and the operator's environment only), nor the certificate check (a burst's).
PROBE_FIELDS = (
    "path",
    "method",
    "concurrency",
    "timeout_s",
    "accepted_status",
    "body_regex",
    "json_equals",
    "json_exists",
    "header_matches",
    "host_header",
    "tls_verify",
    "ca_bundle",
    "follow_redirects",
    "max_body_bytes",
    "failure_samples",
)

#: The most time the comparison claims from the checks before it (see ``expected_s``).
MAX_EXPECTED_S = 45.0

#: The chance, for a green the detectable error-rate increase worse than blue (or slower than
#: allowed), of ever calling it good enough.
BETA = 0.05

#: The built-in entries' policy. Inconclusive at the cap means "not shown either way": it is
#: reported, and the absolute checks keep judging green alone, but it does not roll back (fail
#: closed there would roll back most healthy services that have any background error rate; see
#: the README). A plan entry has the usual policy defaults, and may say ``on_inconclusive``.
BUILTIN_POLICY = Policy(on_inconclusive="pass")

#: PairedComparison needs a margin above 0; a margin of 0 becomes this one, which means the same.
_EDGE = 1e-9
#: Pairs stop this long before the check's deadline: requests in flight are cut at the pairs'
#: deadline (and gone within the reaper's slack), and the result still reaches the verdict as
#: this check's own, inconclusive, rather than as the runner's "deadline: still running" error.
RETURN_RESERVE_S = 1.0
#: ...plus this per pair of the cap, for the confidence intervals of the judgement (two bisections
#: replaying every pair: about 0.15 ms a pair measured on a 2-core box, and a 256 MB Lambda has a
#: fraction of a core).
JUDGE_S_PER_PAIR = 0.001
#: Bisection steps of the confidence intervals: bounds to 1e-6, shown to 1e-4.
_CI_HALVINGS = 20
#: Pairs a comparison is expected to take for :meth:`HttpCompare.expected_s`, if its cap allows.
_EXPECTED_PAIRS = 400
#: What one request is expected to take for :meth:`HttpCompare.expected_s` (a healthy listener).
_EXPECTED_REQUEST_S = 0.25


@dataclass(kw_only=True)
class HttpCompare(Check):
    """Compare green with blue on interleaved request pairs: is green worse, or shown good enough?

    Parameters
    ----------
    comparison
        Thresholds, level and cap; the operator's settings when omitted.
    overrides
        CompareSpec fields a plan sets on top of the operator's settings.
    probe_overrides
        ProbeSpec fields (:data:`PROBE_FIELDS`) a plan sets on top of the operator's probe settings.
    """

    check_id: str = COMPARE_CHECK_ID
    comparison: CompareSpec | None = None
    overrides: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    probe_overrides: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    sample_unit: ClassVar[str] = "pairs"

    @classmethod
    def plan_fields(cls) -> dict[str, Any]:
        """Parameters a plan entry may give: every CompareSpec field and the :data:`PROBE_FIELDS`."""
        compare = typing.get_type_hints(CompareSpec)
        probe = typing.get_type_hints(ProbeSpec)
        return {
            **{f.name: compare[f.name] for f in dataclasses.fields(CompareSpec)},
            **{name: probe[name] for name in PROBE_FIELDS},
        }

    @classmethod
    def from_plan(cls, check_id: str, params: Mapping[str, Any], **common: Any) -> HttpCompare:
        """Build from validated plan parameters, trying them now so a bad value names its field.

        Raises
        ------
        ProbeConfigError, RangeError
            Naming the field (``exc.field``) that the spec refused.
        """
        names = {f.name for f in dataclasses.fields(CompareSpec)}
        compare = {k: v for k, v in params.items() if k in names}
        probe = {k: v for k, v in params.items() if k not in names}
        CompareSpec(**compare)
        dataclasses.replace(ProbeSpec(), **probe)
        return cls(check_id=check_id, overrides=compare, probe_overrides=probe, **common)

    def spec(self, ctx: CheckContext) -> CompareSpec:
        """The comparison's settings: the given ones, or the operator's, with the plan's on top.

        The detectable increase must stay at least the tolerated one, and each side may set either:
        a plan that moves only the margin above the operator's detectable increase gets the
        derived one (:attr:`CompareSpec.detect_increase`); a plan's detectable increase below the
        operator's margin is the plan's error, named with both values.

        Raises
        ------
        CheckError
            The plan's ``detect_error_rate_increase`` is below the margin in force.
        """
        base = self.comparison or ctx.settings.comparison
        overrides = dict(self.overrides)
        margin = overrides.get("max_error_rate_increase", base.max_error_rate_increase)
        detect = overrides.get("detect_error_rate_increase", base.detect_error_rate_increase)
        if detect is not None and detect < margin:
            if "detect_error_rate_increase" not in overrides:
                overrides["detect_error_rate_increase"] = None  # the operator's no longer fits: derive
            else:
                whose = "the plan's" if "max_error_rate_increase" in overrides else "the operator's"
                raise CheckError(
                    f"detect_error_rate_increase {detect:g} is below {whose} max_error_rate_increase {margin:g}: "
                    f"expected at least the tolerated increase"
                )
        return dataclasses.replace(base, **overrides)

    def expected_s(self, ctx: CheckContext) -> float:
        # A green as good as blue is shown so in a few hundred pairs (the README's decision
        # quality: 150 to 600 on average, by blue's own error rate), so the cap up to
        # _EXPECTED_PAIRS, and at most MAX_EXPECTED_S: the pairs stop themselves at the check's
        # deadline, and the time they claim is taken from the checks before them
        # (elb.targets_healthy stops waiting for targets that early), which a large cap must not
        # starve.
        spec = ctx.settings.probe
        concurrency = int(self.probe_overrides.get("concurrency", spec.concurrency))
        pairs = min(self.spec(ctx).max_requests, _EXPECTED_PAIRS)
        return min(math.ceil(pairs / max(1, concurrency)) * 2 * _EXPECTED_REQUEST_S + 1.0, MAX_EXPECTED_S)

    def run(self, ctx: CheckContext) -> CheckResult:
        from trafficgate.probe.pairs import run_pairs  # requests only when pairs run

        try:
            probe = dataclasses.replace(ctx.settings.probe, **self.probe_overrides)
        except ProbeConfigError as exc:
            raise CheckError(f"probe parameters: {exc}") from None
        compare = self.spec(ctx)
        green_url, blue_url = ctx.base_url("test"), ctx.base_url("prod")
        missing = [name for name, url in (("test", green_url), ("production", blue_url)) if url is None]
        if green_url is None or blue_url is None:
            message = (
                f"deployment group has no {' and no '.join(missing)} listener; green-against-blue comparison skipped"
            )
            return CheckResult.passed(message, warnings=(message,))
        headers = ctx.auth_headers()
        green_spec, blue_spec = (
            dataclasses.replace(spec, headers={**spec.headers, **headers})
            for spec in (ctx.probe_spec("test", probe), ctx.probe_spec("prod", probe))
        )
        comparison = paired_comparison(compare)
        pairs = run_pairs(
            green_spec,
            green_url,
            blue_spec,
            blue_url,
            judge=lambda green, blue: comparison.add(green, blue) is not None,
            max_pairs=compare.max_requests,
            deadline=ctx.deadline - ctx.time_after_s - RETURN_RESERVE_S - JUDGE_S_PER_PAIR * compare.max_requests,
            on_progress=ctx.progress(self.check_id),
            cancel=ctx.cancelled,
        )
        return judge(comparison, pairs, compare)


def paired_comparison(compare: CompareSpec) -> PairedComparison:
    """The sequential tests for ``compare``'s thresholds.

    A margin of 0 ("any increase shown fails") is taken as the smallest margin PairedComparison
    accepts: an observed increase is a multiple of 1/pairs, so it means the same.
    """
    margin = max(compare.max_error_rate_increase, _EDGE)
    return PairedComparison(
        max_error_increase=margin,
        detect_error_increase=max(compare.detect_increase, margin),
        max_latency_ratio=compare.max_latency_increase,
        min_latency_increase_ms=compare.min_latency_increase_ms,
        alpha=compare.alpha,
        beta=BETA,
    )


def interval_alphas(comparison: PairedComparison) -> tuple[float, float]:
    """The two-sided levels of the error and the latency intervals: twice each test's share of
    ``alpha``, so each side is at its test's level."""
    return 2.0 * comparison.error_alpha, 2.0 * comparison.latency_alpha


def judge(comparison: PairedComparison, pairs: PairsResult, compare: CompareSpec) -> CheckResult:
    """The check's result from a finished comparison: outcome, a reason with both sides' figures, details."""
    seen = _Figures.of(comparison, pairs, compare)
    errors_ci_alpha, latency_ci_alpha = interval_alphas(comparison)
    n = comparison.pairs
    details = {
        "green": _side(pairs.green, n),
        "blue": _side(pairs.blue, n),
        "pairs": n,
        "decided_at": comparison.decided_at,
        "stopped": pairs.stop_reason,
        "sent": pairs.sent,
        "unjudged": pairs.unjudged,
        "order": "interleaved; green first in even pairs, blue first in odd ones",
        "error_rate_increase": seen.increase,
        "error_rate_increase_ci": seen.increase_ci,
        "latency_ratio": seen.ratio,
        "latency_difference_ms": seen.difference_ms,
        "latency_pairs": len(seen.slower),
        "slower_share": _round(sum(seen.slower) / len(seen.slower)) if seen.slower else None,
        "slower_share_ci": seen.slower_ci,
        "slowdown": seen.slowdown,
        "slowdown_ci": seen.slowdown_ci,
        # Of the intervals: each side at its test's share of alpha (see interval_alphas).
        "confidence": {"errors": _round(1.0 - errors_ci_alpha), "latency": _round(1.0 - latency_ci_alpha)},
        "evidence": {
            "errors_worse": _round(comparison.errors.evidence_above),
            "errors_within_detectable": _round(comparison.within.evidence_below),
            "slower": _round(comparison.latency.evidence_above),
            "not_slower": _round(comparison.latency.evidence_below),
        },
        "thresholds": {
            **dataclasses.asdict(compare),
            "detect_error_rate_increase": compare.detect_increase,
            "beta": BETA,
        },
        "duration_s": pairs.duration_s,
    }
    value = {"error_rate_increase": seen.increase, "latency_ratio": seen.ratio}
    threshold = {
        "max_error_rate_increase": compare.max_error_rate_increase,
        "detect_error_rate_increase": compare.detect_increase,
        "max_latency_increase": compare.max_latency_increase,
        "min_latency_increase_ms": compare.min_latency_increase_ms,
    }
    common: dict[str, Any] = {
        "value": value,
        "threshold": threshold,
        "details": details,
        "samples": n,
        "warnings": pairs.warnings,
    }
    if comparison.verdict == "fail":
        found, levels = [], []
        if comparison.errors.decision == "above" and comparison.error_increase > comparison.max_error_increase:
            found.append(f"green fails more often than blue: {seen.errors()}")
            levels.append(comparison.error_alpha)
        if comparison.latency.decision == "above":
            found.append(f"green slower than blue: {seen.latency()}")
            levels.append(comparison.latency_alpha)
        # Each regression at its own test's share of alpha (together at most alpha).
        level = " and ".join(f"{v:.3g}" for v in levels)
        return CheckResult.failed(
            f"{'; '.join(found)}, shown after {comparison.decided_at} pairs at alpha {level}", **common
        )
    if comparison.verdict == "pass":
        return CheckResult.passed(
            f"green no worse than blue: {seen.errors()}, {seen.latency()}; shown after {comparison.decided_at} "
            f"pairs at {1 - BETA:.0%}: error increase below +{compare.detect_increase:.3f}, no slower than allowed",
            **common,
        )
    why = {
        "cap": f"the cap of {compare.max_requests} requests per side",
        "deadline": "the deadline",
        "cancelled": "the hook's deadline",
    }.get(pairs.stop_reason, pairs.stop_reason)
    if n == 0:
        return CheckResult.inconclusive(f"inconclusive: no pair completed before {why}", **common)
    return CheckResult.inconclusive(
        f"inconclusive after {n} pairs ({why}): {seen.errors()}, {seen.latency()}; "
        f"neither a regression shown (alpha {compare.alpha:g}) nor green no worse (at {1 - BETA:.0%})",
        **common,
    )


@dataclass(frozen=True)
class _Figures:
    """What both sides showed, as the reason and the details say it."""

    compare: CompareSpec
    green_rate: float | None
    blue_rate: float | None
    increase: float | None
    increase_ci: list[float | None] | None
    green_median: float | None
    blue_median: float | None
    ratio: float | None
    difference_ms: float | None
    slower: list[float]
    slower_ci: list[float | None] | None
    #: Green's time over the allowed time (geometric mean, clipped as the latency test scores it).
    slowdown: float | None
    slowdown_ci: list[float | None] | None

    @classmethod
    def of(cls, comparison: PairedComparison, pairs: PairsResult, compare: CompareSpec) -> _Figures:
        n = comparison.pairs
        errors = [error_pair(g is None, b is None) for g, b in pairs.pairs]
        slower = [
            slower_pair(g, b, ratio=compare.max_latency_increase, floor_ms=compare.min_latency_increase_ms)
            for g, b in pairs.pairs
            if g is not None and b is not None
        ]
        scores = [
            slowdown_pair(g, b, ratio=compare.max_latency_increase, floor_ms=compare.min_latency_increase_ms)
            for g, b in pairs.pairs
            if g is not None and b is not None
        ]
        green_median = quantile(pairs.green.latencies_ms, 0.5)
        blue_median = quantile(pairs.blue.latencies_ms, 0.5)
        ratio = difference = None
        if green_median is not None and blue_median is not None:
            ratio = green_median / blue_median if blue_median else None
            difference = green_median - blue_median
        # Each interval at its test's level on either side, so the two agree: the interval replays
        # the test's own bets, and a regression that test shows at the last pair lies outside it.
        errors_alpha, latency_alpha = interval_alphas(comparison)
        low, high = confidence_interval(errors, errors_alpha, halvings=_CI_HALVINGS) if errors else (0.0, 1.0)
        return cls(
            compare=compare,
            green_rate=comparison.green_errors / n if n else None,
            blue_rate=comparison.blue_errors / n if n else None,
            increase=_round(comparison.error_increase) if n else None,
            # The mean of the paired observations is (p_green - p_blue + 1) / 2: back to the increase.
            increase_ci=[_round(2 * low - 1), _round(2 * high - 1)] if errors else None,
            green_median=green_median,
            blue_median=blue_median,
            ratio=_round(ratio),
            difference_ms=_round(difference),
            slower=slower,
            slower_ci=[_round(v) for v in confidence_interval(slower, latency_alpha, halvings=_CI_HALVINGS)]
            if slower
            else None,
            slowdown=_round(slowdown_of(sum(scores) / len(scores))) if scores else None,
            slowdown_ci=[
                _round(slowdown_of(v)) for v in confidence_interval(scores, latency_alpha, halvings=_CI_HALVINGS)
            ]
            if scores
            else None,
        )

    def errors(self) -> str:
        if self.green_rate is None or self.blue_rate is None or self.increase is None:
            return "no pairs"
        margin = self.compare.max_error_rate_increase
        relation = ">" if self.increase > margin else "<="
        return (
            f"error rate {self.green_rate:.3f} vs {self.blue_rate:.3f} "
            f"({self.increase:+.3f} {relation} +{margin:.3f})"
        )

    def latency(self) -> str:
        if self.green_median is None or self.blue_median is None:
            return "no latency to compare (no pair where both answered)"
        limit, floor = self.compare.max_latency_increase, self.compare.min_latency_increase_ms
        ratio = self.green_median / self.blue_median if self.blue_median else math.inf
        difference = self.green_median - self.blue_median
        slow = sum(self.slower)
        return (
            f"median {_ms(self.green_median)} vs {_ms(self.blue_median)} "
            f"(x{ratio:.2f} {'>' if ratio > limit else '<='} x{limit:g} and "
            f"{difference:+.0f} ms {'>' if difference > floor else '<='} {floor:g} ms; "
            f"slower than allowed in {slow:.0f}/{len(self.slower)} pairs)"
        )


def _side(side: SideResult, pairs: int) -> dict[str, Any]:
    ordered: Sequence[float] = sorted(side.latencies_ms)
    return {
        "url": side.target,
        "requests": side.requests,
        "errors": side.failures,
        "error_rate": _round(side.failures / pairs) if pairs else None,
        "p50_ms": _round(quantile(ordered, 0.5)),
        "p90_ms": _round(quantile(ordered, 0.9)),
        "p99_ms": _round(quantile(ordered, 0.99)),
        "status_counts": dict(side.status_counts),
        "error_counts": dict(side.error_counts),
        "failure_samples": [dataclasses.asdict(s) for s in side.failure_samples],
        "truncated_responses": side.truncated_responses,
        # The picture of this side, for the evidence page (trafficgate check/rehearse --html).
        "latency_samples_ms": list(side.latency_samples_ms),
        "over_time": side.over_time,
    }


def _ms(value: float) -> str:
    return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def _round(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, 4)
