"""Pure logic of the probe: status sets, JSON paths, percentiles, failure budget, judging."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import io
import json
import re
import socket
import ssl
from typing import Any

import pytest
import requests
import urllib3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from trafficgate.checks.base import Outcome
from trafficgate.probe import (
    BurstResult,
    ProbeConfigError,
    ProbeSpec,
    StatusSet,
    allowed_failures,
    certificate_not_after,
    classify_error,
    evaluate,
    percentile,
    run_burst,
)
from trafficgate.probe.jsonquery import compile_expression, json_equal
from trafficgate.probe.results import LATENCY_SAMPLES, TIME_BINS
from trafficgate.probe.stats import spread, time_bins

# --- StatusSet -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "inside", "outside", "canonical"),
    [
        ("200-399", [200, 302, 399], [199, 400, 500], "200-399"),
        ("200,204,300-302", [200, 204, 301], [201, 303], "200,204,300-302"),
        (" 204 , 200-203 ", [200, 203, 204], [205], "200-204"),
        ("500", [500], [200], "500"),
    ],
)
def test_status_set_parse(text: str, inside: list[int], outside: list[int], canonical: str) -> None:
    statuses = StatusSet.parse(text)
    assert all(code in statuses for code in inside)
    assert not any(code in statuses for code in outside)
    assert str(statuses) == canonical
    assert StatusSet.parse(str(statuses)) == statuses


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty"),
        ("200,", "empty item"),
        ("2xx", "is not a code or range"),
        ("399-200", "runs backwards"),
        ("200-700", "outside 100-599"),
        ("42", "outside 100-599"),
    ],
)
def test_status_set_errors_are_clear(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        StatusSet.parse(text)


# --- JSON assertions in JMESPath ---------------------------------------------------------------

DOC = {"a": {"b": [{"c": 1}, {"c": None}]}, "key.dot": "x", "list": [1, 2, 3], "flag": True}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("@", DOC),
        ("a.b[0].c", 1),
        ("a.b[1].c", None),
        ('"key.dot"', "x"),
        ("list[-1]", 3),
        ("length(list)", 3),
        ("a.b[].c", [1]),  # JMESPath projections drop nulls
        ("list[3]", None),  # absent reads as null
        ("a.x", None),
    ],
)
def test_jmespath_expressions_search_the_document(expression: str, expected: Any) -> None:
    assert compile_expression(expression).search(DOC) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("", "is empty"),
        ("a..b", "'a..b' is not a valid JMESPath expression at position 2"),
        ("a[", "'a[' is not a valid JMESPath expression"),
        ("foo bar", "at position 4"),
        ("$.a.b", "JMESPath has no '$' root; write 'a.b'"),
        ("$", "write '@'"),
    ],
)
def test_jmespath_syntax_errors_say_where(expression: str, message: str) -> None:
    with pytest.raises(ProbeConfigError, match=re.escape(message)):
        compile_expression(expression)


def test_a_spec_with_a_bad_expression_names_its_field() -> None:
    with pytest.raises(ProbeConfigError) as caught:
        ProbeSpec(json_exists=("items[0].id", "items[0"))
    assert caught.value.field == "json_exists"
    assert str(caught.value).startswith("json_exists: 'items[0' is not a valid JMESPath expression")
    with pytest.raises(ProbeConfigError) as caught:
        ProbeSpec(json_equals={"a..b": 1})
    assert caught.value.field == "json_equals"


def test_json_equal_follows_json_types() -> None:
    assert json_equal(True, True)
    assert not json_equal(True, 1)
    assert not json_equal(0, False)
    assert json_equal(1, 1.0)
    assert json_equal([1, {"a": True}], [1, {"a": True}])
    assert not json_equal([1, {"a": True}], [1, {"a": 1}])


# --- numbers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("planned", "rate", "expected"),
    [(50, 0.99, 0), (50, 0.9, 5), (100, 0.99, 1), (100, 0.95, 5), (10, 0.0, 10), (7, 1.0, 0), (3, 0.5, 1)],
)
def test_allowed_failures(planned: int, rate: float, expected: int) -> None:
    assert allowed_failures(planned, rate) == expected


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([10.0, 20.0, 30.0, 2000.0], 95) == 2000.0
    assert percentile([10.0, 20.0, 30.0, 2000.0], 50) == 20.0
    assert percentile([7.0], 99) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_spread_keeps_the_ends_and_evenly_spaced_ranks() -> None:
    values = [float(v) for v in range(1000)]
    assert spread(values, 5) == [0.0, 250.0, 500.0, 749.0, 999.0]
    assert spread(values[:3], 5) == [0.0, 1.0, 2.0]
    assert spread([], 5) == []
    kept = spread(values, 200)
    assert len(kept) == 200 and kept == sorted(kept) and (kept[0], kept[-1]) == (0.0, 999.0)
    with pytest.raises(ValueError):
        spread(values, 1)


def test_time_bins_count_requests_and_failures_in_round_widths() -> None:
    assert time_bins([(0.001, False), (0.5, True), (1.3, False), (1.31, True)], 1.31, 40) == (
        50,
        [1] + [0] * 9 + [1] + [0] * 15 + [2],
        [0] * 10 + [1] + [0] * 15 + [1],
    )
    assert time_bins([], 0.0, 40) == (10, [0], [0])
    width, counts, failures = time_bins([(899.0, True), (1.0, False)], 900.0, 40)
    assert (width, len(counts), sum(counts), sum(failures), failures[-1]) == (30_000, 30, 2, 1, 1)
    # Longer than the widest round bin: the width grows instead of the number of bins.
    width, counts, _ = time_bins([(7200.0, False)], 7200.0, 40)
    assert (width, len(counts), counts[-1]) == (180_000, 40, 1)


# --- ProbeSpec ----------------------------------------------------------------------------------


def test_spec_defaults_and_secret_headers() -> None:
    spec = ProbeSpec(headers={"Authorization": "Bearer topsecret"})
    assert (spec.path, spec.method, spec.requests, spec.concurrency) == ("/", "GET", 400, 5)
    assert (spec.decision, spec.sequential, spec.alpha) == ("sequential", True, 0.01)
    assert 302 in spec.accepted_status and 404 not in spec.accepted_status
    assert spec.max_p95_ms == 1000.0 and spec.allowed_failures == 4
    assert "topsecret" not in repr(spec)
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.requests = 3  # type: ignore[misc]
    # replace() (used to add auth headers) keeps working with the frozen mappings.
    assert dataclasses.replace(spec, headers={**spec.headers, "X-A": "b"}).headers["X-A"] == "b"


def test_spec_copies_its_mappings() -> None:
    source = {"X-A": "one"}
    spec = ProbeSpec(headers=source, resolve={"App.Example.Test": "10.0.0.1"})
    source["X-A"] = "two"
    assert spec.headers == {"X-A": "one"}
    assert spec.resolve == {"app.example.test": "10.0.0.1"}
    assert copy.deepcopy(spec) == spec


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"requests": 0}, "requests 0 must be an integer within \\[1, 10000\\]"),
        ({"requests": 10**9}, "requests 1000000000 must be an integer within"),
        ({"requests": True}, "requests True must be an integer"),
        ({"concurrency": 0}, "concurrency 0 must be an integer within"),
        ({"min_success_rate": 1.5}, "min_success_rate 1.5 must be a number within"),
        ({"timeout_s": 0}, "timeout_s 0 must be a number > 0 and <= 900"),
        ({"timeout_s": float("inf")}, "timeout_s inf must be a number > 0"),
        ({"max_p95_ms": -1.0}, "max_p95_ms -1.0 must be a number > 0 and <= 900000"),
        ({"max_body_bytes": 2**40}, "max_body_bytes 1099511627776 must be an integer within"),
        ({"path": "health"}, "must start with '/'"),
        ({"method": "get"}, "upper-case HTTP method"),
        ({"body_regex": "("}, "is not a regular expression RE2 accepts \\(missing \\)"),
        ({"body_regex": "(a)\\1"}, "RE2 accepts .*no backreferences or lookarounds"),
        (
            {"header_matches": {"X-A": "(?=a)"}},
            "header_matches\\['X-A'\\] '\\(\\?=a\\)' is not a regular expression RE2",
        ),
        ({"body_regex": "(" * 500}, "is not a regular expression RE2 accepts"),
        ({"body_regex": "x" * 1001}, "1001 characters long; at most 1000"),
        ({"json_equals": {"$..a": 1}}, "JMESPath has no '\\$' root; see https://jmespath.org"),
        ({"json_exists": ("a[",)}, "not a valid JMESPath expression"),
        ({"header_matches": {"bad name": "x"}}, "not a valid HTTP header name"),
        ({"resolve": {"app.example.test": "not-an-ip"}}, "must be an IPv4 or IPv6 address"),
        ({"host_header": "a b"}, "host_header"),
        ({"min_cert_days": -1}, "min_cert_days"),
        ({"max_body_bytes": 0, "body_regex": "x"}, "need the body"),
    ],
)
def test_spec_validation(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ProbeSpec(**kwargs)


def test_spec_header_value_error_does_not_echo_value() -> None:
    with pytest.raises(ValueError) as info:
        ProbeSpec(headers={"X-Token": "s3cret\r\nX-Evil: 1"})
    assert "s3cret" not in str(info.value) and "X-Token" in str(info.value)


# --- error kinds --------------------------------------------------------------------------------


NO_CONN: Any = None  # the urllib3 errors want a connection or pool; classification never looks at it


def _wrapped(reason: Exception) -> requests.exceptions.ConnectionError:
    """How requests reports a failed connection: ConnectionError(MaxRetryError(reason))."""
    return requests.exceptions.ConnectionError(urllib3.exceptions.MaxRetryError(NO_CONN, "/", reason))


def _caused(exc: Exception, cause: BaseException) -> Exception:
    exc.__cause__ = cause
    return exc


REFUSED = _caused(urllib3.exceptions.NewConnectionError(NO_CONN, "refused"), ConnectionRefusedError())
CONNECT_TIMED_OUT = _caused(urllib3.exceptions.ConnectTimeoutError(NO_CONN, "timed out"), TimeoutError())


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (_wrapped(REFUSED), "connect_refused"),
        (_wrapped(CONNECT_TIMED_OUT), "connect_timeout"),
        (requests.exceptions.ConnectTimeout(), "connect_timeout"),
        (requests.exceptions.ReadTimeout(), "read_timeout"),
        (urllib3.exceptions.ReadTimeoutError(NO_CONN, "/", "read timed out"), "read_timeout"),
        (requests.exceptions.SSLError(), "tls_error"),
        (_wrapped(urllib3.exceptions.SSLError(ssl.SSLCertVerificationError("bad"))), "tls_error"),
        (_wrapped(urllib3.exceptions.NameResolutionError("nohost", NO_CONN, socket.gaierror())), "dns_error"),
        (requests.exceptions.ChunkedEncodingError(), "connection_error"),
        (ConnectionResetError(), "connection_error"),
    ],
)
def test_classify_error(exc: BaseException, kind: str) -> None:
    assert classify_error(exc) == kind


# --- certificate expiry -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "not_after",
    [dt.datetime(2031, 5, 17, 8, 30, 0, tzinfo=dt.UTC), dt.datetime(2051, 1, 2, 3, 4, 5, tzinfo=dt.UTC)],
)
def test_certificate_not_after_reads_der(not_after: dt.datetime) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "app.example.test")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(not_after)  # 2051 is written as GeneralizedTime, 2031 as UTCTime
        .sign(key, hashes.SHA256())
    )
    assert certificate_not_after(cert.public_bytes(serialization.Encoding.DER)) == not_after
    with pytest.raises(ValueError):
        certificate_not_after(b"\x30\x03\x02\x01")


# --- evaluate -----------------------------------------------------------------------------------


def burst(**overrides: Any) -> BurstResult:
    values: dict[str, Any] = {
        "target": "http://127.0.0.1:8080/",
        "requests_planned": 50,
        "requests_sent": 50,
        "successes": 50,
        "failures": 0,
        "aborted": 0,
        "allowed_failures": 0,
        "status_counts": {200: 50},
        "failed_status_counts": {},
        "error_counts": {},
        "latency_count": 50,
        "latency_p50_ms": 10.0,
        "latency_p95_ms": 20.0,
        "latency_p99_ms": 30.0,
        "latency_max_ms": 31.0,
        "duration_s": 0.5,
        "stopped_early": False,
        "deadline_hit": False,
        "failure_samples": (),
        "cert_days_left": None,
        "cert_error": None,
        "truncated_responses": 0,
        "bytes_read": 100,
        "redirects_followed": 0,
        "redirects_blocked": 0,
        "warnings": (),
    }
    return BurstResult(**{**values, **overrides})


def test_evaluate_pass_lists_every_assertion() -> None:
    spec = ProbeSpec(max_p50_ms=100.0)
    result = evaluate(spec, burst())
    assert result.outcome is Outcome.PASS
    assert (
        result.reason == "success rate 1.00 >= 0.99 (50/50 ok); p50 10 ms <= 100 ms (50 responses); "
        "p95 20 ms <= 1000 ms (50 responses)"
    )
    assert [a["name"] for a in result.details["assertions"]] == [
        "success_rate",
        "latency_p50_ms",
        "latency_p95_ms",
    ]
    assert result.value == 1.0 and result.threshold == 0.99


def test_evaluate_fail_fast_reason() -> None:
    result = evaluate(
        ProbeSpec(),
        burst(
            requests_sent=6,
            successes=0,
            failures=6,
            status_counts={500: 6},
            failed_status_counts={500: 6},
            error_counts={"status": 6},
            latency_count=6,
            stopped_early=True,
        ),
    )
    assert result.outcome is Outcome.FAIL
    assert result.reason == "success rate 0.00 < 0.99 (0/6 ok; status 500 x6); stopped early"
    assert (result.value, result.threshold) == (0.0, 0.99)
    assert result.details["assertions"][0]["ok"] is False


def test_evaluate_mixed_failure_breakdown_and_close_rates() -> None:
    result = evaluate(
        ProbeSpec(requests=1000, min_success_rate=0.99),
        burst(
            requests_planned=1000,
            requests_sent=1000,
            successes=989,
            failures=11,
            allowed_failures=10,
            failed_status_counts={503: 6},
            error_counts={"status": 6, "connect_refused": 4, "read_timeout": 1},
        ),
    )
    assert result.reason == (
        "success rate 0.9890 < 0.9900 (989/1000 ok; status 503 x6, connect_refused x4, read_timeout x1)"
    )


def test_evaluate_latency_reason() -> None:
    spec = ProbeSpec(requests=4, decision="fixed")
    result = evaluate(spec, burst(requests_planned=4, latency_p95_ms=2013.4, latency_count=4))
    assert result.outcome is Outcome.FAIL
    assert result.reason == "p95 2013 ms > 1000 ms (4 responses)"
    assert (result.value, result.threshold) == (2013.4, 1000.0)


def test_evaluate_cert_days() -> None:
    spec = ProbeSpec(min_cert_days=14)
    assert evaluate(spec, burst(cert_days_left=30.0)).outcome is Outcome.PASS
    failed = evaluate(spec, burst(cert_days_left=3.0))
    assert failed.reason == "certificate expires in 3.0 days < 14 days"
    unknown = evaluate(spec, burst(cert_error="tls_error"))
    assert unknown.outcome is Outcome.FAIL and "certificate expiry unknown (tls_error)" in unknown.reason


def test_evaluate_deadline() -> None:
    spec = ProbeSpec()
    none = evaluate(
        spec,
        burst(
            requests_sent=0,
            successes=0,
            deadline_hit=True,
            latency_count=0,
            latency_p50_ms=None,
            latency_p95_ms=None,
            latency_p99_ms=None,
            latency_max_ms=None,
            status_counts={},
        ),
    )
    assert none.outcome is Outcome.INCONCLUSIVE
    partial = evaluate(spec, burst(requests_sent=12, successes=10, aborted=2, deadline_hit=True))
    assert partial.outcome is Outcome.INCONCLUSIVE
    assert partial.reason.startswith("deadline reached after 10/50 requests")
    assert "deadline reached after 10/50 requests (2 aborted)" in partial.warnings
    failing = evaluate(
        spec,
        burst(requests_sent=12, successes=9, failures=1, deadline_hit=True, error_counts={"connect_refused": 1}),
    )
    assert failing.outcome is Outcome.FAIL and failing.reason.endswith("; deadline reached")


def test_evaluate_propagates_warnings() -> None:
    result = evaluate(ProbeSpec(), burst(warnings=("TLS verification disabled",)))
    assert result.outcome is Outcome.PASS
    assert result.warnings == ("TLS verification disabled",)


# --- the engine with an in-memory transport ------------------------------------------------------


class FakeAdapter(requests.adapters.BaseAdapter):
    """Answers every request from memory and records it: no socket is opened."""

    def __init__(self, status: int, body: bytes) -> None:
        super().__init__()
        self.status, self.body = status, body
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        self.sent.append(request)
        response = requests.Response()
        response.status_code = self.status
        response.raw = io.BytesIO(self.body)
        response.headers = requests.structures.CaseInsensitiveDict({"Content-Type": "application/json"})
        response.request = request
        return response

    def close(self) -> None:
        pass


def test_run_burst_uses_a_custom_adapter_of_the_given_session() -> None:
    session = requests.Session()
    fake = FakeAdapter(200, b'{"status": "ok"}')
    session.mount("http://green.internal:8080/", fake)
    spec = ProbeSpec(
        requests=7, concurrency=3, json_equals={"status": "ok"}, headers={"X-Key": "k3y-value"}, decision="fixed"
    )
    result = evaluate(spec, run_burst(spec, "http://green.internal:8080", session=session))
    assert result.outcome is Outcome.PASS, result.reason
    assert len(fake.sent) == 7
    assert {r.url for r in fake.sent} == {"http://green.internal:8080/"}
    assert all(r.headers["X-Key"] == "k3y-value" for r in fake.sent)
    assert session.get_adapter("http://green.internal:8080/") is fake


def test_run_burst_with_fake_500_fails_fast() -> None:
    session = requests.Session()
    fake = FakeAdapter(503, b"unavailable")
    session.mount("http://", fake)
    spec = ProbeSpec(requests=50, concurrency=1, decision="fixed")
    burst = run_burst(spec, "http://green.internal", session=session)
    assert len(fake.sent) == 1 and burst.stopped_early
    assert evaluate(spec, burst).reason == "success rate 0.00 < 0.99 (0/1 ok; status 503 x1); stopped early"


def test_run_burst_details_carry_a_bounded_picture_of_the_burst() -> None:
    session = requests.Session()
    session.mount("http://", FakeAdapter(200, b'{"status": "ok"}'))
    spec = ProbeSpec(requests=1000, concurrency=4, decision="fixed")
    details = run_burst(spec, "http://green.internal", session=session).to_dict()
    samples = details["latency_samples_ms"]
    assert len(samples) == LATENCY_SAMPLES and samples == sorted(samples)
    assert all(round(v, 1) == v for v in samples)
    over_time = details["over_time"]
    assert sum(over_time["requests"]) == 1000 and sum(over_time["failures"]) == 0
    assert 1 <= len(over_time["requests"]) <= TIME_BINS
    # Small enough for the verdict's one log line (CloudWatch Logs takes events of up to 256 KiB).
    picture = {key: details[key] for key in ("latency_samples_ms", "over_time")}
    assert len(json.dumps(picture)) < 3000


def test_run_burst_rejects_bad_base_urls() -> None:
    for url, message in [
        ("ftp://host/", "scheme"),
        ("http:///path", "no host"),
        ("https://user:pw@host/", "credentials"),
        ("http://host/?a=1", "query"),
    ]:
        with pytest.raises(ProbeConfigError, match=message):
            run_burst(ProbeSpec(requests=1, decision="fixed"), url)
