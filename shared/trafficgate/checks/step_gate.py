"""ECS native per-step canary gate: green's ALB metrics against blue's while both serve production.

Layer L2 (a check): imports the check API, the AWS helpers and the statistics (a leaf).

Amazon ECS calls the PRODUCTION_TRAFFIC_SHIFT hook at every step of a linear or canary deployment,
with the step's ``productionTrafficWeights``. While both target groups serve production traffic,
the same users, at the same moments, reach green and blue: real canary analysis. One
``GetMetricData`` call reads, per minute, both target groups' ``RequestCount``,
``HTTPCode_Target_5XX_Count`` and ``TargetResponseTime`` (Average) behind the production load
balancer, over the last ``TRAFFICGATE_STEP_WINDOW_SECONDS`` (1 hour by default), never before the
service deployment started (ECS alternates the two groups between deployments: older minutes of
the "green" group belong to an earlier deployment's blue). Then, with the statistics of
``http.compare`` (:mod:`trafficgate.stats`), at ``TRAFFICGATE_COMPARE_ALPHA`` split in two halves:

- 5xx: :class:`~trafficgate.stats.ErrorShareTest` bets, minute by minute, that green's share of
  the 5xx answers exceeds its share of the requests; shown at ``alpha/2`` *and* an observed increase
  of green's 5xx rate over blue's above ``TRAFFICGATE_MAX_ERROR_RATE_INCREASE`` fails the step;
- latency: each minute with both Averages is a pair, scored by
  :func:`~trafficgate.stats.slowdown_pair` (the clipped log of green's time over the allowed time:
  ``TRAFFICGATE_MAX_LATENCY_INCREASE`` times blue's, or ``TRAFFICGATE_MIN_LATENCY_INCREASE_MS`` more)
  and fed to the latency test of :class:`~trafficgate.stats.PairedComparison`: shown slower at
  ``alpha/2`` fails the step, shown within the allowance at ``BETA`` lets it pass.

A failed gate answers FAILED, and ECS rolls back before more traffic moves. A gate with too little
traffic, or whose latency test is still open after the minutes it has, is inconclusive: its
built-in policy lets the step go on (canary steps are short, and a few minutes rarely decide a
latency test; that is not a pass).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from trafficgate import constants as env
from trafficgate.aws import AWS_ERRORS, read_error
from trafficgate.checks.base import Check, CheckError, CheckResult, NoDataPolicy, Policy
from trafficgate.probe.compare_spec import MAX_LATENCY_RATIO, CompareSpec
from trafficgate.probe.spec import LAMBDA_MAX_S
from trafficgate.ranges import Range, bounded
from trafficgate.stats import (
    SLOWER_THRESHOLD,
    ErrorShareTest,
    SequentialMean,
    slowdown_of,
    slowdown_pair,
)

if TYPE_CHECKING:
    from trafficgate.context import CheckContext

STEP_GATE_CHECK_ID = "cloudwatch.step_gate"

#: The built-in entry's policy: inconclusive (too little traffic, a latency test still open) lets
#: the step go on; a shown regression fails it. A plan entry may say ``on_inconclusive: fail``.
BUILTIN_POLICY = Policy(on_inconclusive="pass")

#: The chance, for a green slower than allowed, of ever calling its latency within the allowance
#: (the same as ``http.compare``'s).
BETA = 0.05

NAMESPACE = "AWS/ApplicationELB"
PERIOD_S = 60
#: (query id suffix, metric name, statistic): read for each side in the one GetMetricData call.
METRICS = (
    ("requests", "RequestCount", "Sum"),
    ("5xx", "HTTPCode_Target_5XX_Count", "Sum"),
    ("latency", "TargetResponseTime", "Average"),
)


@dataclass(frozen=True, kw_only=True)
class Minute:
    """One minute of both target groups' ALB metrics (``None``: no datapoint that minute)."""

    at: datetime
    green_requests: int = 0
    green_5xx: int = 0
    green_ms: float | None = None
    blue_requests: int = 0
    blue_5xx: int = 0
    blue_ms: float | None = None

    @property
    def compared(self) -> bool:
        """Both sides served requests this minute."""
        return self.green_requests > 0 and self.blue_requests > 0


