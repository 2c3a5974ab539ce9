"""Simulated users: a modest, steady stream of requests through the production listener.

A real canary step is judged on the production traffic it gets from users; a rehearsal has no
users, so a canary step saw only the probes' requests and its metric checks said "not judged".
:class:`UserLoad` sends ``rps`` requests a second through the local load balancer's production
listener for the whole rehearsal, so the ALB metrics it publishes (RequestCount, 5xx, response
time, per target group) carry what green and blue answered to "users".

Its requests carry :data:`USER_LOAD_HEADER`: the load balancer counts them apart from the probes'
(``LocalLoadBalancer.user_load_counts``) and an app can tell them from the probes'. They are never
probe evidence: the probes judge only the answers to their own requests.
"""

from __future__ import annotations

import http.client
import math
import threading
import time
from collections import Counter

__all__ = ["USER_LOAD_HEADER", "UserLoad"]

#: Marks a simulated user's request (value ``user``).
USER_LOAD_HEADER = "X-Trafficgate-User-Load"
#: One worker per this many requests a second, at most :data:`_MAX_WORKERS`: a slow green (1.5 s an
#: answer) holds one worker per request in flight, and the others keep the rate up meanwhile.
_RPS_PER_WORKER = 5.0
_MAX_WORKERS = 4
#: A user's patience; also bounds how long :meth:`UserLoad.stop` can wait for a worker.
_REQUEST_TIMEOUT_S = 5.0


class UserLoad:
    """Background workers sending ``rps`` GET requests a second to ``127.0.0.1:port``.

    Parameters
    ----------
    port : int
        The production listener's local port.
    rps : float
        Requests per second in total (> 0).
    host : str, optional
        The Host header to send (a listener rule's host-header condition); the port's own otherwise.
    path : str
        The path requested.
    """

    def __init__(self, port: int, rps: float, *, host: str | None = None, path: str = "/") -> None:
        if rps <= 0:
            raise ValueError(f"user load rps must be > 0, not {rps!r}")
        self.port = port
        self.rps = rps
        self.host = host
        self.path = path
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        #: Answers by HTTP status; ``error`` for a request that got none.
        self.statuses: Counter[str] = Counter()

    @property
    def sent(self) -> int:
        """Requests that got an answer or an error so far."""
        with self._lock:
            return sum(self.statuses.values())

    def start(self) -> UserLoad:
        """Start the workers (each paces its share of the rate)."""
        workers = max(1, min(_MAX_WORKERS, math.ceil(self.rps / _RPS_PER_WORKER)))
        interval = workers / self.rps
        for index in range(workers):
            # Spread the workers over one interval, so the requests are evenly spaced.
            offset = index * interval / workers
            thread = threading.Thread(
                target=self._work, args=(interval, offset), name=f"user-load-{index}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop the workers and wait for each (a request in flight ends within its timeout)."""
        self._stopping.set()
        for thread in self._threads:
            thread.join(_REQUEST_TIMEOUT_S + 1.0)
        self._threads = [t for t in self._threads if t.is_alive()]

    @property
    def running(self) -> bool:
        """True while a worker thread is alive."""
        return any(t.is_alive() for t in self._threads)

    def _work(self, interval: float, offset: float) -> None:
        headers = {USER_LOAD_HEADER: "user"}
        if self.host:
            headers["Host"] = self.host
        conn: http.client.HTTPConnection | None = None
        next_at = time.monotonic() + offset
        try:
            while not self._stopping.wait(max(0.0, next_at - time.monotonic())):
                next_at = max(next_at + interval, time.monotonic() - interval)  # no burst after a slow answer
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=_REQUEST_TIMEOUT_S)
                try:
                    conn.request("GET", self.path, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    outcome = str(response.status)
                    if response.will_close:
                        conn.close()
                        conn = None
                except (OSError, http.client.HTTPException):
                    outcome = "error"
                    if conn is not None:
                        conn.close()
                    conn = None
                with self._lock:
                    self.statuses[outcome] += 1
        finally:
            if conn is not None:
                conn.close()
