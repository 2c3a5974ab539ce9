"""Every TRAFFICGATE_* variable: valid values parse, invalid ones name the variable and the accepted form."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from trafficgate import constants as env
from trafficgate.config import ObservabilitySettings, Settings
from trafficgate.exceptions import ConfigError

Get = Callable[[Settings], Any]


def probe(attr: str) -> Get:
    return lambda s: getattr(s.probe, attr)


def attr(name: str) -> Get:
    return lambda s: getattr(s, name)


def comparison(name: str) -> Get:
    return lambda s: getattr(s.comparison, name)


# variable -> [(raw value, how to read it back, expected)]
VALID: dict[str, list[tuple[str, Get, Any]]] = {
    env.DEADLINE_MARGIN_MS: [
        (" 3500 ", attr("deadline_margin_ms"), 3500),
        ("+120000", attr("deadline_margin_ms"), 120_000),
    ],
    env.REPORT_MAX_ATTEMPTS: [("1", attr("report_max_attempts"), 1), ("8", attr("report_max_attempts"), 8)],
    env.REPORT_BUDGET_MS: [
        ("500", attr("report_budget_ms"), 500),
        # The margin follows the budget when the operator does not set it: budget + 500 ms.
        ("4000", lambda s: (s.report_budget_ms, s.deadline_margin_ms), (4000, 4500)),
    ],
    env.VERDICT_TOPIC_ARN: [
        (
            "arn:aws:sns:us-east-1:123456789012:verdicts",
            attr("verdict_topic_arn"),
            "arn:aws:sns:us-east-1:123456789012:verdicts",
        )
    ],
    env.TRACING: [
        ("true", lambda s: s.observability.tracing, True),
        ("YES", lambda s: s.observability.tracing, True),
        ("0", lambda s: s.observability.tracing, False),
    ],
    env.TEST_URL: [("http://alb.example.com:8080/", attr("test_url"), "http://alb.example.com:8080")],
    env.PROD_URL: [("https://shop.example.com", attr("prod_url"), "https://shop.example.com")],
    env.NO_TEST_LISTENER_POLICY: [("FAIL", attr("no_test_listener_policy"), "fail")],
    env.PROBE_PATH: [("/health?deep=1", probe("path"), "/health?deep=1")],
    env.PROBE_REQUESTS: [("500", probe("requests"), 500)],
    env.PROBE_CONCURRENCY: [("8", probe("concurrency"), 8)],
    env.MIN_SUCCESS_RATE: [
        ("0.95", probe("min_success_rate"), 0.95),
        ("1", probe("min_success_rate"), 1.0),
        (".5", probe("min_success_rate"), 0.5),
        ("9.9e-1", probe("min_success_rate"), 0.99),
    ],
    env.PROBE_DECISION: [("FIXED", probe("decision"), "fixed"), ("sequential", probe("sequential"), True)],
    env.PROBE_ALPHA: [("0.05", probe("alpha"), 0.05)],
    env.MAX_P95_MS: [("250", probe("max_p95_ms"), 250.0)],
    env.REQUEST_TIMEOUT_S: [("2.5", probe("timeout_s"), 2.5)],
    env.ACCEPTED_STATUS: [
        (
            "200-299,404",
            lambda s: (404 in s.probe.accepted_status, 302 in s.probe.accepted_status),
            (True, False),
        )
    ],
    env.BODY_REGEX: [
        ("ok|healthy", probe("body_regex"), "ok|healthy"),
        (".*healthy", probe("body_regex"), ".*healthy"),
    ],
    env.HOST_HEADER: [("shop.example.com:8443", probe("host_header"), "shop.example.com:8443")],
    env.TLS_VERIFY: [("false", probe("tls_verify"), False), ("on", probe("tls_verify"), True)],
    env.CA_BUNDLE: [],  # needs a real file: see test_ca_bundle_must_exist
    env.AUTH_SECRET_ARN: [
        (
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:probe-AbCdEf",
            attr("auth_secret_arn"),
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:probe-AbCdEf",
        )
    ],
    env.RESOLVE: [
        (
            "ALB.example.com=127.0.0.1, v6.example.com=::1",
            probe("resolve"),
            {"alb.example.com": "127.0.0.1", "v6.example.com": "::1"},
        ),
        ("alb.example.com=10.0.0.5", probe("resolve"), {"alb.example.com": "10.0.0.5"}),
    ],
    env.COMPARE: [("off", attr("compare"), False), ("on", attr("compare"), True), ("false", attr("compare"), False)],
    env.MAX_ERROR_RATE_INCREASE: [
        ("0.05", comparison("max_error_rate_increase"), 0.05),
        ("0", comparison("max_error_rate_increase"), 0.0),
        ("0.999", comparison("max_error_rate_increase"), 0.999),
    ],
    env.DETECT_ERROR_RATE_INCREASE: [
        ("0.04", comparison("detect_error_rate_increase"), 0.04),
        ("0.01", comparison("detect_error_rate_increase"), 0.01),
    ],
    env.MAX_LATENCY_INCREASE: [
        ("1.5", comparison("max_latency_increase"), 1.5),
        ("1", comparison("max_latency_increase"), 1.0),
    ],
    env.MIN_LATENCY_INCREASE_MS: [
        ("0", comparison("min_latency_increase_ms"), 0.0),
        ("20", comparison("min_latency_increase_ms"), 20.0),
    ],
    env.COMPARE_ALPHA: [("0.05", comparison("alpha"), 0.05), ("1e-4", comparison("alpha"), 0.0001)],
    env.COMPARE_MAX_REQUESTS: [("1000", comparison("max_requests"), 1000), ("1", comparison("max_requests"), 1)],
    env.DISABLED_CHECKS: [
        (
            "http.test_listener, ecs.taskset_steady",
            attr("disabled_checks"),
            frozenset({"http.test_listener", "ecs.taskset_steady"}),
        )
    ],
    env.REQUIRED_ENV: [("DATABASE_URL,API_KEY", attr("required_env"), ("DATABASE_URL", "API_KEY"))],
    env.SCAN_SEVERITY: [("high", attr("scan_severity"), "HIGH")],
    env.SCAN_NO_DATA: [("fail", attr("scan_no_data"), "fail")],
    env.STEADY_TIMEOUT_S: [("90", attr("steady_timeout_s"), 90.0)],
    env.ALARMS: [("shop-5xx,shop-latency*", attr("alarms"), ("shop-5xx", "shop-latency*"))],
    env.BAKE_SECONDS: [("120", attr("bake_seconds"), 120.0), ("3600", attr("bake_seconds"), 3600.0)],
    env.CONTINUATION: [("off", attr("continuation"), False), ("on", attr("continuation"), True)],
    env.MAX_WAIT_SECONDS: [("7200", attr("max_wait_s"), 7200.0)],
    env.PROGRESS_KEY_ARN: [
        (
            "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            attr("progress_key_arn"),
            "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        )
    ],
    env.MAX_5XX_RATE: [("0.05", attr("max_5xx_rate"), 0.05)],
    env.MAX_TARGET_P95_MS: [("800", attr("max_target_p95_ms"), 800.0)],
    env.MAX_UNHEALTHY_HOSTS: [("1", attr("max_unhealthy_hosts"), 1.0)],
    env.MIN_SAMPLES: [("0", attr("min_samples"), 0)],
    env.METRICS_NO_DATA: [("inconclusive", attr("metrics_no_data"), "inconclusive")],
    env.HEALTH_CHECK_STATUS: [
        ("302", lambda s: str(s.health_check_status), "302"),
        ("200, 204-206", lambda s: str(s.health_check_status), "200,204-206"),
    ],
    env.STEP_WINDOW_SECONDS: [("600", attr("step_window_seconds"), 600)],
    env.PLAN_FILE: [("plans/shop.yaml", attr("plan_file"), "plans/shop.yaml")],
    env.PLAN_SSM_PREFIX: [
        ("/acme/gates", attr("plan_ssm_prefix"), "/acme/gates"),
        ("off", attr("plan_ssm_prefix"), None),
    ],
    env.CHECK_PACKAGES: [("mychecks, acme_checks", attr("check_packages"), frozenset({"mychecks", "acme_checks"}))],
    env.APPSPEC_BUCKETS: [
        ("acme-revisions,acme.backup", attr("appspec_buckets"), frozenset({"acme-revisions", "acme.backup"}))
    ],
}

# variable -> [(invalid raw value, words of the accepted form the message must contain)]
INVALID: dict[str, list[tuple[str, str]]] = {
    env.DEADLINE_MARGIN_MS: [
        ("soon", "an integer within [500, 120000]"),
        ("-1", "an integer within [500, 120000]"),
        ("0", "an integer within [500, 120000]"),  # no margin: no time to report
        ("99999999", "an integer within [500, 120000]"),
        ("1e3", "an integer"),
        ("٣٠٠٠", "an integer"),  # Arabic-Indic digits: int() takes them, configuration does not
    ],
    env.REPORT_MAX_ATTEMPTS: [("0", "an integer within [1, 10]"), ("1000", "an integer within [1, 10]")],
    env.REPORT_BUDGET_MS: [("100", "an integer within [500, 60000]"), ("soon", "an integer")],
    env.VERDICT_TOPIC_ARN: [("verdicts", "expected an ARN"), ("arn:aws:sqs:us-east-1:1:q", "expected an sns ARN")],
    env.TRACING: [("maybe", "true or false")],
    env.TEST_URL: [
        ("alb.example.com:8080", "http://"),
        ("http://alb:99999", "port"),
        ("http://[::1", "not a valid URL"),
    ],
    env.PROD_URL: [("ftp://shop.example.com", "http://")],
    env.NO_TEST_LISTENER_POLICY: [("skip", "pass, fail")],
    env.PROBE_PATH: [("health", "/"), ("/a b", "no spaces")],
    env.PROBE_REQUESTS: [("ten", "integer"), ("0", "within [1, 10000]"), ("10001", "within [1, 10000]")],
    env.PROBE_CONCURRENCY: [("0", "within [1, 256]"), ("300", "256")],
    env.MIN_SUCCESS_RATE: [("1.5", "within [0, 1]"), ("high", "number"), ("nan", "number"), ("inf", "number")],
    env.PROBE_DECISION: [("adaptive", "sequential, fixed")],
    env.PROBE_ALPHA: [("0", "> 0 and < 0.5"), ("0.5", "> 0 and < 0.5"), ("often", "number")],
    env.MAX_P95_MS: [("-5", "> 0 and <= 900000"), ("fast", "number"), ("1e309", "number"), ("inf", "number")],
    env.REQUEST_TIMEOUT_S: [("0", "> 0 and <= 900"), ("x", "number"), ("Infinity", "number"), ("١٢", "number")],
    env.ACCEPTED_STATUS: [("ok", "200-399"), ("200-", "200-399")],
    env.BODY_REGEX: [
        ("(unclosed", "regular expression RE2 accepts"),
        ("(" * 500, "regular expression RE2 accepts"),
        ("(a)\\1", "no backreferences"),
        ("x" * 2000, "at most 1000"),
    ],
    env.HOST_HEADER: [("shop example.com", "host name")],
    env.TLS_VERIFY: [("nope", "true or false")],
    env.CA_BUNDLE: [("/nonexistent/ca.pem", "PEM file that exists")],
    env.AUTH_SECRET_ARN: [("probe-secret", "arn:")],
    env.RESOLVE: [("alb.example.com", "host=address"), ("alb.example.com=localhost", "IPv4 or IPv6")],
    env.COMPARE: [("sometimes", "true or false")],
    env.MAX_ERROR_RATE_INCREASE: [("-0.01", ">= 0 and < 1"), ("1", ">= 0 and < 1"), ("nan", "number")],
    env.DETECT_ERROR_RATE_INCREASE: [
        ("0", "> 0 and < 1"),
        ("1", "> 0 and < 1"),
        ("0.005", "expected at least TRAFFICGATE_MAX_ERROR_RATE_INCREASE (0.01)"),
    ],
    env.MAX_LATENCY_INCREASE: [("0.9", "within [1, 100]"), ("101", "within [1, 100]"), ("x2", "number")],
    env.MIN_LATENCY_INCREASE_MS: [("-1", "within [0, 900000]"), ("5ms", "number")],
    env.COMPARE_ALPHA: [
        ("0", "> 0 and < 0.5"),
        ("0.5", "> 0 and < 0.5"),
        ("-0.01", "> 0 and < 0.5"),
        ("one", "number"),
    ],
    env.COMPARE_MAX_REQUESTS: [("0", "within [1, 10000]"), ("10001", "within [1, 10000]"), ("400.5", "an integer")],
    env.DISABLED_CHECKS: [("http.test listener", "comma-separated")],
    env.REQUIRED_ENV: [("A B", "comma-separated")],
    env.SCAN_SEVERITY: [("SEVERE", "CRITICAL")],
    env.SCAN_NO_DATA: [("ignore", "warn, pass, fail")],
    env.STEADY_TIMEOUT_S: [("-1", "within [0, 900]"), ("1e9", "within [0, 900]")],
    env.ALARMS: [("a b", "comma-separated")],
    env.BAKE_SECONDS: [("a minute", "number"), ("86401", "within [0, 86400]")],
    env.CONTINUATION: [("later", "true or false")],
    env.MAX_WAIT_SECONDS: [("-1", "within [0, 86400]"), ("a day", "number")],
    env.PROGRESS_KEY_ARN: [("my-key", "expected an ARN"), ("arn:aws:sns:us-east-1:1:t", "expected an kms ARN")],
    env.MAX_5XX_RATE: [("2", "within [0, 1]")],
    env.MAX_TARGET_P95_MS: [("0", "> 0")],
    env.MAX_UNHEALTHY_HOSTS: [("-1", "within [0, 10000]")],
    env.MIN_SAMPLES: [("-1", "within [0, 1000000000]"), ("2.5", "an integer")],
    env.METRICS_NO_DATA: [("skip", "pass, fail, inconclusive")],
    env.HEALTH_CHECK_STATUS: [("ok", "200,302"), ("299-200", "200,302"), ("600", "200,302")],
    env.STEP_WINDOW_SECONDS: [("30", "within [60, 86400]"), ("90.5", "an integer")],
    env.PLAN_FILE: [],  # any path parses; a missing file is a plan error at run time
    env.PLAN_SSM_PREFIX: [("trafficgate", "SSM path"), ("/trafficgate/", "SSM path")],
    env.CHECK_PACKAGES: [("my-checks", "package names"), ("mychecks.orders", "package names")],
    env.APPSPEC_BUCKETS: [("Acme_Revisions", "S3 bucket names"), ("s3://acme", "S3 bucket names")],
}


def test_every_variable_is_covered() -> None:
    names = [n for n in env.ALL if n.startswith("TRAFFICGATE_")]
    assert sorted(VALID) == sorted(names)
    assert sorted(INVALID) == sorted(names)


def test_defaults_without_any_variable() -> None:
    settings = Settings.from_env({})
    assert settings.deadline_margin_ms == 3000
    assert settings.report_max_attempts == 5
    assert settings.observability.tracing is False
    assert settings.test_url is None and settings.prod_url is None
    assert settings.no_test_listener_policy == "pass"
    assert settings.probe.requests == 400
    assert (settings.probe.decision, settings.probe.alpha) == ("sequential", 0.01)
    assert str(settings.health_check_status) == "200"


VALID_CASES = [(name, raw, get, expected) for name, cases in VALID.items() for raw, get, expected in cases]


@pytest.mark.parametrize(("name", "raw", "get", "expected"), VALID_CASES, ids=[f"{c[0]}={c[1]}" for c in VALID_CASES])
def test_valid_value_parses(name: str, raw: str, get: Get, expected: Any) -> None:
    assert get(Settings.from_env({name: raw})) == expected


INVALID_CASES = [(name, raw, form) for name, cases in INVALID.items() for raw, form in cases]


@pytest.mark.parametrize(("name", "raw", "form"), INVALID_CASES, ids=[f"{c[0]}={c[1]}" for c in INVALID_CASES])
def test_invalid_value_names_variable_and_form(name: str, raw: str, form: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({name: raw})
    message = str(info.value)
    assert message.startswith(f"{name}="), message
    assert form in message, message


def test_ca_bundle_must_exist(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    assert Settings.from_env({env.CA_BUNDLE: str(bundle)}).probe.ca_bundle == str(bundle)


def test_blank_values_mean_unset() -> None:
    """SAM passes empty strings for unset parameters: they must select the defaults."""
    settings = Settings.from_env({name: "" for name in env.ALL})
    assert settings == Settings.from_env({})


def test_powertools_names_are_read() -> None:
    settings = Settings.from_env({env.METRICS_NAMESPACE: "Acme", env.SERVICE_NAME: "shop-gate"})
    observability = settings.observability
    assert (observability.metrics_namespace, observability.service_name) == ("Acme", "shop-gate")


def test_observability_has_one_parser_strict_for_hooks_and_lenient_at_import() -> None:
    # Settings (read per runner) fail on a bad level, naming it; the import-time logger falls back.
    with pytest.raises(ConfigError, match=r"^POWERTOOLS_LOG_LEVEL='loud': expected one of DEBUG, INFO"):
        Settings.from_env({env.LOG_LEVEL: "loud"})
    parsed, problems = ObservabilitySettings.parse({env.LOG_LEVEL: "loud", env.TRACING: "perhaps"})
    assert (parsed.log_level, parsed.tracing) == ("INFO", False)
    assert [p.split("=", 1)[0] for p in problems] == [env.LOG_LEVEL, env.TRACING]
    assert ObservabilitySettings.from_env({env.LOG_LEVEL: "debug"}).log_level == "DEBUG"


def test_a_margin_narrower_than_the_report_budget_is_refused_naming_both() -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({env.REPORT_BUDGET_MS: "5000", env.DEADLINE_MARGIN_MS: "3000"})
    assert str(info.value) == (
        "TRAFFICGATE_DEADLINE_MARGIN_MS=3000 leaves no room for the report: it must be at least "
        "TRAFFICGATE_REPORT_BUDGET_MS (5000) + 500 = 5500"
    )
    widened = Settings.from_env({env.REPORT_BUDGET_MS: "2000", env.DEADLINE_MARGIN_MS: "9000"})
    assert (widened.report_budget_ms, widened.deadline_margin_ms) == (2000, 9000)


@pytest.mark.parametrize(
    ("margin", "detect"),
    [("0.01", 0.025), ("0", 0.025), ("0.02", 0.05), ("0.5", 0.75), ("0.9", 0.95)],
)
def test_the_detectable_increase_follows_the_margin_when_unset(margin: str, detect: float) -> None:
    # 2.5 times the tolerated increase, at least 0.025, and below 1 (halfway from the margin at most),
    # so raising the margin alone never makes the settings invalid.
    compare = Settings.from_env({env.MAX_ERROR_RATE_INCREASE: margin}).comparison
    assert compare.detect_error_rate_increase is None
    assert compare.detect_increase == pytest.approx(detect)
    assert compare.detect_increase >= compare.max_error_rate_increase


def test_a_detectable_increase_below_the_margin_names_both_variables() -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({env.MAX_ERROR_RATE_INCREASE: "0.03", env.DETECT_ERROR_RATE_INCREASE: "0.02"})
    message = str(caught.value)
    assert message.startswith("TRAFFICGATE_DETECT_ERROR_RATE_INCREASE='0.02': expected at least ")
    assert "TRAFFICGATE_MAX_ERROR_RATE_INCREASE (0.03)" in message
