"""Benchmark of the probe engine against local servers (a script, not a test).

Run: ``.venv/bin/python bench/probe_bench.py``. Exits 1 if a target is missed.

(a) throughput: 1000 requests, 20 at a time (a fixed burst), against a server answering in 10 ms.
    The theoretical time is 1000 / 20 * 0.010 s = 0.5 s, but the bench's own Python server and a
    busy machine add to it whatever the engine does; so the target compares the engine with the
    same machine's bare baseline: 20 threads of raw ``http.client`` keep-alive connections sending
    the same 1000 requests to the same server, and baseline/measured must be >= 0.5 (the engine
    at least half as fast as no engine at all). theoretical/measured is shown too;
(b) peak RSS of the probing process during that burst (<= 128 MB); the probe runs in a
    child process so the servers (in this process) do not count;
(c) time to a failing result against an all-500 server with the default spec (<= 2 s).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

REQUESTS = 1000
CONCURRENCY = 20
SERVICE_S = 0.010
TARGET_RATIO = 0.5
TARGET_RSS_MB = 128.0
TARGET_FAIL_S = 2.0

# Runs in the child: only the library and the probe, nothing of the servers.
CHILD = r"""
import http.client, itertools, json, resource, sys, threading, time, urllib.parse
from trafficgate.probe import ProbeSpec, evaluate, run_burst

ok_url, error_url, requests, concurrency = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def baseline():
    # The same requests with no engine: one keep-alive http.client connection per thread.
    host, port = urllib.parse.urlsplit(ok_url).hostname, urllib.parse.urlsplit(ok_url).port
    tickets, lock = itertools.count(), threading.Lock()

    def work():
        connection = http.client.HTTPConnection(host, port, timeout=10)
        while True:
            with lock:
                if next(tickets) >= requests:
                    break
            connection.request("GET", "/")
            response = connection.getresponse()
            response.read()
        connection.close()

    threads = [threading.Thread(target=work) for _ in range(concurrency)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - started


baseline_s = min(baseline() for _ in range(2))  # the better of two: the first warms the server's threads
spec = ProbeSpec(requests=requests, concurrency=concurrency, decision="fixed")
started = time.monotonic()
burst = run_burst(spec, ok_url)
burst_s = time.monotonic() - started
rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
ok = evaluate(spec, burst)

default = ProbeSpec()
started = time.monotonic()
failed = evaluate(default, run_burst(default, error_url))
fail_s = time.monotonic() - started
print(json.dumps({
    "baseline_s": baseline_s, "burst_s": burst_s, "outcome": str(ok.outcome), "successes": burst.successes,
    "p50_ms": burst.latency_p50_ms, "p95_ms": burst.latency_p95_ms,
    "rss_start_kib": rss_start, "rss_peak_kib": rss_peak,
    "fail_s": fail_s, "fail_outcome": str(failed.outcome), "fail_reason": failed.reason,
}))
"""


def _handler(status: int, delay_s: float) -> type[BaseHTTPRequestHandler]:
    body = b'{"status": "ok"}' if status < 400 else b"error"

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the client reuses its pooled connections
        disable_nagle_algorithm = True  # headers and body are two writes: avoid 40 ms delayed-ACK stalls

        def do_GET(self) -> None:
            if delay_s:
                time.sleep(delay_s)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # 20 connections arrive at once; the default backlog of 5 drops SYNs


@contextmanager
def serve(status: int, delay_s: float) -> Iterator[str]:
    server = _Server(("127.0.0.1", 0), _handler(status, delay_s))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def main() -> int:
    with serve(200, SERVICE_S) as ok_url, serve(500, 0.0) as error_url:
        child = subprocess.run(
            [sys.executable, "-c", CHILD, ok_url, error_url, str(REQUESTS), str(CONCURRENCY)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    if child.returncode != 0:
        print(child.stderr, file=sys.stderr)
        return 1
    data = json.loads(child.stdout.strip().splitlines()[-1])
    ideal = REQUESTS / CONCURRENCY * SERVICE_S
    theoretical = ideal / data["burst_s"]
    ratio = data["baseline_s"] / data["burst_s"]
    # ru_maxrss is in KiB on Linux.
    rss_mb = data["rss_peak_kib"] / 1024
    rows = [
        ("(a) burst theoretical s", f"{ideal:.3f}", "", ""),
        ("(a) bare http.client s", f"{data['baseline_s']:.3f}", "", "same machine, same server"),
        ("(a) burst measured s", f"{data['burst_s']:.3f}", "", f"{data['successes']}/{REQUESTS} ok"),
        ("(a) theoretical/measured", f"{theoretical:.2f}", "", "shown, not judged"),
        ("(a) baseline/measured", f"{ratio:.2f}", f">= {TARGET_RATIO}", _verdict(ratio >= TARGET_RATIO)),
        ("(a) latency p50/p95 ms", f"{data['p50_ms']:.1f}/{data['p95_ms']:.1f}", "", ""),
        ("(b) peak RSS MB", f"{rss_mb:.1f}", f"<= {TARGET_RSS_MB:.0f}", _verdict(rss_mb <= TARGET_RSS_MB)),
        ("    (RSS after imports MB)", f"{data['rss_start_kib'] / 1024:.1f}", "", ""),
        (
            "(c) all-500 to FAIL s",
            f"{data['fail_s']:.3f}",
            f"<= {TARGET_FAIL_S}",
            _verdict(data["fail_s"] <= TARGET_FAIL_S),
        ),
    ]
    print(f"{'measure':<28}{'value':>12}  {'target':<10}  result")
    for name, value, target, verdict in rows:
        print(f"{name:<28}{value:>12}  {target:<10}  {verdict}")
    print(f"(c) reason: {data['fail_reason']}")
    met = (
        ratio >= TARGET_RATIO
        and rss_mb <= TARGET_RSS_MB
        and data["fail_s"] <= TARGET_FAIL_S
        and data["successes"] == REQUESTS
        and data["fail_outcome"] == "fail"
    )
    return 0 if met else 1


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


if __name__ == "__main__":
    sys.exit(main())