def percent(rate: float) -> str:
    """``3.0 %``, ``0.19 %``, ``0 %``: a rate as a person reads it in a reason."""
    if rate == 0:
        return "0 %"
    shown = rate * 100.0
    return f"{shown:.1f} %" if shown >= 1.0 else f"{shown:.2g} %"


def judge_minutes(minutes: Sequence[Minute], spec: CompareSpec, *, min_requests: int, where: str = "") -> CheckResult:
    """Green against blue over per-minute counts and averages (pure: no I/O).

    Parameters
    ----------
    minutes
        The window's minutes, oldest first; only those where both sides served requests count.
    spec
        Margin, latency allowance and level, as ``http.compare`` reads them.
    min_requests
        Fewest requests each side must have served for a judgement; fewer is inconclusive.
    where
        What the reason adds about the window (weights and times).
    """
    compared = [m for m in minutes if m.compared]
    n_g = sum(m.green_requests for m in compared)
    n_b = sum(m.blue_requests for m in compared)
    e_g = sum(min(m.green_5xx, m.green_requests) for m in compared)
    e_b = sum(min(m.blue_5xx, m.blue_requests) for m in compared)
    suffix = f" ({where})" if where else ""
    threshold = {
        "max_error_rate_increase": spec.max_error_rate_increase,
        "max_latency_increase": spec.max_latency_increase,
        "min_latency_increase_ms": spec.min_latency_increase_ms,
        "alpha": spec.alpha,
        "min_requests": min_requests,
    }
    if min(n_g, n_b) < min_requests:
        return CheckResult.inconclusive(
            f"too little traffic to compare: green {n_g} requests, blue {n_b} in {len(compared)} minute(s) "
            f"where both served; at least {min_requests} on each side expected ({env.MIN_SAMPLES}){suffix}",
            value={"green_requests": n_g, "blue_requests": n_b},
            threshold=threshold,
            samples=min(n_g, n_b),
            details={"minutes": len(compared)},
        )
    half = spec.alpha / 2.0
    errors = ErrorShareTest(alpha=half)
    latency = SequentialMean(SLOWER_THRESHOLD, alpha_above=half, alpha_below=BETA)
    ratio, floor = spec.max_latency_increase, spec.min_latency_increase_ms
    scores: list[float] = []
    for m in compared:
        share = m.green_requests / (m.green_requests + m.blue_requests)
        errors.add(min(m.green_5xx, m.green_requests), min(m.blue_5xx, m.blue_requests), share)
        if m.green_ms is not None and m.blue_ms is not None:
            score = slowdown_pair(m.green_ms, m.blue_ms, ratio=ratio, floor_ms=floor)
            scores.append(score)
            latency.add(score)

    rate_g, rate_b = e_g / n_g, e_b / n_b
    increase = rate_g - rate_b
    margin = spec.max_error_rate_increase
    level = f"alpha {half:g} (e-value {errors.evidence:.3g} {{}} {1 / half:g})"
    five = f"green 5xx {e_g}/{n_g} ({percent(rate_g)}) vs blue {e_b}/{n_b} ({percent(rate_b)})"
    five_failed = errors.worse and increase > margin
    if five_failed:
        five += (
            f": green shown worse at {level.format('>=')} and by {increase * 100:.2f} points "
            f"> the {margin * 100:g}-point margin"
        )
    elif errors.worse:
        five += (
            f": green shown worse at {level.format('>=')}, but by {increase * 100:.2f} points "
            f"<= the {margin * 100:g}-point margin"
        )
    else:
        five += (
            f": green not shown worse at {level.format('<')}; {e_g} of the {errors.errors} 5xx from green, "
            f"{errors.expected_green:.1f} expected from its share of the requests"
        )

    allowance = f"x{ratio:g} or +{floor:g} ms, whichever is more"
    pairs = len(scores)
    slowdown = slowdown_of(sum(scores) / pairs) if pairs else None
    if pairs:
        paired = [m for m in compared if m.green_ms is not None and m.blue_ms is not None]
        g_ms = _weighted([(m.green_ms, m.green_requests) for m in paired])
        b_ms = _weighted([(m.blue_ms, m.blue_requests) for m in paired])
        lat = (
            f"latency (Average TargetResponseTime) green {g_ms:.0f} ms vs blue {b_ms:.0f} ms over {pairs} "
            f"minute pair(s), allowed {allowance} (green/allowed {slowdown:.2f})"
        )
    else:
        lat = "latency: no minute with a TargetResponseTime datapoint on both sides"
    slower = latency.decision == "above"
    within = latency.decision == "below"
    if slower:
        lat += f": green shown slower than allowed at alpha {half:g}"
    elif within:
        lat += f": shown within the allowance at beta {BETA:g}"
    elif pairs:
        lat += ": not shown either way yet (a verdict needs more minutes)"

    value = {
        "green_5xx_rate": round(rate_g, 6),
        "blue_5xx_rate": round(rate_b, 6),
        "error_increase": round(increase, 6),
        "slowdown": None if slowdown is None else round(slowdown, 4),
    }
    details = {
        "minutes": len(compared),
        "green": {"requests": n_g, "5xx": e_g},
        "blue": {"requests": n_b, "5xx": e_b},
        "errors": {
            "shown_worse": errors.worse,
            "evidence": errors.evidence,
            "green_share_expected": round(errors.expected_green, 3),
        },
        "latency": {
            "pairs": pairs,
            "decision": latency.decision,
            "evidence_slower": latency.evidence_above,
            "evidence_within": latency.evidence_below,
        },
    }
    kwargs: dict[str, Any] = {"value": value, "threshold": threshold, "details": details, "samples": min(n_g, n_b)}
    if five_failed or slower:
        parts = [p for p, failed in ((five, five_failed), (lat, slower)) if failed]
        return CheckResult.failed("; ".join(parts) + suffix, **kwargs)
    reason = f"{five}; {lat}{suffix}"
    if within:
        return CheckResult.passed(reason, **kwargs)
    return CheckResult.inconclusive(reason, **kwargs)


