"""AfterAllowTraffic's CloudWatch checks: 5xx rate, p95 latency and unhealthy hosts of green, after a bake.

Layer L2 (one family of checks sharing one read; no other check imports it).

Production traffic reaches green when AfterAllowTraffic runs. The first metric check of an
invocation waits ``bake_seconds`` (never past the hook's deadline), then ONE ``GetMetricData``
call reads the green target group's Application Load Balancer metrics for the window; the
three checks judge that one answer, kept in the context's per-invocation cache.

ALB metrics have one-minute resolution, so the window is the last ``bake_seconds`` widened
outwards to whole minutes, read as a single period: one datapoint per metric.

A bake longer than the invocation can hold continues the hook (:meth:`CheckResult.wait`): the
first metric check answers "waiting" with when the bake began, and the hook runs it again once
the bake is over (ECS ``IN_PROGRESS``; CodeDeploy: the function invokes itself). Where the hook
cannot wait that long (CodeDeploy's hour, ``TRAFFICGATE_MAX_WAIT_SECONDS``), the bake is cut, and
the reason says so.
"""

from __future__ import annotations

import dataclasses
import time
from abc import abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from trafficgate import constants as env
from trafficgate.aws import AWS_ERRORS, read_error
from trafficgate.checks.base import Check, CheckError, CheckResult, NoDataPolicy

if TYPE_CHECKING:
    from trafficgate.context import CheckContext

FIVE_XX_RATE_CHECK_ID = "cloudwatch.5xx_rate"
TARGET_P95_CHECK_ID = "cloudwatch.target_p95"
UNHEALTHY_HOSTS_CHECK_ID = "cloudwatch.unhealthy_hosts"

NAMESPACE = "AWS/ApplicationELB"
#: (query id, metric name, statistic) read in the one GetMetricData call.
QUERIES = (
    ("requests", "RequestCount", "Sum"),
    ("target_5xx", "HTTPCode_Target_5XX_Count", "Sum"),
    ("target_p95", "TargetResponseTime", "p95"),
    ("unhealthy", "UnHealthyHostCount", "Maximum"),
)
#: Per-invocation cache key: when the bake began (epoch seconds; from the waiting state when the
#: hook continues). The first metric check of a hook bakes; the others find it here and read the
#: same window.
BAKE_STARTED_AT = "cloudwatch.bake_started_at"
_WINDOW = "cloudwatch.window"
#: Kept after the bake for the GetMetricData read itself (a slow answer and one retry).
READ_RESERVE_S = 10.0
_BAKE_STEP_S = 1.0


@dataclass(frozen=True, kw_only=True)
class MetricWindow:
    """What CloudWatch said about green over the bake window.

    ``values`` holds, per query id, the aggregate over the window (Sum: sum, Maximum and
    percentiles: the largest period value), or None when CloudWatch returned no datapoint.
    """

    start: datetime
    end: datetime
    target_group: str
    load_balancer: str
    values: dict[str, float | None]
    datapoints: dict[str, int]
    warnings: tuple[str, ...] = ()

    def describe(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M} UTC"

    def details(self) -> dict[str, Any]:
        return {
            "window": [self.start.isoformat(), self.end.isoformat()],
            "dimensions": {"TargetGroup": self.target_group, "LoadBalancer": self.load_balancer},
            "values": dict(self.values),
            "datapoints": dict(self.datapoints),
        }


def arn_suffix(arn: str, kind: str) -> str:
    """The CloudWatch dimension value of an ELB ARN.

    ``...:targetgroup/web/abc`` gives ``targetgroup/web/abc``; ``...:loadbalancer/app/web/abc``
    gives ``app/web/abc``.

    Raises
    ------
    CheckError
        When the ARN is not one of ``kind`` (``targetgroup`` or ``loadbalancer``).
    """
    resource = arn.split(":", 5)[-1] if arn.count(":") >= 5 else ""
    if not resource.startswith(kind + "/") or resource.count("/") < 2:
        raise CheckError(f"{arn} is not an Application Load Balancer {kind} ARN")
    return resource if kind == "targetgroup" else resource.removeprefix("loadbalancer/")


def metric_window(ctx: CheckContext, check_id: str) -> MetricWindow:
    """Bake (once per invocation), then read the window's metrics (once per invocation).

    Raises
    ------
    CheckError
        The green target group or production load balancer is unknown, or CloudWatch cannot be
        read; every metric check of the invocation then reports the same error.
    """
    cached = ctx.cache.get(_WINDOW)
    if isinstance(cached, MetricWindow):
        return cached
    started_at = bake_started_at(ctx)
    # The bake's start as this process's monotonic clock sees it (the bake may have begun in an
    # earlier call of the hook).
    started = time.monotonic() - max(0.0, time.time() - started_at)
    # Only a successful read is shared: after an error, a retry (plan policy) or the next metric
    # check reads again, without baking again.
    window = _bake_and_read(ctx, check_id, started)
    ctx.cache[_WINDOW] = window
    return window


