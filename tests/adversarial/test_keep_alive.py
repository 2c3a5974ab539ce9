"""Issue 10, item 8: a kept-alive connection the server closed is retried once, and only then.

A load balancer closes idle connections; a request sent on one at that moment gets no answer at
all. The adapter never retried, so with the defaults (50 requests at 0.99) one stale pooled
connection rolled back a healthy green. Now an idempotent request whose connection failed before
any byte of a response arrived is sent once more, on a new connection. A request that got an
answer, or timed out waiting for one, is never sent twice.
"""

from __future__ import annotations

import pytest

from tests.adversarial.conftest import Gate
from tests.adversarial.hostile import Exchange, hostile

pytestmark = pytest.mark.integration


def one_answer_per_connection(exchange: Exchange) -> bool:
    """Answers the first request of a connection with keep-alive, then drops the next unanswered."""
    earlier = [r for r in exchange.server.requests[:-1] if r.connection == exchange.request.connection]
    if earlier:
        return False  # the idle-close race: the request arrived, the connection goes away
    return exchange.answer(200, b'{"status": "ok"}')


def never_answers(exchange: Exchange) -> bool:
    exchange.server.stopping.wait(30)
    return False


def headers_then_gone(exchange: Exchange) -> bool:
    exchange.send(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial")
    return False


def test_a_stale_kept_alive_connection_is_retried_once_on_a_new_one(gate: Gate) -> None:
    with hostile(one_answer_per_connection) as green:
        run = gate.run(
            env={
                "TRAFFICGATE_TEST_URL": green.url,
                "TRAFFICGATE_PROBE_REQUESTS": "20",
                "TRAFFICGATE_PROBE_DECISION": "fixed",
                "TRAFFICGATE_PROBE_CONCURRENCY": "1",
            }
        )
        requests, connections = len(green.requests), len(green.connections)

    assert run.statuses == ["Succeeded"], run.reason
    assert run.check("http.test_listener")["details"]["successes"] == 20
    assert connections == 20  # every request but the first met a stale connection, and got a new one
    assert requests == 20 + 19  # each retried exactly once


@pytest.mark.parametrize(
    ("behaviour", "kind"),
    [(never_answers, "read_timeout"), (headers_then_gone, "connection_error")],
    ids=["read-timeout", "answer-cut-short"],
)
def test_a_request_that_timed_out_or_got_an_answer_is_never_sent_twice(
    behaviour: object, kind: str, gate: Gate
) -> None:
    with hostile(behaviour) as green:  # type: ignore[arg-type]
        run = gate.run(
            env={
                "TRAFFICGATE_TEST_URL": green.url,
                "TRAFFICGATE_PROBE_REQUESTS": "3",
                "TRAFFICGATE_PROBE_DECISION": "fixed",
                "TRAFFICGATE_PROBE_CONCURRENCY": "3",
                "TRAFFICGATE_REQUEST_TIMEOUT_S": "1",
                # No failure may stop the burst early (a busy machine could otherwise start only
                # some of the three before the first failed): each request is made, once.
                "TRAFFICGATE_MIN_SUCCESS_RATE": "0",
            }
        )
        requests = len(green.requests)

    assert len(run.statuses) == 1
    assert run.check("http.test_listener")["details"]["error_counts"] == {kind: 3}
    assert requests == 3
