"""Operator configuration: environment variables parsed and validated once, at start-up.

Layer L1 (engines): imports the leaves and the probe's spec; never checks, context or plans.
Precedence is written out once here: explicit argument → environment variable → default.
Every variable name lives in :mod:`trafficgate.constants`.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from trafficgate import constants as env
from trafficgate.constants import SEVERITIES
from trafficgate.exceptions import ConfigError
from trafficgate.probe.exceptions import ProbeConfigError
from trafficgate.probe.spec import ProbeSpec, StatusSet

NoListenerPolicy = Literal["pass", "fail"]
ScanNoData = Literal["warn", "pass", "fail"]
MetricsNoData = Literal["pass", "fail", "inconclusive"]

DEFAULT_DEADLINE_MARGIN_MS = 3000
DEFAULT_REPORT_MAX_ATTEMPTS = 5
DEFAULT_METRICS_NAMESPACE = "Trafficgate"
DEFAULT_SERVICE_NAME = "trafficgate"
DEFAULT_LOG_LEVEL = "INFO"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_PLAN_SSM_PREFIX = "/trafficgate"


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
        level = (_str(e, env.LOG_LEVEL) or DEFAULT_LOG_LEVEL).upper()
        if level not in LOG_LEVELS:
            problems.append(f"{env.LOG_LEVEL}={e.get(env.LOG_LEVEL)!r}: expected one of {', '.join(LOG_LEVELS)}")
            level = DEFAULT_LOG_LEVEL
        try:
            tracing = _bool(e, env.TRACING, False)
        except ConfigError as exc:
            problems.append(str(exc))
            tracing = False
        settings = cls(
            service_name=_str(e, env.SERVICE_NAME) or DEFAULT_SERVICE_NAME,
            metrics_namespace=_str(e, env.METRICS_NAMESPACE) or DEFAULT_METRICS_NAMESPACE,
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
        Time kept in reserve before the Lambda deadline for the report to CodeDeploy.
    report_max_attempts
        Attempts, first call included, for PutLifecycleEventHookExecutionStatus.
    observability
        Service name, metrics namespace, log level and tracing (see :class:`ObservabilitySettings`).
    test_url, prod_url
        Override the discovered base URL of the test or production listener.
    no_test_listener_policy
        What AfterAllowTestTraffic does when the group has no test listener.
    probe
        The probe burst and its assertions (``TRAFFICGATE_PROBE_*``, TLS, Host and
        ``TRAFFICGATE_RESOLVE`` settings).
    auth_secret_arn
        Secrets Manager secret whose JSON object holds probe request headers.
    disabled_checks
        Check ids switched off in the default plans.
    required_env
        Environment variable names every container of the new task definition must set.
    scan_severity, scan_no_data
        Lowest ECR finding severity that fails, and what an unscanned image means.
    steady_timeout_s
        How long AfterInstall polls for a steady green task set.
    alarms
        Extra CloudWatch alarm names (``prefix*`` allowed) on top of the group's alarms.
    bake_seconds, max_5xx_rate, max_target_p95_ms, max_unhealthy_hosts, min_samples, metrics_no_data
        AfterAllowTraffic's CloudWatch window and thresholds, and the defaults of the CloudWatch
        checks' no-data rule (a plan's ``min_samples``/``no_data`` override them per check).
    plan_file, plan_ssm_prefix
        Where a check plan comes from: ``<prefix>/<application>/<group>`` in SSM first, then the file.
    """

    deadline_margin_ms: int = DEFAULT_DEADLINE_MARGIN_MS
    report_max_attempts: int = DEFAULT_REPORT_MAX_ATTEMPTS
    observability: ObservabilitySettings = field(default_factory=ObservabilitySettings)
    test_url: str | None = None
    prod_url: str | None = None
    no_test_listener_policy: NoListenerPolicy = "pass"
    auth_secret_arn: str | None = None
    probe: ProbeSpec = field(default_factory=ProbeSpec)
    disabled_checks: frozenset[str] = frozenset()
    required_env: tuple[str, ...] = ()
    scan_severity: str = "CRITICAL"
    scan_no_data: ScanNoData = "warn"
    steady_timeout_s: float = 60.0
    alarms: tuple[str, ...] = ()
    bake_seconds: float = 60.0
    max_5xx_rate: float = 0.01
    max_target_p95_ms: float = 1000.0
    max_unhealthy_hosts: float = 0.0
    min_samples: int = 10
    metrics_no_data: MetricsNoData = "pass"
    plan_file: str | None = None
    plan_ssm_prefix: str | None = DEFAULT_PLAN_SSM_PREFIX

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate every variable; raise :class:`ConfigError` naming the first bad one."""
        e = os.environ if environ is None else environ
        return cls(
            deadline_margin_ms=_int(e, env.DEADLINE_MARGIN_MS, DEFAULT_DEADLINE_MARGIN_MS, minimum=0),
            report_max_attempts=_int(e, env.REPORT_MAX_ATTEMPTS, DEFAULT_REPORT_MAX_ATTEMPTS, minimum=1),
            observability=ObservabilitySettings.from_env(e),
            test_url=_url(e, env.TEST_URL),
            prod_url=_url(e, env.PROD_URL),
            no_test_listener_policy=_choice(e, env.NO_TEST_LISTENER_POLICY, ("pass", "fail"), "pass"),
            auth_secret_arn=_arn(e, env.AUTH_SECRET_ARN),
            probe=_probe_spec(e),
            disabled_checks=frozenset(_names(e, env.DISABLED_CHECKS)),
            required_env=_names(e, env.REQUIRED_ENV),
            scan_severity=_choice(e, env.SCAN_SEVERITY, SEVERITIES, "CRITICAL", upper=True),
            scan_no_data=_choice(e, env.SCAN_NO_DATA, ("warn", "pass", "fail"), "warn"),
            steady_timeout_s=_float(e, env.STEADY_TIMEOUT_S, 60.0, minimum=0.0),
            alarms=_names(e, env.ALARMS),
            bake_seconds=_float(e, env.BAKE_SECONDS, 60.0, minimum=0.0),
            max_5xx_rate=_float(e, env.MAX_5XX_RATE, 0.01, minimum=0.0, maximum=1.0),
            max_target_p95_ms=_float(e, env.MAX_TARGET_P95_MS, 1000.0, minimum=0.001),
            max_unhealthy_hosts=_float(e, env.MAX_UNHEALTHY_HOSTS, 0.0, minimum=0.0),
            min_samples=_int(e, env.MIN_SAMPLES, 10, minimum=0),
            metrics_no_data=_choice(e, env.METRICS_NO_DATA, ("pass", "fail", "inconclusive"), "pass"),
            plan_file=_str(e, env.PLAN_FILE),
            plan_ssm_prefix=_ssm_prefix(e, env.PLAN_SSM_PREFIX),
        )


# --- parsers: each names the variable and the accepted form ---------------------------------


def _str(e: Mapping[str, str], name: str) -> str | None:
    value = e.get(name, "").strip()
    return value or None


def _int(e: Mapping[str, str], name: str, default: int, *, minimum: int | None = None) -> int:
    raw = _str(e, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected an integer") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name}={raw!r}: expected an integer >= {minimum}")
    return value


def _float(
    e: Mapping[str, str], name: str, default: float, *, minimum: float = 0.0, maximum: float = math.inf
) -> float:
    raw = _str(e, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected a number") from None
    if not (minimum <= value <= maximum) or math.isnan(value):
        upper = "" if maximum == math.inf else f" and <= {maximum:g}"
        raise ConfigError(f"{name}={raw!r}: expected a number >= {minimum:g}{upper}")
    return value


_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def _bool(e: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _str(e, name)
    if raw is None:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise ConfigError(f"{name}={raw!r}: expected true or false")


def _choice(e: Mapping[str, str], name: str, choices: tuple[str, ...], default: str, *, upper: bool = False) -> Any:
    raw = _str(e, name)
    value = default if raw is None else (raw.upper() if upper else raw.lower())
    if value not in choices:
        raise ConfigError(f"{name}={raw!r}: expected one of {', '.join(choices)}")
    return value


def _ssm_prefix(e: Mapping[str, str], name: str) -> str | None:
    raw = _str(e, name)
    if raw is None:
        return DEFAULT_PLAN_SSM_PREFIX
    if raw.lower() in {"off", "none", "false"}:
        return None
    if not raw.startswith("/") or raw.endswith("/") or " " in raw:
        raise ConfigError(f"{name}={raw!r}: expected an SSM path such as /trafficgate, or off")
    return raw


def _names(e: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = _str(e, name)
    if raw is None:
        return ()
    names = tuple(part.strip() for part in raw.split(",") if part.strip())
    if any(" " in n for n in names):
        raise ConfigError(f"{name}={raw!r}: expected comma-separated names without spaces")
    return names


def _url(e: Mapping[str, str], name: str) -> str | None:
    raw = _str(e, name)
    if raw is None:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(f"{name}={raw!r}: expected an absolute http:// or https:// URL")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: the port is not a number in 0-65535") from None
    return raw.rstrip("/")


def _arn(e: Mapping[str, str], name: str) -> str | None:
    raw = _str(e, name)
    if raw is not None and not raw.startswith("arn:"):
        raise ConfigError(f"{name}={raw!r}: expected an ARN (arn:partition:service:region:account:...)")
    return raw


def _resolve(e: Mapping[str, str], name: str) -> dict[str, str]:
    raw = _str(e, name)
    if raw is None:
        return {}
    mapping: dict[str, str] = {}
    for item in raw.split(","):
        host, sep, address = item.strip().partition("=")
        if not sep or not host or not address:
            raise ConfigError(f"{name}={raw!r}: expected host=address[,host=address...]")
        mapping[host.strip().lower()] = address.strip()
    return mapping


def _probe_spec(e: Mapping[str, str]) -> ProbeSpec:
    accepted_raw = _str(e, env.ACCEPTED_STATUS) or "200-399"
    try:
        accepted = StatusSet.parse(accepted_raw)
    except ValueError as exc:
        raise ConfigError(
            f"{env.ACCEPTED_STATUS}={accepted_raw!r}: expected codes and ranges such as 200-399,404 ({exc})"
        ) from None
    body_regex = _str(e, env.BODY_REGEX)
    if body_regex is not None:
        try:
            re.compile(body_regex)
        except re.error as exc:
            raise ConfigError(f"{env.BODY_REGEX}={body_regex!r}: not a valid regular expression ({exc})") from None
    ca_bundle = _str(e, env.CA_BUNDLE)
    if ca_bundle is not None and not os.path.isfile(ca_bundle):
        raise ConfigError(f"{env.CA_BUNDLE}={ca_bundle!r}: expected the path of a PEM file that exists")
    path = _str(e, env.PROBE_PATH) or "/"
    if not path.startswith("/"):
        raise ConfigError(f"{env.PROBE_PATH}={path!r}: expected a path starting with /")
    try:
        return ProbeSpec(
            path=path,
            requests=_int(e, env.PROBE_REQUESTS, 50, minimum=1),
            concurrency=_int(e, env.PROBE_CONCURRENCY, 5, minimum=1),
            timeout_s=_float(e, env.REQUEST_TIMEOUT_S, 5.0, minimum=0.001),
            accepted_status=accepted,
            min_success_rate=_float(e, env.MIN_SUCCESS_RATE, 0.99, minimum=0.0, maximum=1.0),
            max_p95_ms=_float(e, env.MAX_P95_MS, 1000.0, minimum=0.001),
            body_regex=body_regex,
            host_header=_str(e, env.HOST_HEADER),
            tls_verify=_bool(e, env.TLS_VERIFY, True),
            ca_bundle=ca_bundle,
            resolve=_resolve(e, env.RESOLVE),
        )
    except ProbeConfigError as exc:  # ProbeSpec's own validation: name the variable behind the field
        name = _PROBE_FIELD_VARIABLES.get(exc.field or "")
        if name is None:
            raise ConfigError(f"probe settings: {exc}") from None
        raise ConfigError(f"{name}={e.get(name, '')!r}: {exc}") from None


#: ProbeSpec field -> the variable that sets it, so validation errors name what to fix.
_PROBE_FIELD_VARIABLES = {
    "path": env.PROBE_PATH,
    "requests": env.PROBE_REQUESTS,
    "concurrency": env.PROBE_CONCURRENCY,
    "timeout_s": env.REQUEST_TIMEOUT_S,
    "min_success_rate": env.MIN_SUCCESS_RATE,
    "max_p95_ms": env.MAX_P95_MS,
    "body_regex": env.BODY_REGEX,
    "host_header": env.HOST_HEADER,
    "ca_bundle": env.CA_BUNDLE,
    "resolve": env.RESOLVE,
}