def _weighted(values: Sequence[tuple[float | None, int]]) -> float:
    total = sum(n for _, n in values)
    return sum((v or 0.0) * n for v, n in values) / total if total else 0.0


@dataclass(kw_only=True)
class StepGate(Check):
    """Green's 5xx rate and response time against blue's, from ALB metrics, at an ECS linear or canary step.

    Parameters
    ----------
    window_seconds
        How far back the per-minute window reaches (never before the service deployment started);
        ``TRAFFICGATE_STEP_WINDOW_SECONDS`` when omitted.
    max_error_rate_increase
        How much higher green's 5xx rate may be than blue's (absolute: 0.01 is one point);
        ``TRAFFICGATE_MAX_ERROR_RATE_INCREASE`` when omitted.
    max_latency_increase
        How many times slower than blue green's per-minute Average may be;
        ``TRAFFICGATE_MAX_LATENCY_INCREASE`` when omitted.
    min_latency_increase_ms
        A slowdown must also exceed this many milliseconds to count;
        ``TRAFFICGATE_MIN_LATENCY_INCREASE_MS`` when omitted.
    alpha
        False-rollback level, split between the 5xx and the latency test;
        ``TRAFFICGATE_COMPARE_ALPHA`` when omitted.
    """

    check_id: str = STEP_GATE_CHECK_ID
    window_seconds: int | None = bounded(None, Range(60, 86_400, integer=True))
    max_error_rate_increase: float | None = bounded(None, Range(0, 1, exclusive_maximum=True))
    max_latency_increase: float | None = bounded(None, Range(1, MAX_LATENCY_RATIO))
    min_latency_increase_ms: float | None = bounded(None, Range(0, LAMBDA_MAX_S * 1000))
    alpha: float | None = bounded(None, Range(0, 0.5, exclusive_minimum=True, exclusive_maximum=True))
    sample_unit: ClassVar[str] = "requests"

    def sample_defaults(self, ctx: CheckContext) -> tuple[int | None, NoDataPolicy]:
        return ctx.settings.min_samples, "inconclusive"

    def spec(self, ctx: CheckContext) -> CompareSpec:
        """The operator's comparison settings with this entry's overrides."""
        base = ctx.settings.comparison
        return CompareSpec(
            max_error_rate_increase=_or(self.max_error_rate_increase, base.max_error_rate_increase),
            max_latency_increase=_or(self.max_latency_increase, base.max_latency_increase),
            min_latency_increase_ms=_or(self.min_latency_increase_ms, base.min_latency_increase_ms),
            alpha=_or(self.alpha, base.alpha),
            max_requests=base.max_requests,
        )

    def run(self, ctx: CheckContext) -> CheckResult:
        if ctx.platform != "ecs":
            raise CheckError(
                f"{self.check_id} judges the steps of an Amazon ECS native linear or canary deployment "
                "(PRODUCTION_TRAFFIC_SHIFT); a CodeDeploy hook has no production traffic weights"
            )
        weights = ctx.production_traffic_weights
        if not weights:
            return CheckResult.inconclusive(
                "the event carries no executionDetails.productionTrafficWeights: which share of production "
                "reaches green is unknown, so there is nothing to compare"
            )
        deployment = ctx.deployment()
        green = deployment.green
        if green is None or not green.identifier:
            raise CheckError(f"service deployment {ctx.deployment_id} names no target (green) revision")
        green_weight = float(weights.get(green.identifier, 0.0))
        blue_weight = float(sum(w for arn, w in weights.items() if arn != green.identifier))
        shown = f"production weights green {green_weight:g} % / blue {blue_weight:g} %"
        if green_weight <= 0 or blue_weight <= 0:
            # Not inconclusive: ECS calls this stage at 100 % too (all at once, the last step, a
            # rollback), and a gate that cannot compare must not roll those back.
            side = "green" if green_weight <= 0 else "blue"
            return CheckResult.passed(
                f"{shown}: {side} serves no production traffic at this step, so there is nothing to compare "
                "(the gate compares the two while both serve production)",
                value={"green_weight": green_weight, "blue_weight": blue_weight},
            )
        green_group = deployment.green_target_group()
        blue_group = next((g for g in deployment.target_groups if g.arn and g.arn != green_group.arn), None)
        if blue_group is None or not blue_group.arn:
            raise CheckError(f"deployment {deployment.deployment_id} has no blue target group besides green's")
        listener = deployment.listener("prod")
        if listener is None:
            raise CheckError(f"deployment {deployment.deployment_id} has no production listener")

        window_s = self.window_seconds if self.window_seconds is not None else ctx.settings.step_window_seconds
        now = datetime.now(UTC)
        started = _deployment_started(ctx)
        start = now - timedelta(seconds=window_s)
        if started is not None and started > start:
            start = started
        start = start.replace(second=0, microsecond=0)
        end = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
        minutes = read_minutes(
            ctx,
            green=_suffix(green_group.arn or "", "targetgroup"),
            blue=_suffix(blue_group.arn, "targetgroup"),
            load_balancer=_suffix(listener.load_balancer_arn, "loadbalancer"),
            start=start,
            end=end,
        )
        minimum = self.policy.sample_rule(min_samples=ctx.settings.min_samples, no_data="inconclusive")[0] or 0
        where = f"{shown}, {start:%H:%M}-{end:%H:%M} UTC"
        result = judge_minutes(minutes, self.spec(ctx), min_requests=minimum, where=where)
        return CheckResult(
            outcome=result.outcome,
            reason=result.reason,
            value=result.value,
            threshold=result.threshold,
            samples=result.samples,
            details={
                **result.details,
                "window": [start.isoformat(), end.isoformat()],
                "weights": {"green": green_weight, "blue": blue_weight},
                "target_groups": {"green": green_group.name, "blue": blue_group.name},
            },
        )


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


