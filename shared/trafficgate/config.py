"""Operator configuration: environment variables parsed and validated once, at start-up.

Layer L1 (engines): imports the leaves and the probe's spec; never checks, context or plans.
Precedence is written out once here: explicit argument → environment variable → default.
Every variable name lives in :mod:`trafficgate.constants`.

Every value is suspect until parsed. A number must be ASCII digits (``٣`` is not 3 here), finite
and inside the range declared on its field (the same :class:`~trafficgate.ranges.Range` the
template's ``MinValue``/``MaxValue`` must match); and whatever goes wrong while one variable is read,
the error names that variable. A hook with a bad configuration reports Failed; it never crashes.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from trafficgate import constants as env
from trafficgate.constants import SEVERITIES
from trafficgate.env_reader import EnvReader, arn, buckets, packages, resolve, url
from trafficgate.exceptions import ConfigError
from trafficgate.probe.compare_spec import CompareSpec
from trafficgate.probe.exceptions import ProbeConfigError
from trafficgate.probe.spec import DECISIONS, LAMBDA_MAX_S, ProbeSpec, StatusSet
from trafficgate.ranges import Range, RangeError, bounded, check_ranges, range_of

NoListenerPolicy = Literal["pass", "fail"]
ScanNoData = Literal["warn", "pass", "fail"]
MetricsNoData = Literal["pass", "fail", "inconclusive"]

DEFAULT_REPORT_BUDGET_MS = 2500
#: What a health check path answers when healthy, unless TRAFFICGATE_HEALTH_CHECK_STATUS says otherwise.
DEFAULT_HEALTH_CHECK_STATUS = StatusSet.parse("200")
#: What the margin holds on top of the report's budget: the summary, the metrics, the return.
REPORT_SLACK_MS = 500
DEFAULT_DEADLINE_MARGIN_MS = DEFAULT_REPORT_BUDGET_MS + REPORT_SLACK_MS
DEFAULT_REPORT_MAX_ATTEMPTS = 5
DEFAULT_METRICS_NAMESPACE = "Trafficgate"
DEFAULT_SERVICE_NAME = "trafficgate"
DEFAULT_LOG_LEVEL = "INFO"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_PLAN_SSM_PREFIX = "/trafficgate"
#: The longest a hook may wait across calls (a bake, an approval): one day, the longest ECS bake
#: (``bakeTimeInMinutes`` 1440) fits.
MAX_WAIT_S = 86_400.0
#: Longest value shown back in an error message (a 5,000-character regex need not be).


@dataclass(frozen=True, kw_only=True)
class ObservabilitySettings:
    """Logging, metrics and tracing: Powertools' own variables and ``TRAFFICGATE_TRACING``.

    Parameters
    ----------
    service_name
        ``POWERTOOLS_SERVICE_NAME``: the service on every log line and metric.
    metrics_namespace
        ``POWERTOOLS_METRICS_NAMESPACE``: the CloudWatch namespace of the EMF metrics.
    log_level
        ``POWERTOOLS_LOG_LEVEL``: one of DEBUG, INFO, WARNING, ERROR, CRITICAL.
    tracing
        ``TRAFFICGATE_TRACING``: wrap the handler in the Powertools Tracer (X-Ray).
    """

    service_name: str = DEFAULT_SERVICE_NAME
    metrics_namespace: str = DEFAULT_METRICS_NAMESPACE
    log_level: str = DEFAULT_LOG_LEVEL
    tracing: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ObservabilitySettings:
        """Read and validate; raise :class:`ConfigError` naming the first bad variable."""
        settings, problems = cls.parse(environ)
        if problems:
            raise ConfigError(problems[0])
        return settings

    @classmethod
    def parse(cls, environ: Mapping[str, str] | None = None) -> tuple[ObservabilitySettings, list[str]]:
        """Read leniently: a bad value falls back to its default and is listed as a problem.

        The logger and metrics objects are built at import time, when raising would leave the
        hook unable to answer at all; they use this, and the hook reports the problems through
        :meth:`from_env` instead.
        """
        e = os.environ if environ is None else environ
        problems: list[str] = []
        level = (EnvReader(e).raw(env.LOG_LEVEL) or DEFAULT_LOG_LEVEL).upper()
        if level not in LOG_LEVELS:
            problems.append(f"{env.LOG_LEVEL}={e.get(env.LOG_LEVEL)!r}: expected one of {', '.join(LOG_LEVELS)}")
            level = DEFAULT_LOG_LEVEL
        try:
            tracing = EnvReader(e).flag(env.TRACING, False)
        except ConfigError as exc:
            problems.append(str(exc))
            tracing = False
        settings = cls(
            service_name=EnvReader(e).raw(env.SERVICE_NAME) or DEFAULT_SERVICE_NAME,
            metrics_namespace=EnvReader(e).raw(env.METRICS_NAMESPACE) or DEFAULT_METRICS_NAMESPACE,
            log_level=level,
            tracing=tracing,
        )
        return settings, problems


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything an operator can set, validated.

    Parameters
    ----------
    deadline_margin_ms
        Time kept in reserve before the Lambda deadline for the report to CodeDeploy: the report's
        budget plus 500 ms unless set (and then at least that).
    report_max_attempts, report_budget_ms
        Attempts, first call included, for PutLifecycleEventHookExecutionStatus, and the wall-clock
        budget they share: attempts stop at whichever ends first.
    observability
        Service name, metrics namespace, log level and tracing (see :class:`ObservabilitySettings`).
    test_url, prod_url
        Override the discovered base URL of the test or production listener.
    no_test_listener_policy
        What AfterAllowTestTraffic does when the group has no test listener.
    probe
        The probe burst and its assertions (``TRAFFICGATE_PROBE_*``, TLS, Host and
        ``TRAFFICGATE_RESOLVE`` settings).
    compare, comparison
        Whether the built-in plans compare green with blue (``TRAFFICGATE_COMPARE``), and the
        comparison's thresholds, level and cap (see :class:`~trafficgate.probe.compare_spec.CompareSpec`).
    auth_secret_arn
        Secrets Manager secret whose JSON object holds probe request headers.
    verdict_topic_arn
        SNS topic that receives every verdict, after the report.
    disabled_checks
        Check ids switched off in the default plans.
    required_env
        Environment variable names every container of the new task definition must set.
    health_check_status
        Codes the green target group's health check path answers with when healthy; its matcher
        must accept each (``elb.health_check_config``).
    scan_severity, scan_no_data
        Lowest ECR finding severity that fails, and what an unscanned image means.
    steady_timeout_s
        How long AfterInstall polls for a steady green task set.
    alarms
        Extra CloudWatch alarm names (``prefix*`` allowed) on top of the group's alarms.
    bake_seconds, max_5xx_rate, max_target_p95_ms, max_unhealthy_hosts, min_samples, metrics_no_data
        AfterAllowTraffic's CloudWatch window and thresholds, and the defaults of the CloudWatch
        checks' no-data rule (a plan's ``min_samples``/``no_data`` override them per check).
    continuation, max_wait_s
        Whether a check that needs more time than one invocation continues the hook (ECS
        ``IN_PROGRESS``; CodeDeploy: the function invokes itself), and for how long at most on ECS
        (CodeDeploy: within its one-hour hook limit).
    progress_key_arn
        The HMAC KMS key that seals a continuing hook's progress (:mod:`trafficgate.seal`); None
        leaves it unsealed (local runs).
    step_window_seconds
        How far back the ECS per-step canary gate (``cloudwatch.step_gate``) reads its per-minute
        metrics; never before the service deployment started.
    plan_file, plan_ssm_prefix
        Where a check plan comes from: ``<prefix>/<application>/<group>`` in SSM first, then the file.
    check_packages
        Top-level packages a plan's custom checks may be imported from; empty: no custom checks.
    appspec_buckets
        S3 buckets an AppSpec revision (``revisionType: S3``) may be read from.
    """

    deadline_margin_ms: int = bounded(DEFAULT_DEADLINE_MARGIN_MS, Range(500, 120_000, integer=True))
    report_max_attempts: int = bounded(DEFAULT_REPORT_MAX_ATTEMPTS, Range(1, 10, integer=True))
    report_budget_ms: int = bounded(DEFAULT_REPORT_BUDGET_MS, Range(500, 60_000, integer=True))
    observability: ObservabilitySettings = field(default_factory=ObservabilitySettings)
    test_url: str | None = None
    prod_url: str | None = None
    no_test_listener_policy: NoListenerPolicy = "pass"
    auth_secret_arn: str | None = None
    verdict_topic_arn: str | None = None
    probe: ProbeSpec = field(default_factory=ProbeSpec)
    compare: bool = True
    comparison: CompareSpec = field(default_factory=CompareSpec)
    disabled_checks: frozenset[str] = frozenset()
    required_env: tuple[str, ...] = ()
    health_check_status: StatusSet = DEFAULT_HEALTH_CHECK_STATUS
    scan_severity: str = "CRITICAL"
    scan_no_data: ScanNoData = "warn"
    steady_timeout_s: float = bounded(60.0, Range(0, LAMBDA_MAX_S))
    alarms: tuple[str, ...] = ()
    bake_seconds: float = bounded(60.0, Range(0, MAX_WAIT_S))
    continuation: bool = True
    max_wait_s: float = bounded(86_400.0, Range(0, MAX_WAIT_S))
    progress_key_arn: str | None = None
    max_5xx_rate: float = bounded(0.01, Range(0, 1))
    max_target_p95_ms: float = bounded(1000.0, Range(0, LAMBDA_MAX_S * 1000, exclusive_minimum=True))
    max_unhealthy_hosts: float = bounded(0.0, Range(0, 10_000))
    min_samples: int = bounded(10, Range(0, 1_000_000_000, integer=True))
    metrics_no_data: MetricsNoData = "pass"
    step_window_seconds: int = bounded(3600, Range(60, 86_400, integer=True))
    plan_file: str | None = None
    plan_ssm_prefix: str | None = DEFAULT_PLAN_SSM_PREFIX
    check_packages: frozenset[str] = frozenset()
    appspec_buckets: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        check_ranges(self)  # a Settings built in code obeys the same ranges as the environment
        if self.deadline_margin_ms < self.report_budget_ms + REPORT_SLACK_MS:
            raise ConfigError(
                f"{env.DEADLINE_MARGIN_MS}={self.deadline_margin_ms} leaves no room for the report: it must be at "
                f"least {env.REPORT_BUDGET_MS} ({self.report_budget_ms}) + {REPORT_SLACK_MS} = "
                f"{self.report_budget_ms + REPORT_SLACK_MS}"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate every variable; raise :class:`ConfigError` naming the first bad one."""
        r = EnvReader(os.environ if environ is None else environ)
        budget = r.number(env.REPORT_BUDGET_MS, cls, "report_budget_ms")
        # The margin is derived from the report's budget; an operator may only widen it.
        margin = r.number(env.DEADLINE_MARGIN_MS, cls, "deadline_margin_ms") if r.raw(env.DEADLINE_MARGIN_MS) else (
            budget + REPORT_SLACK_MS
        )
        return cls(
            deadline_margin_ms=margin,
            report_budget_ms=budget,
            report_max_attempts=r.number(env.REPORT_MAX_ATTEMPTS, cls, "report_max_attempts"),
            observability=r.read(env.LOG_LEVEL, lambda: ObservabilitySettings.from_env(r.environ)),
            test_url=r.read(env.TEST_URL, lambda: url(r, env.TEST_URL)),
            prod_url=r.read(env.PROD_URL, lambda: url(r, env.PROD_URL)),
            no_test_listener_policy=r.choice(env.NO_TEST_LISTENER_POLICY, ("pass", "fail"), "pass"),
            auth_secret_arn=r.read(env.AUTH_SECRET_ARN, lambda: arn(r, env.AUTH_SECRET_ARN)),
            verdict_topic_arn=r.read(env.VERDICT_TOPIC_ARN, lambda: arn(r, env.VERDICT_TOPIC_ARN, service="sns")),
            probe=_probe_spec(r),
            compare=r.flag(env.COMPARE, True),
            comparison=_compare_spec(r),
            disabled_checks=frozenset(r.names(env.DISABLED_CHECKS)),
            required_env=r.names(env.REQUIRED_ENV),
            health_check_status=_status_set(r, env.HEALTH_CHECK_STATUS, DEFAULT_HEALTH_CHECK_STATUS),
            scan_severity=r.choice(env.SCAN_SEVERITY, SEVERITIES, "CRITICAL", upper=True),
            scan_no_data=r.choice(env.SCAN_NO_DATA, ("warn", "pass", "fail"), "warn"),
            steady_timeout_s=r.number(env.STEADY_TIMEOUT_S, cls, "steady_timeout_s"),
            alarms=r.names(env.ALARMS),
            bake_seconds=r.number(env.BAKE_SECONDS, cls, "bake_seconds"),
            continuation=r.flag(env.CONTINUATION, True),
            max_wait_s=r.number(env.MAX_WAIT_SECONDS, cls, "max_wait_s"),
            progress_key_arn=r.read(env.PROGRESS_KEY_ARN, lambda: arn(r, env.PROGRESS_KEY_ARN, service="kms")),
            max_5xx_rate=r.number(env.MAX_5XX_RATE, cls, "max_5xx_rate"),
            max_target_p95_ms=r.number(env.MAX_TARGET_P95_MS, cls, "max_target_p95_ms"),
            max_unhealthy_hosts=r.number(env.MAX_UNHEALTHY_HOSTS, cls, "max_unhealthy_hosts"),
            min_samples=r.number(env.MIN_SAMPLES, cls, "min_samples"),
            metrics_no_data=r.choice(env.METRICS_NO_DATA, ("pass", "fail", "inconclusive"), "pass"),
            step_window_seconds=r.number(env.STEP_WINDOW_SECONDS, cls, "step_window_seconds"),
            plan_file=r.text(env.PLAN_FILE),
            plan_ssm_prefix=r.read(env.PLAN_SSM_PREFIX, lambda: _ssm_prefix(r, env.PLAN_SSM_PREFIX)),
            check_packages=frozenset(r.read(env.CHECK_PACKAGES, lambda: packages(r, env.CHECK_PACKAGES))),
            appspec_buckets=frozenset(r.read(env.APPSPEC_BUCKETS, lambda: buckets(r, env.APPSPEC_BUCKETS))),
        )


#: Every number an operator sets, with the dataclass field whose range bounds it. The template's
#: parameters must carry the same ranges (a test compares them).
NUMERIC_VARIABLES: Mapping[str, tuple[type, str]] = {
    env.DEADLINE_MARGIN_MS: (Settings, "deadline_margin_ms"),
    env.REPORT_MAX_ATTEMPTS: (Settings, "report_max_attempts"),
    env.REPORT_BUDGET_MS: (Settings, "report_budget_ms"),
    env.STEADY_TIMEOUT_S: (Settings, "steady_timeout_s"),
    env.BAKE_SECONDS: (Settings, "bake_seconds"),
    env.MAX_WAIT_SECONDS: (Settings, "max_wait_s"),
    env.MAX_5XX_RATE: (Settings, "max_5xx_rate"),
    env.MAX_TARGET_P95_MS: (Settings, "max_target_p95_ms"),
    env.MAX_UNHEALTHY_HOSTS: (Settings, "max_unhealthy_hosts"),
    env.MIN_SAMPLES: (Settings, "min_samples"),
    env.STEP_WINDOW_SECONDS: (Settings, "step_window_seconds"),
    env.PROBE_REQUESTS: (ProbeSpec, "requests"),
    env.PROBE_CONCURRENCY: (ProbeSpec, "concurrency"),
    env.REQUEST_TIMEOUT_S: (ProbeSpec, "timeout_s"),
    env.MIN_SUCCESS_RATE: (ProbeSpec, "min_success_rate"),
    env.PROBE_ALPHA: (ProbeSpec, "alpha"),
    env.MAX_P95_MS: (ProbeSpec, "max_p95_ms"),
    env.MAX_ERROR_RATE_INCREASE: (CompareSpec, "max_error_rate_increase"),
    env.DETECT_ERROR_RATE_INCREASE: (CompareSpec, "detect_error_rate_increase"),
    env.MAX_LATENCY_INCREASE: (CompareSpec, "max_latency_increase"),
    env.MIN_LATENCY_INCREASE_MS: (CompareSpec, "min_latency_increase_ms"),
    env.COMPARE_ALPHA: (CompareSpec, "alpha"),
    env.COMPARE_MAX_REQUESTS: (CompareSpec, "max_requests"),
}


def variable_range(name: str) -> Range:
    """The range of the numeric variable ``name`` (declared on the field it sets)."""
    owner, field_name = NUMERIC_VARIABLES[name]
    found = range_of(next(f for f in dataclasses.fields(owner) if f.name == field_name))
    assert found is not None, f"{owner.__name__}.{field_name} declares no range"
    return found


def _ssm_prefix(r: EnvReader, name: str) -> str | None:
    raw = r.raw(name)
    if raw is None:
        return DEFAULT_PLAN_SSM_PREFIX
    if raw.lower() in {"off", "none", "false"}:
        return None
    if not raw.startswith("/") or raw.endswith("/") or " " in raw:
        raise ConfigError(f"{name}={r.shown(name)}: expected an SSM path such as /trafficgate, or off")
    return raw


def _status_set(r: EnvReader, name: str, default: StatusSet) -> StatusSet:
    raw = r.raw(name)
    if raw is None:
        return default
    try:
        return StatusSet.parse(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={r.shown(name)}: expected codes and ranges such as 200 or 200,302 ({exc})") from None


def _compare_spec(r: EnvReader) -> CompareSpec:
    values = {
        "max_error_rate_increase": r.number(env.MAX_ERROR_RATE_INCREASE, CompareSpec, "max_error_rate_increase"),
        "detect_error_rate_increase": r.number(
            env.DETECT_ERROR_RATE_INCREASE, CompareSpec, "detect_error_rate_increase"
        ),
        "max_latency_increase": r.number(env.MAX_LATENCY_INCREASE, CompareSpec, "max_latency_increase"),
        "min_latency_increase_ms": r.number(env.MIN_LATENCY_INCREASE_MS, CompareSpec, "min_latency_increase_ms"),
        "alpha": r.number(env.COMPARE_ALPHA, CompareSpec, "alpha"),
        "max_requests": r.number(env.COMPARE_MAX_REQUESTS, CompareSpec, "max_requests"),
    }
    try:
        return CompareSpec(**values)
    except RangeError as exc:  # a rule across fields (each one's range was checked as it was read)
        detect, margin = env.DETECT_ERROR_RATE_INCREASE, env.MAX_ERROR_RATE_INCREASE
        if exc.field != "detect_error_rate_increase":
            raise ConfigError(f"comparison settings: {exc}") from None
        raise ConfigError(
            f"{detect}={r.shown(detect)}: expected at least {margin} ({values['max_error_rate_increase']:g}): "
            f"a pass shows green less than this much worse than blue, and a green within the tolerated "
            f"increase must be able to pass"
        ) from None


def _probe_spec(r: EnvReader) -> ProbeSpec:
    accepted_raw = r.raw(env.ACCEPTED_STATUS) or "200-399"
    try:
        accepted = StatusSet.parse(accepted_raw)
    except ValueError as exc:
        raise ConfigError(
            f"{env.ACCEPTED_STATUS}={r.shown(env.ACCEPTED_STATUS)}: "
            f"expected codes and ranges such as 200-399,404 ({exc})"
        ) from None
    ca_bundle = r.raw(env.CA_BUNDLE)
    if ca_bundle is not None and not os.path.isfile(ca_bundle):
        raise ConfigError(f"{env.CA_BUNDLE}={r.shown(env.CA_BUNDLE)}: expected the path of a PEM file that exists")
    path = r.raw(env.PROBE_PATH) or "/"
    if not path.startswith("/"):
        raise ConfigError(f"{env.PROBE_PATH}={r.shown(env.PROBE_PATH)}: expected a path starting with /")
    values = {
        "path": path,
        "requests": r.number(env.PROBE_REQUESTS, ProbeSpec, "requests"),
        "concurrency": r.number(env.PROBE_CONCURRENCY, ProbeSpec, "concurrency"),
        "timeout_s": r.number(env.REQUEST_TIMEOUT_S, ProbeSpec, "timeout_s"),
        "accepted_status": accepted,
        "min_success_rate": r.number(env.MIN_SUCCESS_RATE, ProbeSpec, "min_success_rate"),
        "decision": r.choice(env.PROBE_DECISION, DECISIONS, "sequential"),
        "alpha": r.number(env.PROBE_ALPHA, ProbeSpec, "alpha"),
        "max_p95_ms": r.number(env.MAX_P95_MS, ProbeSpec, "max_p95_ms"),
        "body_regex": r.raw(env.BODY_REGEX),
        "host_header": r.raw(env.HOST_HEADER),
        "tls_verify": r.flag(env.TLS_VERIFY, True),
        "ca_bundle": ca_bundle,
        "resolve": r.read(env.RESOLVE, lambda: resolve(r, env.RESOLVE)),
    }
    try:
        return ProbeSpec(**values)
    except ProbeConfigError as exc:  # ProbeSpec's own validation: name the variable behind the field
        name = _PROBE_FIELD_VARIABLES.get(exc.field or "")
        if name is None:
            raise ConfigError(f"probe settings: {exc}") from None
        raise ConfigError(f"{name}={r.shown(name)}: {exc}") from None
    except Exception as exc:  # RE2 or a parser choking on a hostile value: still named
        raise ConfigError(f"probe settings could not be read ({type(exc).__name__})") from None


#: ProbeSpec field -> the variable that sets it, so validation errors name what to fix.
_PROBE_FIELD_VARIABLES = {
    "path": env.PROBE_PATH,
    "requests": env.PROBE_REQUESTS,
    "concurrency": env.PROBE_CONCURRENCY,
    "timeout_s": env.REQUEST_TIMEOUT_S,
    "min_success_rate": env.MIN_SUCCESS_RATE,
    "decision": env.PROBE_DECISION,
    "alpha": env.PROBE_ALPHA,
    "max_p95_ms": env.MAX_P95_MS,
    "body_regex": env.BODY_REGEX,
    "host_header": env.HOST_HEADER,
    "ca_bundle": env.CA_BUNDLE,
    "resolve": env.RESOLVE,
}
