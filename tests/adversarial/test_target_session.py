"""Issue 10, item 7: a custom check's session never carries the secret headers to another origin.

``ctx.http()`` is a requests session bound to the listener, with the auth secret's headers.
requests strips only ``Authorization`` when a redirect changes host, so an ``X-Api-Key`` followed
a cross-origin redirect to wherever green pointed. Now a redirect to another origin is refused
(and, should a request leave the origin anyway, every secret header is stripped from it); a
same-origin redirect is followed, through the same connect address, secrets and all.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.adversarial.conftest import Gate
from tests.adversarial.hostile import Exchange, hostile
from trafficgate.probe import ProbeSpec
from trafficgate.probe.transport import RedirectRefused, TargetSession

pytestmark = pytest.mark.integration

SECRETS = {"Authorization": "Bearer Zq8Lm3Vt7Rk2Pw9Hn4Cb6Dy1Fg5Js0", "X-Api-Key": "Ae7Ui3Oo9Ye2Ww8Qq4Tt1Bb"}

FOLLOWING_CHECK = """
from trafficgate.checks.base import CheckResult

def follows(ctx):
    answer = ctx.http("test").get("/start", allow_redirects=True)
    return CheckResult.passed(f"got {answer.status_code}")
"""


def ok(exchange: Exchange) -> bool:
    return exchange.answer(200, b"landed")


def test_a_cross_origin_redirect_is_refused_and_the_other_origin_hears_nothing() -> None:
    with hostile(ok) as other:

        def away(exchange: Exchange) -> bool:
            return exchange.answer(302, b"", {"Location": f"{other.url}/steal"})

        with (
            hostile(away) as green,
            TargetSession(ProbeSpec(headers=SECRETS), green.url) as session,
            pytest.raises(RedirectRefused, match=r"redirect from .* to another origin refused"),
        ):
            session.get("/start", allow_redirects=True)
        assert other.requests == []


def test_a_same_origin_redirect_is_followed_with_the_secrets() -> None:
    def hops(exchange: Exchange) -> bool:
        if exchange.request.path == "/start":
            return exchange.answer(302, b"", {"Location": "/landing"})
        return exchange.answer(200, b"landed")

    with hostile(hops) as green, TargetSession(ProbeSpec(headers=SECRETS), green.url) as session:
        answer = session.get("/start", allow_redirects=True)
        seen = [(r.path, r.headers.get("X-Api-Key")) for r in green.requests]
    assert answer.status_code == 200 and answer.text == "landed"
    assert seen == [("/start", SECRETS["X-Api-Key"]), ("/landing", SECRETS["X-Api-Key"])]


def test_every_secret_header_is_stripped_from_a_request_that_leaves_the_origin() -> None:
    # The second line of defence, for a request that leaves the origin some other way.
    with hostile(ok) as green, TargetSession(ProbeSpec(headers=SECRETS), green.url) as session:
        outgoing = requests.Request("GET", "http://elsewhere.example:8080/x", headers=dict(session.headers))
        prepared = session.prepare_request(outgoing)
        redirected_from = requests.Response()
        redirected_from.request = requests.Request("GET", f"{green.url}/x").prepare()
        session.rebuild_auth(prepared, redirected_from)
    assert "X-Api-Key" not in prepared.headers and "Authorization" not in prepared.headers


def test_through_the_hook_the_refused_redirect_is_a_named_error(gate: Gate, tmp_path: Path) -> None:
    (tmp_path / "followers.py").write_text(FOLLOWING_CHECK)
    plan = tmp_path / "plan.yaml"
    plan.write_text("version: 1\nhooks:\n  AfterAllowTestTraffic:\n    - {id: follows, check: 'followers:follows'}\n")
    arn = gate.secret(SECRETS)
    with hostile(ok) as other:

        def away(exchange: Exchange) -> bool:
            return exchange.answer(302, b"", {"Location": f"{other.url}/steal"})

        with hostile(away) as green:
            run = gate.run(
                env={
                    "TRAFFICGATE_TEST_URL": green.url,
                    "TRAFFICGATE_AUTH_SECRET_ARN": arn,
                    "TRAFFICGATE_PLAN_FILE": str(plan),
                    "TRAFFICGATE_CHECK_PACKAGES": "followers",
                },
                pythonpath=tmp_path,
            )
        stolen = other.requests

    assert stolen == []
    assert run.statuses == ["Failed"]
    assert run.check("follows")["outcome"] == "error"
    assert "to another origin refused" in run.check("follows")["reason"]