def _suffix(arn: str, kind: str) -> str:
    """The CloudWatch dimension of an ELB ARN (``targetgroup/web/abc``, ``app/web/abc``)."""
    resource = arn.split(":", 5)[-1] if arn.count(":") >= 5 else ""
    if not resource.startswith(kind + "/") or resource.count("/") < 2:
        raise CheckError(f"{arn} is not an Application Load Balancer {kind} ARN")
    return resource if kind == "targetgroup" else resource.removeprefix("loadbalancer/")


def _deployment_started(ctx: CheckContext) -> datetime | None:
    """When the service deployment started (``startedAt``), or None when ECS does not say."""
    try:
        answer = ctx.aws.client("ecs").describe_service_deployments(serviceDeploymentArns=[ctx.deployment_id])
    except AWS_ERRORS as exc:
        raise read_error(f"service deployment {ctx.deployment_id}", exc) from None
    for found in answer.get("serviceDeployments") or []:
        started = found.get("startedAt") or found.get("createdAt")
        if isinstance(started, datetime):
            return started if started.tzinfo else started.replace(tzinfo=UTC)
    return None


def read_minutes(
    ctx: CheckContext, *, green: str, blue: str, load_balancer: str, start: datetime, end: datetime
) -> list[Minute]:
    """Both target groups' per-minute ALB metrics in ONE GetMetricData call (paged), oldest first."""
    queries = [
        {
            "Id": f"{side}_{suffix}",
            "MetricStat": {
                "Metric": {
                    "Namespace": NAMESPACE,
                    "MetricName": metric,
                    "Dimensions": [
                        {"Name": "TargetGroup", "Value": group},
                        {"Name": "LoadBalancer", "Value": load_balancer},
                    ],
                },
                "Period": PERIOD_S,
                "Stat": stat,
            },
            "ReturnData": True,
        }
        for side, group in (("green", green), ("blue", blue))
        for suffix, metric, stat in METRICS
    ]
    cloudwatch = ctx.aws.client("cloudwatch")
    series: dict[str, dict[datetime, float]] = {str(q["Id"]): {} for q in queries}
    token: str | None = None
    try:
        while True:
            extra = {"NextToken": token} if token else {}
            page = cloudwatch.get_metric_data(MetricDataQueries=queries, StartTime=start, EndTime=end, **extra)
            for result in page.get("MetricDataResults") or []:
                points = series.setdefault(str(result.get("Id", "")), {})
                for at, v in zip(result.get("Timestamps") or [], result.get("Values") or [], strict=False):
                    if isinstance(at, datetime) and isinstance(v, int | float) and math.isfinite(v):
                        points[_minute(at)] = float(v)
            token = page.get("NextToken")
            if not token:
                break
    except AWS_ERRORS as exc:
        raise read_error(f"CloudWatch metrics of target groups {green} and {blue}", exc) from None
    return minutes_of(series)


def minutes_of(series: Mapping[str, Mapping[datetime, float]]) -> list[Minute]:
    """Per-query series (``green_requests``, ``blue_latency``, ...) as :class:`Minute` rows, oldest first."""
    stamps = sorted({at for points in series.values() for at in points})

    def count(query: str, at: datetime) -> int:
        return max(0, round(series.get(query, {}).get(at, 0.0)))

    def ms(query: str, at: datetime) -> float | None:
        seconds = series.get(query, {}).get(at)
        return None if seconds is None or seconds < 0 else seconds * 1000.0

    return [
        Minute(
            at=at,
            green_requests=count("green_requests", at),
            green_5xx=count("green_5xx", at),
            green_ms=ms("green_latency", at),
            blue_requests=count("blue_requests", at),
            blue_5xx=count("blue_5xx", at),
            blue_ms=ms("blue_latency", at),
        )
        for at in stamps
    ]


def _minute(at: datetime) -> datetime:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC).replace(second=0, microsecond=0)
