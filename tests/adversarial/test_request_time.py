"""Issue 10, item 3: the request timeout bounds the whole request, not each read.

A server that drips one byte at a time never lets a read time out, so a 2 s timeout used to allow
a request of a minute and more: the hook ran into its deadline, said "deadline", and the checks
after the probe never ran. Now each request ends at its timeout (plus a small slack) as
``total_timeout``, and the next check runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.adversarial.conftest import Gate
from tests.adversarial.hostile import Exchange, hostile

pytestmark = pytest.mark.integration

PLAN = """\
version: 1
hooks:
  AfterAllowTestTraffic:
    - id: green.drips
      check: http_probe
      listener: test
      requests: 3
      decision: fixed
      concurrency: 1
      min_success_rate: 0.5
    - id: after.it
      check: http_probe
      listener: prod
      requests: 3
      decision: fixed
"""


def drip_body(exchange: Exchange) -> bool:
    exchange.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
    exchange.drip(b"x" * 100_000, 0.2)
    return False


def drip_headers(exchange: Exchange) -> bool:
    exchange.drip(b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"y" * 100_000 + b"\r\n\r\n", 0.2)
    return False


def healthy(exchange: Exchange) -> bool:
    return exchange.answer(200, b'{"status": "ok"}')


@pytest.mark.parametrize("behaviour", [drip_body, drip_headers], ids=["body", "headers"])
def test_a_dripping_server_ends_each_request_at_its_timeout(behaviour: object, gate: Gate, tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    with hostile(behaviour) as green, hostile(healthy) as other:  # type: ignore[arg-type]
        run = gate.run(
            env={
                "TRAFFICGATE_TEST_URL": green.url,
                "TRAFFICGATE_PROD_URL": other.url,
                "TRAFFICGATE_REQUEST_TIMEOUT_S": "2",
                "TRAFFICGATE_PLAN_FILE": str(plan),
            },
            timeout_s=60,
        )
        connections = list(green.connections)

    assert not run.result.timed_out
    assert run.statuses == ["Failed"]
    drips = run.check("green.drips")
    assert drips["details"]["error_counts"] == {"total_timeout": 2}  # the third was never sent: 2 > 50 %
    assert "deadline" not in run.reason
    assert run.check("after.it")["outcome"] == "pass"  # the check after the probe ran
    assert len(connections) == 2 and all(c.closed is not None for c in connections)
