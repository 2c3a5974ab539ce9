"""The two demo apps, blue and green: real HTTP servers on 127.0.0.1 whose behaviour is a scenario."""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: Green behaviours a rehearsal can choose, with what each does.
SCENARIOS: dict[str, str] = {
    "healthy": "answers 200 with the expected JSON body",
    "errors": "answers 500 to one request in five",
    "slow": "answers correctly, but after 1.5 s",
    "down": "nothing listens: connections are refused",
    "bad-body": "answers 200 with the wrong content",
    "flaky-start": "answers 503 for the first 10 s after it starts, then healthy",
    "bad-port": "the new task definition maps container port 80, the AppSpec says 8080",
    "oom": "a replacement task stops with OutOfMemoryError during Install",
    "regression": "answers correctly in 60 ms where blue takes 20 ms: well under the p95 limit, three times slower",
    "shape": "answers 200 with the expected status, but its JSON has lost the field 'path' that blue sends",
    "noisy": "blue and green both answer 503 to 2 % of requests, at random: green is exactly as good as blue",
    "blocked-sg": "the tasks' security group lets the load balancer in on port 443, not on the container port 8080",
    "no-pull-role": "the task execution role may pull images only from another team's ECR repository",
}

#: How long blue answers in the ``regression`` scenario; green takes three times as long. Far above
#: the comparison's 5 ms floor, so a busy machine's jitter does not decide it.
REGRESSION_BLUE_S = 0.02
#: The share of requests both apps answer 503 in the ``noisy`` scenario, each app at random.
NOISE_RATE = 0.02

#: What a healthy app answers; the rehearsal's probe asserts on it with a body regex.
HEALTHY_BODY_REGEX = r'"status":\s*"ok"'


@dataclass
class AppBehaviour:
    """How an app answers. ``version`` shows in every body so a probe can tell blue from green."""

    version: str
    scenario: str = "healthy"
    error_every: int = 5
    slow_s: float = 1.5
    flaky_s: float = 10.0
    #: Time every answer takes (the ``regression`` scenario's blue and green).
    delay_s: float = 0.0
    #: Share of requests answered 503 at random (the ``noisy`` scenario's blue and green).
    noise_rate: float = 0.0

    def __post_init__(self) -> None:
        if self.scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {self.scenario!r}; expected one of: {', '.join(SCENARIOS)}")


#: Settings a scenario's service would have, applied under the rehearsal's own ``--set``. A service
#: whose blue answers 5xx to 2 % of requests sets its absolute floors below that normal rate (a
#: green at 98 % really is below a 99 % floor, and would rightly be shown so): the floors catch gross
#: breakage, and green against blue catches a regression of a point or two.
SCENARIO_SETTINGS: dict[str, dict[str, str]] = {
    "noisy": {"TRAFFICGATE_MIN_SUCCESS_RATE": "0.95", "TRAFFICGATE_MAX_5XX_RATE": "0.05"},
}


def scenario_noise(scenario: str) -> float:
    """The share of requests blue and green both answer 503 in ``scenario`` (0 but in ``noisy``)."""
    return NOISE_RATE if scenario == "noisy" else 0.0


def scenario_delays(scenario: str) -> tuple[float, float]:
    """How long blue and green take to answer in ``scenario`` (seconds; nothing added but in ``regression``)."""
    return (REGRESSION_BLUE_S, 3 * REGRESSION_BLUE_S) if scenario == "regression" else (0.0, 0.0)


class DemoApp:
    """A threaded HTTP app on 127.0.0.1. ``down`` binds nothing, so its port refuses connections."""

    def __init__(self, behaviour: AppBehaviour, *, port: int = 0) -> None:
        self.behaviour = behaviour
        self.requests = 0
        self._lock = threading.Lock()
        # Seeded by the app's version: each side's noise is its own, and a rehearsal can be repeated.
        self._noise = random.Random(f"noise-{behaviour.version}")
        self._started = time.monotonic()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = port
        if behaviour.scenario == "down":
            self.port = port or _free_port()
            return
        app = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                status, body = app.answer(self.path)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("X-App-Version", app.behaviour.version)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *_args: Any) -> None:
                return

        self._server = QuietHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> DemoApp:
        self._started = time.monotonic()
        if self._server is not None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},  # a quick shutdown: rehearsals run back to back in tests
                name=f"app-{self.behaviour.version}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def answer(self, path: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests += 1
            n = self.requests
            noisy = self.behaviour.noise_rate > 0 and self._noise.random() < self.behaviour.noise_rate
        b = self.behaviour
        if path == "/orders/schema":
            # The example orders endpoint (examples/custom_check): green serves the new schema.
            return 200, {"schema_version": 2 if b.version == "green" else 1}
        ok = {"status": "ok", "version": b.version, "path": path}
        if b.scenario == "errors" and n % b.error_every == 0:
            return 500, {"status": "error", "version": b.version}
        if noisy:
            return 503, {"status": "busy", "version": b.version}
        if b.delay_s > 0:
            time.sleep(b.delay_s)
        if b.scenario == "slow":
            time.sleep(b.slow_s)
        if b.scenario == "bad-body":
            return 200, {"status": "maintenance", "version": b.version}
        if b.scenario == "shape":
            return 200, {"status": "ok", "version": b.version}
        if b.scenario == "flaky-start" and time.monotonic() - self._started < b.flaky_s:
            return 503, {"status": "starting", "version": b.version}
        return 200, ok


class QuietHTTPServer(ThreadingHTTPServer):
    """A threaded server that does not print a traceback when a client hangs up mid-answer.

    Probes stop early by design (fail fast), so a closed connection is normal here.
    """

    daemon_threads = True
    #: socketserver's listen backlog is 5: the probes' concurrency plus the simulated users overflow
    #: it on a busy machine, and a dropped SYN is retried after 1 s, a latency no app or ALB caused.
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port
