"""The probe engine against real HTTP(S) servers on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import resource
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.http_apps import HttpApp, Route, TestPKI, refused_port, serve
from trafficgate.checks.base import Outcome
from trafficgate.probe import TLS_VERIFY_DISABLED, ProbeSpec, StatusSet, evaluate, run_burst

pytestmark = pytest.mark.integration

SECRET = "Bearer s3cr3t-token-0123456789"
TLS_HOST = "app.example.test"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return TestPKI(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def ok_server() -> Iterator[str]:
    with serve(HttpApp(default=Route(body=b'{"status": "ok"}'))) as server:
        yield server.url


def spec(**kwargs: object) -> ProbeSpec:
    # No latency limit unless a test sets one: how fast a busy machine answers decides nothing here.
    # A fixed burst: these tests count requests; the sequential decision has its own tests.
    defaults: dict[str, object] = {
        "requests": 10, "concurrency": 5, "timeout_s": 2.0, "max_p95_ms": None, "decision": "fixed"
    }
    return ProbeSpec(**{**defaults, **kwargs})  # type: ignore[arg-type]


# --- success rate and fail fast -----------------------------------------------------------------
def test_all_200_passes(ok_server: str) -> None:
    progress: list[tuple[int, int]] = []
    s = spec(requests=20)
    burst = run_burst(s, ok_server, on_progress=lambda done, planned: progress.append((done, planned)))
    result = evaluate(s, burst)
    assert result.outcome is Outcome.PASS, result.reason
    assert (burst.successes, burst.failures, burst.requests_sent) == (20, 0, 20)
    assert burst.status_counts == {200: 20}
    # Measured, in milliseconds: a successful response fits in its 2 s request budget.
    assert burst.latency_p95_ms is not None and 0 < burst.latency_p95_ms <= s.timeout_s * 1000
    assert progress[-1] == (20, 20) and len(progress) == 20
    assert result.details["assertions"][0] == {
        "name": "success_rate",
        "value": 1.0,
        "threshold": 0.99,
        "ok": True,
    }
    json.dumps(result.details)


def test_connections_are_kept_alive_and_pooled() -> None:
    app = HttpApp()
    with serve(app) as server:
        s = spec(requests=40, concurrency=4)
        assert run_burst(s, server.url).successes == 40
    assert len({r.client for r in app.requests}) <= 4
    assert {r.headers["User-Agent"] for r in app.requests} == {"trafficgate-probe"}


def test_all_500_fails_fast() -> None:
    # Proves: the burst stops at the first failure it cannot afford (0 of 50 at 0.99). A worker
    # claims its next request only after recording its last, so no more than the first round of
    # 5 is ever sent, and the server saw exactly what the burst says it sent.
    app = HttpApp(default=Route(status=500, body=b"boom"))
    with serve(app) as server:
        s = ProbeSpec(requests=50, concurrency=5, decision="fixed")
        burst = run_burst(s, server.url)
        result = evaluate(s, burst)
    assert result.outcome is Outcome.FAIL
    assert burst.stopped_early and burst.requests_sent <= s.concurrency
    assert len(app.requests) == burst.requests_sent
    assert result.reason.startswith("success rate 0.00 < 0.99 (0/")
    assert "status 500 x" in result.reason and result.reason.endswith("; stopped early")
    assert result.value == 0.0 and result.threshold == 0.99
    assert burst.failure_samples[0].status == 500 and burst.failure_samples[0].body == "boom"


def test_ten_percent_errors_fail_at_default_rate_and_pass_at_090() -> None:
    with serve(HttpApp(default=Route(error_every=10))) as server:
        strict = ProbeSpec(requests=50, concurrency=1, decision="fixed")
        failed = evaluate(strict, run_burst(strict, server.url))
    with serve(HttpApp(default=Route(error_every=10))) as server:
        lenient = ProbeSpec(requests=50, concurrency=1, min_success_rate=0.9, max_p95_ms=None, decision="fixed")
        burst = run_burst(lenient, server.url)
        passed = evaluate(lenient, burst)
    assert failed.outcome is Outcome.FAIL and "status 500 x1" in failed.reason
    assert passed.outcome is Outcome.PASS, passed.reason
    assert (burst.successes, burst.failures, burst.allowed_failures) == (45, 5, 5)


def test_latency_fails_fast_once_p95_is_certain_to_exceed() -> None:
    # 40 requests at 0.4 s, 5 at a time. p95 over 40 tolerates 2 slow responses, so the third one
    # decides. A worker claims its next request only after recording its last: the first round of
    # 5, plus one more after each of the 2 tolerated slow responses, is all that is ever sent.
    with serve(HttpApp(default=Route(delay_s=0.4))) as server:
        s = spec(requests=40, concurrency=5, max_p95_ms=200.0)
        burst = run_burst(s, server.url)
    result = evaluate(s, burst)
    assert result.outcome is Outcome.FAIL
    assert result.reason.startswith("p95 ")
    assert burst.stopped_early and burst.requests_sent <= s.concurrency + 2


def test_a_few_slow_responses_within_the_p95_budget_do_not_stop_the_burst() -> None:
    # One request in 20 is slow (the server's 20th): p95 over 20 tolerates exactly one. The limit
    # is half the slow delay and far above a normal answer on 127.0.0.1, however busy the machine.
    with serve(HttpApp(default=Route(slow_every=20, slow_delay_s=1.0))) as server:
        s = spec(requests=20, concurrency=1, max_p95_ms=500.0)
        burst = run_burst(s, server.url)
    result = evaluate(s, burst)
    assert not burst.stopped_early and burst.requests_sent == 20
    assert result.outcome is Outcome.PASS, result.reason


def test_slow_p95_fails_default_limit() -> None:
    with serve(HttpApp(default=Route(delay_s=2.0))) as server:
        s = ProbeSpec(requests=4, concurrency=4, decision="fixed")
        result = evaluate(s, run_burst(s, server.url))
    assert result.outcome is Outcome.FAIL
    assert result.reason.startswith("p95 2") and "ms > 1000 ms" in result.reason
    assert result.threshold == 1000.0 and result.value >= 2000


def test_connection_refused_is_named() -> None:
    with refused_port() as port:
        s = spec(requests=5)
        burst = run_burst(s, f"http://127.0.0.1:{port}")
        result = evaluate(s, burst)
    assert result.outcome is Outcome.FAIL
    assert "connect_refused x" in result.reason
    assert burst.error_counts.keys() == {"connect_refused"}
    assert burst.latency_p95_ms is None


def test_read_timeout_is_named() -> None:
    # One request: with two, the second is sent only if its worker starts before the first one's
    # timeout stops the burst, which a loaded machine does not promise.
    with serve(HttpApp(default=Route(delay_s=1.0))) as server:
        s = spec(requests=1, timeout_s=0.3)
        burst = run_burst(s, server.url)
    assert burst.error_counts == {"read_timeout": 1}


# --- per-response assertions ---------------------------------------------------------------------
def test_body_regex_both_ways(ok_server: str) -> None:
    good = spec(body_regex=r'"status":\s*"ok"')
    bad = spec(body_regex=r"healthy")
    assert evaluate(good, run_burst(good, ok_server)).outcome is Outcome.PASS
    burst = run_burst(bad, ok_server)
    result = evaluate(bad, burst)
    assert result.outcome is Outcome.FAIL and "assertion:body_regex x" in result.reason
    assert burst.failure_samples[0].detail == "body does not match 'healthy'"


def test_json_and_header_assertions_both_ways() -> None:
    body = json.dumps({"status": "ok", "checks": [{"name": "db", "up": True}], "version": 2}).encode()
    app = HttpApp(default=Route(body=body, headers={"Content-Type": "application/json", "X-Version": "2.4.1"}))
    with serve(app) as server:
        good = spec(
            json_equals={"status": "ok", "checks[0].up": True, "version": 2},
            json_exists=("checks[0].name",),
            header_matches={"x-version": r"^2\."},
        )
        assert evaluate(good, run_burst(good, server.url)).outcome is Outcome.PASS
        cases = [
            (
                spec(json_equals={"checks[0].up": 1}),
                "assertion:json_path",
                "checks[0].up is true, expected 1",
            ),
            (
                spec(json_equals={"status": "degraded"}),
                "assertion:json_path",
                "status is 'ok', expected 'degraded'",
            ),
            (spec(json_exists=("checks[1]",)), "assertion:json_path", "checks[1] missing"),
            (
                spec(header_matches={"X-Version": r"^3\."}),
                "assertion:header",
                "header X-Version '2.4.1' does not",
            ),
            (spec(header_matches={"X-Missing": "."}), "assertion:header", "header X-Missing missing"),
        ]
        for s, kind, detail in cases:
            burst = run_burst(s, server.url)
            assert evaluate(s, burst).outcome is Outcome.FAIL
            assert burst.error_counts == {kind: burst.failures}
            assert (burst.failure_samples[0].detail or "").startswith(detail)


def test_huge_body_is_capped_and_memory_bounded() -> None:
    app = HttpApp(default=Route(stream_bytes=50 * 1024 * 1024))
    with serve(app) as server:
        s = spec(requests=2, concurrency=2, body_regex="x{10}", timeout_s=5.0)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        burst = run_burst(s, server.url)
        growth_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    result = evaluate(s, burst)
    assert result.outcome is Outcome.PASS, result.reason
    assert burst.truncated_responses == 2
    assert burst.bytes_read <= 2 * s.max_body_bytes
    assert growth_kib < 40 * 1024
    assert app.bytes_sent < 50 * 1024 * 1024  # the client hung up long before the end
    assert any("max_body_bytes" in w for w in result.warnings)


# --- redirects ---------------------------------------------------------------------------------
def test_redirect_to_another_host_is_never_followed() -> None:
    with serve(HttpApp()) as other:
        app = HttpApp(default=Route(status=302, location=f"{other.url}/elsewhere"))
        with serve(app) as server:
            for follow in (False, True):
                s = spec(requests=3, follow_redirects=follow, accepted_status=StatusSet.parse("200-299"))
                burst = run_burst(s, server.url)
                result = evaluate(s, burst)
                assert result.outcome is Outcome.FAIL
                assert burst.error_counts == {"redirect_blocked" if follow else "status": burst.failures}
            # Even with 3xx accepted: following was asked for, so the refused hop is no final answer.
            s = spec(requests=3, follow_redirects=True)
            burst = run_burst(s, server.url)
            assert evaluate(s, burst).outcome is Outcome.FAIL
            assert burst.error_counts == {"redirect_blocked": burst.failures}
            assert burst.redirects_blocked == burst.failures and any("not followed" in w for w in burst.warnings)
        assert other.app.requests == []


def test_same_host_redirect_followed_only_when_enabled() -> None:
    app = HttpApp(
        routes={"/start": Route(status=302, location="/final"), "/final": Route(body=b"final page")},
    )
    with serve(app) as server:
        # One request at a time: fail fast stops after the first failure, so the count is exact.
        off = spec(requests=2, concurrency=1, path="/start", body_regex="final")
        burst = run_burst(off, server.url)
        assert evaluate(off, burst).outcome is Outcome.FAIL
        assert burst.status_counts == {302: 1} and app.paths() == ["/start"]
        on = spec(requests=2, path="/start", body_regex="final", follow_redirects=True)
        burst = run_burst(on, server.url)
        assert evaluate(on, burst).outcome is Outcome.PASS
        assert burst.redirects_followed == 2 and burst.status_counts == {200: 2}
        assert sorted(app.paths()[1:]) == ["/final", "/final", "/start", "/start"]


def test_redirect_loop_stops_at_limit() -> None:
    with serve(HttpApp(default=Route(status=302, location="/again"))) as server:
        s = spec(requests=1, follow_redirects=True)
        burst = run_burst(s, server.url)
    assert burst.error_counts == {"redirect_limit": 1} and burst.redirects_followed == 5


# --- secrets -----------------------------------------------------------------------------------
def test_header_secret_sent_but_never_shown(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    app = HttpApp(default=Route(status=500, body=b"debug: auth=", echo_header="Authorization"))
    with serve(app) as server:
        s = spec(requests=3, headers={"Authorization": SECRET})
        burst = run_burst(s, server.url)
        result = evaluate(s, burst)
    assert app.requests[0].headers["Authorization"] == SECRET
    assert burst.failure_samples[0].body == "debug: auth=***"
    token = SECRET.split()[1]
    for text in (
        repr(s),
        str(s),
        json.dumps(burst.to_dict()),
        json.dumps(result.details),
        repr(burst),
        result.reason,
        caplog.text,
        repr(result),
    ):
        assert token not in text


# --- TLS ---------------------------------------------------------------------------------------
def test_host_header_sets_sni_and_verifies_against_it(pki: TestPKI) -> None:
    app = HttpApp()
    with serve(app, tls=pki.issue(TLS_HOST)) as server:
        s = spec(requests=3, host_header=TLS_HOST, ca_bundle=str(pki.ca_file))
        result = evaluate(s, run_burst(s, server.url))
        assert result.outcome is Outcome.PASS, result.reason
        assert result.warnings == ()
        assert {r.sni for r in app.requests} == {TLS_HOST}
        assert {r.headers["Host"] for r in app.requests} == {TLS_HOST}
        # Without the host header the certificate does not match 127.0.0.1. (One request: a second
        # one is sent only if its worker starts before the first failure stops the burst.)
        plain = spec(requests=1, ca_bundle=str(pki.ca_file))
        burst = run_burst(plain, server.url)
        assert burst.error_counts == {"tls_error": 1}


def test_resolve_connects_to_address_but_keeps_the_name(pki: TestPKI) -> None:
    app = HttpApp()
    with serve(app, tls=pki.issue(TLS_HOST)) as server:
        s = spec(requests=2, resolve={TLS_HOST: "127.0.0.1"}, ca_bundle=str(pki.ca_file), min_cert_days=7)
        burst = run_burst(s, f"https://{TLS_HOST}:{server.port}/")
        result = evaluate(s, burst)
    assert result.outcome is Outcome.PASS, result.reason
    assert {r.sni for r in app.requests} == {TLS_HOST}
    assert {r.headers["Host"] for r in app.requests} == {f"{TLS_HOST}:{server.port}"}
    assert burst.cert_days_left is not None and 29 < burst.cert_days_left <= 30


def test_tls_verify_off_works_with_a_warning(pki: TestPKI) -> None:
    with serve(HttpApp(), tls=pki.issue("untrusted.example.test")) as server:
        s = spec(requests=2, tls_verify=False)
        with pytest.warns(Warning):  # urllib3's InsecureRequestWarning
            result = evaluate(s, run_burst(s, server.url))
    assert result.outcome is Outcome.PASS, result.reason
    assert result.warnings == (TLS_VERIFY_DISABLED,)


def test_min_cert_days_fails_on_a_certificate_about_to_expire(pki: TestPKI) -> None:
    with serve(HttpApp(), tls=pki.issue(TLS_HOST, days=3)) as server:
        s = spec(requests=2, host_header=TLS_HOST, ca_bundle=str(pki.ca_file), min_cert_days=7)
        burst = run_burst(s, server.url)
        result = evaluate(s, burst)
    assert burst.successes == 2
    assert result.outcome is Outcome.FAIL
    assert result.reason == "certificate expires in 3.0 days < 7 days"
    assert result.threshold == 7 and 2.9 < result.value <= 3.0


def test_missing_ca_bundle_is_a_config_error(ok_server: str, tmp_path: Path) -> None:
    from trafficgate.probe import ProbeConfigError

    with pytest.raises(ProbeConfigError, match="does not exist"):
        run_burst(spec(ca_bundle=str(tmp_path / "nope.pem")), ok_server)


# --- deadline ----------------------------------------------------------------------------------
def test_deadline_already_passed_is_inconclusive(ok_server: str) -> None:
    s = spec()
    burst = run_burst(s, ok_server, deadline=time.monotonic() - 0.1)
    result = evaluate(s, burst)
    assert burst.requests_sent == 0 and burst.deadline_hit
    assert result.outcome is Outcome.INCONCLUSIVE
    assert result.reason == "no request completed before the deadline (0/10 sent)"


def test_deadline_cuts_requests_in_flight() -> None:
    # Proves: requests in flight at the deadline are cut there and counted as aborted, not failed.
    # The server would answer after 30 s and the requests' own timeout is 5 s, so only the deadline
    # (1 s away: time enough to send both on a loaded machine) can end them as aborted.
    with serve(HttpApp(default=Route(delay_s=30.0))) as server:
        s = spec(requests=4, concurrency=2, timeout_s=5.0)
        burst = run_burst(s, server.url, deadline=time.monotonic() + 1.0)
    result = evaluate(s, burst)
    assert burst.requests_sent == 2 and burst.aborted == 2 and burst.failures == 0 and burst.deadline_hit
    assert burst.duration_s < s.timeout_s  # returned at the deadline, not at the requests' timeout
    assert result.outcome is Outcome.INCONCLUSIVE
    assert any("deadline reached" in w for w in result.warnings)


def test_slow_timeouts_cannot_hide_behind_fast_successes_at_high_concurrency() -> None:
    # One request in 20 hangs past its timeout (5 %, five times the 1 % the floor allows). Judged in
    # the order answers end, the fast successes sent after each timeout would count first and show a
    # pass; judged in the order requests were sent, they wait for it.
    app = HttpApp(default=Route(slow_every=20, slow_delay_s=2.0))
    with serve(app) as server:
        s = ProbeSpec(concurrency=32, timeout_s=0.3, max_p95_ms=None)
        burst = run_burst(s, server.url)
    result = evaluate(s, burst)
    assert result.outcome is not Outcome.PASS, result.reason
    assert burst.error_counts.get("read_timeout", 0) + burst.error_counts.get("total_timeout", 0) > 0
