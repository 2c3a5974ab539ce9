"""The numbers behind the README's "Safety guarantees" (a script, not a test).

Run: ``.venv/bin/python bench/safety_bench.py``. Exits 1 if a target is missed.

(a) regex cost: RE2 searches for ``.*healthy`` and ``^(a|a)*$`` over a 300 KB and an 8 MiB
    one-line body (the largest ``max_body_bytes``); target: each under 1 s (Python's ``re`` took
    seconds per 300 KB response, and forever on the second pattern);
(b) the longest request: one request with ``timeout_s=2`` against a server dripping one byte
    every 50 ms; target: ended within the timeout plus 0.5 s, as ``total_timeout``;
(c) abandoned probes: a burst of 20 concurrent requests on dripping connections (timeout 60 s)
    is called off after 1 s; target: every probe thread gone within 1.5 s of the call;
(d) masking cost: masking a 10 KB log line with three secrets registered; target: under 20 ms.
"""

from __future__ import annotations

import socket
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from trafficgate.probe import ProbeSpec, run_burst
from trafficgate.probe.regex import compile_pattern
from trafficgate.redaction import Masker

DRIP_EVERY_S = 0.05


@contextmanager
def dripping_server() -> Iterator[str]:
    """Answers every request with a huge Content-Length and then one byte per 50 ms."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    listener.settimeout(0.1)
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        try:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n")
            while not stop.wait(DRIP_EVERY_S):
                conn.sendall(b"z")
        except OSError:
            pass
        finally:
            conn.close()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.close()


def regex_cost() -> list[tuple[str, float]]:
    rows = []
    small = b'{"items":[' + b'{"id":1,"name":"widget","price":9.99},' * 8000 + b"]}"
    large = b"a" * (8 * 1_048_576 - 1) + b"b"
    for pattern in (".*healthy", "^(a|a)*$"):
        compiled = compile_pattern(pattern)
        for name, body in (("300 KB", small.decode()), ("8 MiB", large.decode())):
            times = []
            for _ in range(3):
                started = time.perf_counter()
                compiled.search(body)
                times.append(time.perf_counter() - started)
            rows.append((f"RE2 {pattern!r} over {name}", statistics.median(times)))
    return rows


def longest_request() -> tuple[float, dict[str, int]]:
    with dripping_server() as url:
        spec = ProbeSpec(requests=1, concurrency=1, timeout_s=2.0)
        started = time.monotonic()
        burst = run_burst(spec, url)
        return time.monotonic() - started, dict(burst.error_counts)


def abandoned_probes() -> float:
    with dripping_server() as url:
        spec = ProbeSpec(requests=20, concurrency=20, timeout_s=60.0)
        cancel = threading.Event()
        probe = threading.Thread(target=lambda: run_burst(spec, url, cancel=cancel), name="bench-burst")
        probe.start()
        time.sleep(1.0)
        cancel.set()
        called_off = time.monotonic()
        while any(t.name.startswith(("probe-", "bench-burst")) for t in threading.enumerate()):
            time.sleep(0.005)
        return time.monotonic() - called_off


def masking_cost() -> float:
    secrets = ["Bearer Zq8Lm3Vt7Rk2Pw9Hn4Cb6Dy1Fg5Js0", "Ae7Ui3Oo9Ye2Ww8Qq4Tt1Bb", "hunter2hunter2"]
    masker = Masker(secrets)
    line = ('{"level":"INFO","message":"verdict","detail":"' + "x" * 10_000 + secrets[1] + '"}')[:10_240]
    times = []
    for _ in range(20):
        started = time.perf_counter()
        masker(line)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    missed = False
    print(f"{'measure':52} {'value':>10}  target")
    for name, seconds in regex_cost():
        ok = seconds < 1.0
        missed |= not ok
        print(f"(a) {name:48} {seconds * 1000:8.1f} ms  < 1000 ms  {'ok' if ok else 'MISSED'}")
    took, kinds = longest_request()
    ok = took <= 2.5 and kinds == {"total_timeout": 1}
    missed |= not ok
    verdict = "ok" if ok else "MISSED"
    print(f"(b) {'request, timeout 2 s, server dripping':48} {took:8.2f} s   <= 2.5 s   {verdict} {kinds}")
    gone = abandoned_probes()
    ok = gone <= 1.5
    missed |= not ok
    print(f"(c) {'20 probe threads gone after the call-off':48} {gone:8.2f} s   <= 1.5 s   {'ok' if ok else 'MISSED'}")
    cost = masking_cost()
    ok = cost < 0.020
    missed |= not ok
    verdict = "ok" if ok else "MISSED"
    print(f"(d) {'masking a 10 KB log line, 3 secrets':48} {cost * 1000:8.2f} ms  < 20 ms    {verdict}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