def bake_started_at(ctx: CheckContext) -> float:
    """When the bake began (epoch seconds): as the waiting state says, else now, once per invocation."""
    resumed = ctx.resumed_time("bake_started_at")
    if resumed is not None:
        ctx.cache.setdefault(BAKE_STARTED_AT, min(resumed, time.time()))
    started_at: float = ctx.cache.setdefault(BAKE_STARTED_AT, time.time())
    return started_at


def bake_wait(ctx: CheckContext) -> CheckResult | None:
    """"Waiting" when the rest of the bake does not fit in this invocation and the hook can continue.

    The hook then runs the check again when the bake is over, or at the latest moment it may
    wait until (where the bake is cut). None: bake here (what fits) and read.
    """
    if _WINDOW in ctx.cache:
        return None
    started_at = bake_started_at(ctx)
    bake_s = ctx.settings.bake_seconds
    now = time.time()
    end_at = started_at + bake_s
    here_until = now + (ctx.deadline - READ_RESERVE_S - ctx.time_after_s - time.monotonic())
    if end_at <= max(now, here_until) or ctx.wait_until is None or ctx.wait_until <= max(now, here_until):
        return None  # the bake is over, or fits here, or cannot be waited for: read now
    resume_at = min(end_at, ctx.wait_until)
    if not ctx.can_wait_until(resume_at):
        return None
    return CheckResult.wait(
        f"baking: {now - started_at:.0f} s of {bake_s:.0f} s; the metrics are read when the bake is over, "
        f"in {resume_at - now:.0f} s",
        after_s=resume_at - now,
        state={"bake_started_at": round(started_at, 3)},
    )


def _bake_and_read(ctx: CheckContext, check_id: str, started: float) -> MetricWindow:
    deployment = ctx.deployment()
    target_group = deployment.green_target_group()
    listener = deployment.listener("prod")
    if listener is None:
        raise CheckError(f"deployment {deployment.deployment_id} has no production listener")
    tg_dimension = arn_suffix(target_group.arn or "", "targetgroup")
    lb_dimension = arn_suffix(listener.load_balancer_arn, "loadbalancer")

    bake_s = ctx.settings.bake_seconds
    warnings: list[str] = []
    progress = ctx.progress(check_id)
    until = started + bake_s
    # Everything after the bake must fit before the deadline: this read, and the checks after it.
    # What has been baked already (an earlier call of the hook began the bake) is never cut.
    latest = max(ctx.deadline - READ_RESERVE_S - ctx.time_after_s, time.monotonic())
    if until > latest:
        # Judge a shorter bake rather than none, and say so: the report must reach CodeDeploy in time.
        cut = max(0.0, latest - started)
        warnings.append(
            f"bake cut to {cut:.0f} s of {bake_s:.0f} s so that the metric read and the checks after it fit "
            f"before the hook's deadline (raise the function's Timeout or lower {env.BAKE_SECONDS})"
        )
        until = started + cut
    while (now := time.monotonic()) < until:
        if progress is not None:
            progress(int(now - started), int(bake_s))
        if not ctx.sleep(min(_BAKE_STEP_S, until - now)):
            raise CheckError("called off: the hook reported without this check")
    if progress is not None:
        progress(int(bake_s), int(bake_s))

    baked_s = max(0.0, time.monotonic() - started)
    end_now = datetime.now(UTC)
    end = end_now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    # From the bake's start: a call that resumes late still reads the first minutes after the shift.
    start = (end_now - timedelta(seconds=baked_s)).replace(second=0, microsecond=0)
    period = int((end - start).total_seconds())
    dimensions = [{"Name": "TargetGroup", "Value": tg_dimension}, {"Name": "LoadBalancer", "Value": lb_dimension}]
    queries = [
        {
            "Id": query_id,
            "MetricStat": {
                "Metric": {"Namespace": NAMESPACE, "MetricName": metric, "Dimensions": dimensions},
                "Period": period,
                "Stat": stat,
            },
            "ReturnData": True,
        }
        for query_id, metric, stat in QUERIES
    ]
    cloudwatch = ctx.aws.client("cloudwatch")
    results: list[dict[str, Any]] = []
    token: str | None = None
    try:
        while True:
            extra = {"NextToken": token} if token else {}
            page = cloudwatch.get_metric_data(MetricDataQueries=queries, StartTime=start, EndTime=end, **extra)
            results.extend(page.get("MetricDataResults") or [])
            token = page.get("NextToken")
            if not token:
                break
    except AWS_ERRORS as exc:
        raise read_error(f"CloudWatch metrics of {target_group.name}", exc) from None

    merged: dict[str, list[float]] = {query_id: [] for query_id, _, _ in QUERIES}
    for result in results:
        merged.setdefault(result.get("Id", ""), []).extend(float(v) for v in result.get("Values") or [])
    values: dict[str, float | None] = {}
    for query_id, _, stat in QUERIES:
        points = merged[query_id]
        values[query_id] = (sum(points) if stat == "Sum" else max(points)) if points else None
    return MetricWindow(
        start=start,
        end=end,
        target_group=tg_dimension,
        load_balancer=lb_dimension,
        values=values,
        datapoints={query_id: len(points) for query_id, points in merged.items()},
        warnings=tuple(warnings),
    )


@dataclass(kw_only=True)
class MetricCheck(Check):
    """Base of the AfterAllowTraffic metric checks: bake, read once, judge one metric.

    A check reports how many samples its verdict rests on; the runner's one no-data rule judges
    that, with ``TRAFFICGATE_MIN_SAMPLES`` and ``TRAFFICGATE_METRICS_NO_DATA`` as this family's
    defaults (a plan entry's ``min_samples``/``no_data`` override them).
    """

    check_id: str = ""
    sample_unit: ClassVar[str] = "requests"

    def run(self, ctx: CheckContext) -> CheckResult:
        waiting = bake_wait(ctx)
        if waiting is not None:
            return waiting
        window = metric_window(ctx, self.check_id)
        result = self.judge(ctx, window)
        # A cut bake judges less traffic than configured: the reason says so, not only the warnings.
        cut = "".join(f"; {w}" for w in window.warnings if w.startswith("bake cut"))
        return dataclasses.replace(
            result,
            reason=result.reason + cut,
            details={**window.details(), **result.details},
            warnings=(*window.warnings, *result.warnings),
        )

    def sample_defaults(self, ctx: CheckContext) -> tuple[int | None, NoDataPolicy]:
        return ctx.settings.min_samples, ctx.settings.metrics_no_data

    def expected_s(self, ctx: CheckContext) -> float:
        # The bake clips itself to fit what follows it, so only the one read counts, and the family of
        # three shares it; once read, the window is cached.
        return 0.5 if _WINDOW in ctx.cache else READ_RESERVE_S / 3

    @abstractmethod
    def judge(self, ctx: CheckContext, window: MetricWindow) -> CheckResult:
        """Judge the one metric this check is about; ``samples`` says what the judgement rests on."""


def _requests(window: MetricWindow) -> int:
    return int(window.values["requests"] or 0)


@dataclass(kw_only=True)
class FiveXxRate(MetricCheck):
    """Share of green's requests answered 5xx by the targets (``HTTPCode_Target_5XX_Count / RequestCount``)."""

    check_id: str = FIVE_XX_RATE_CHECK_ID

    def judge(self, ctx: CheckContext, window: MetricWindow) -> CheckResult:
        limit = ctx.settings.max_5xx_rate
        requests = _requests(window)
        if window.values["requests"] is None:
            return CheckResult.inconclusive("no RequestCount datapoints", threshold=limit, samples=0)
        errors = window.values["target_5xx"] or 0.0
        rate = errors / requests if requests else 0.0
        text = f"5xx rate {rate:.4f} {{}} {limit:.4f} ({errors:.0f}/{requests} requests, {window.describe()})"
        make = CheckResult.failed if rate > limit else CheckResult.passed
        return make(text.format(">" if rate > limit else "<="), value=round(rate, 6), threshold=limit, samples=requests)


@dataclass(kw_only=True)
class TargetP95(MetricCheck):
    """p95 of green's ``TargetResponseTime`` (seconds in CloudWatch), compared in milliseconds."""

    check_id: str = TARGET_P95_CHECK_ID

    def judge(self, ctx: CheckContext, window: MetricWindow) -> CheckResult:
        limit = ctx.settings.max_target_p95_ms
        requests = _requests(window)
        p95_s = window.values["target_p95"]
        if p95_s is None:
            # No response time measured: nothing to judge, whatever RequestCount says.
            return CheckResult.inconclusive("no TargetResponseTime datapoints", threshold=limit, samples=0)
        p95_ms = p95_s * 1000.0
        text = f"target p95 {p95_ms:.0f} ms {{}} {limit:.0f} ms ({requests} requests, {window.describe()})"
        make = CheckResult.failed if p95_ms > limit else CheckResult.passed
        return make(
            text.format(">" if p95_ms > limit else "<="), value=round(p95_ms, 1), threshold=limit, samples=requests
        )


@dataclass(kw_only=True)
class UnhealthyHosts(MetricCheck):
    """Most unhealthy hosts green's target group had during the window (``UnHealthyHostCount`` Maximum).

    Host health does not depend on traffic, so its samples are datapoints, not requests: one is
    enough, and only a missing datapoint applies the no-data rule.
    """

    check_id: str = UNHEALTHY_HOSTS_CHECK_ID
    sample_unit: ClassVar[str] = "datapoints"

    def sample_defaults(self, ctx: CheckContext) -> tuple[int | None, NoDataPolicy]:
        return 1, ctx.settings.metrics_no_data

    def judge(self, ctx: CheckContext, window: MetricWindow) -> CheckResult:
        limit = ctx.settings.max_unhealthy_hosts
        hosts = window.values["unhealthy"]
        if hosts is None:
            return CheckResult.inconclusive("no UnHealthyHostCount datapoints", threshold=limit, samples=0)
        text = f"max UnHealthyHostCount {hosts:g} {{}} {limit:g} ({window.describe()})"
        make = CheckResult.failed if hosts > limit else CheckResult.passed
        samples = window.datapoints.get("unhealthy", 1)
        return make(text.format(">" if hosts > limit else "<="), value=hosts, threshold=limit, samples=samples)
