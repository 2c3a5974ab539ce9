"""One burst: ``spec.requests`` requests, ``spec.concurrency`` at a time, summarised.

Layer L1 (probe engine). Design decisions worth knowing before changing anything here:

* Only ``base_url``'s host is contacted. Redirects are not followed unless asked, and then
  only to the same scheme, host and port; ``resolve`` changes the connect address, never the name.
* The burst decides as soon as it can. Sequential (the default): once the success rate is shown
  below ``min_success_rate`` (fail) or above it (pass), no new request starts
  (:class:`~.sequential.SuccessRateTest`). Fixed: once the failures exceed what
  ``min_success_rate`` allows, no new request starts. Either way it also stops once a latency
  percentile is certain to exceed its limit. The requests in flight finish (bounded by their budget).
* Bodies are streamed and read up to ``max_body_bytes``; a longer body is *truncated* (not a
  failure by itself) and its connection is discarded, so memory stays bounded.
* Header values from the spec may be credentials: they never reach the result, a repr or a log
  line, and are masked if the server echoes them in a body sample.
"""

from __future__ import annotations

import contextvars
import logging
import math
import queue
import threading
import time
from collections.abc import Callable, Sequence

import requests
from requests.adapters import HTTPAdapter

from trafficgate.probe.certs import cert_days_left
from trafficgate.probe.claims import Claims
from trafficgate.probe.classify import TRANSPORT_ERRORS, classify_error
from trafficgate.probe.guard import Reaper
from trafficgate.probe.kinds import TLS_ERROR
from trafficgate.probe.request import Prober, RequestOutcome
from trafficgate.probe.results import LATENCY_SAMPLES, TIME_BINS, BurstResult
from trafficgate.probe.sequential import SuccessRateTest
from trafficgate.probe.spec import ProbeSpec
from trafficgate.probe.stats import percentile, spread, time_bins
from trafficgate.probe.tally import Tally
from trafficgate.probe.target import probe_targets
from trafficgate.probe.transport import TargetAdapter, new_session
from trafficgate.redaction import Masker, registered

logger = logging.getLogger(__name__)

class _Control(Claims):
    """:class:`~.claims.Claims` with the burst's stopping rules: a decision on the success rate
    (sequential), too many failures (fixed), or latency."""

    def __init__(
        self,
        planned: int,
        allowed_failures: int,
        deadline: float | None,
        latency_limits: Sequence[tuple[float, int]] = (),
        rate_test: SuccessRateTest | None = None,
    ) -> None:
        super().__init__(planned, deadline)
        self.allowed_failures = allowed_failures
        self.rate_test = rate_test
        # Answers that came before an earlier request's, by index; the next index the test takes.
        self._waiting: dict[int, bool] = {}
        self._fed = 0
        # (limit_ms, how many responses may be slower than it before the percentile must exceed it)
        self.latency_limits = tuple(latency_limits)
        self.slow = [0] * len(self.latency_limits)
        self.failures = 0

    def record(self, outcome: RequestOutcome) -> None:
        if outcome.aborted:
            return
        with self.lock:
            if outcome.latency_ms is not None:
                # Fail fast on latency too: once more responses are slower than a limit than the
                # percentile can absorb over the whole burst, that percentile is certain to exceed it.
                for i, (limit_ms, budget) in enumerate(self.latency_limits):
                    if outcome.latency_ms > limit_ms:
                        self.slow[i] += 1
                        if self.slow[i] > budget and self.stop_reason is None:
                            self.stop_reason = "latency"
            if self.rate_test is not None:
                # In the order requests were sent, not the order they end: an answer that overtakes
                # an earlier request waits for it (an aborted one ends the run: nothing after counts).
                self._waiting[outcome.index] = not outcome.ok
                while self._fed in self._waiting:
                    decision = self.rate_test.add(self._waiting.pop(self._fed))
                    self._fed += 1
                    if decision is not None and self.stop_reason is None:
                        self.stop_reason = "failures" if decision == "fail" else "shown"
            if outcome.ok:
                return
            self.failures += 1
            if self.rate_test is None and self.failures > self.allowed_failures and self.stop_reason is None:
                self.stop_reason = "failures"

    def cancel(self) -> bool:
        """Stop for good because the hook walked away; True the first time."""
        with self.lock:
            first = self.stop_reason != "cancelled"
            self.stop_reason = "cancelled"
            return first


def _worker(prober: Prober, control: _Control, results: queue.SimpleQueue[RequestOutcome | None]) -> None:
    try:
        while (index := control.claim()) is not None:
            outcome = prober.run(index)
            control.record(outcome)
            results.put(outcome)
    except BaseException as exc:  # a bug, not a transport error: hand it to the caller's thread
        control.crashed(exc)
    finally:
        results.put(None)


def run_burst(
    spec: ProbeSpec,
    base_url: str,
    *,
    deadline: float | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    session: requests.Session | None = None,
    cancel: threading.Event | None = None,
) -> BurstResult:
    """Send ``spec.requests`` requests, ``spec.concurrency`` at a time, and summarise them.

    Parameters
    ----------
    spec
        What to send and what each response must satisfy.
    base_url
        ``http(s)://host[:port][/prefix]``; ``spec.path`` is appended. The only host contacted.
    deadline
        A :func:`time.monotonic` value. No request starts after it and requests in flight
        are cut at it (and counted as aborted, not failed).
    on_progress
        Called as ``on_progress(done, planned)`` in the calling thread after every request.
    session
        Optional :class:`requests.Session` whose headers and auth are merged into each
        request. A custom adapter mounted on it (a fake in tests) is used as is; the stock
        ``HTTPAdapter`` is replaced for this burst by one that applies ``host_header``,
        ``resolve`` and a pool as large as the concurrency. Without a session the engine
        uses its own (no cookies, no proxies or netrc from the environment).
    cancel
        Set by the hook when it walks away from the probe (its deadline came): no new request
        starts, and the sockets of those in flight are shut within moments.

    Returns
    -------
    BurstResult
        Counts, latency percentiles, samples of failures and warnings. Judge it with
        :func:`trafficgate.probe.evaluate`.

    Raises
    ------
    ProbeConfigError
        If ``base_url`` is unusable or ``ca_bundle`` does not exist.
    """
    started = time.monotonic()
    started_at = time.time()
    (target,), warnings = probe_targets([(spec, base_url)])
    cert_days: float | None = None
    cert_error: str | None = None
    if spec.min_cert_days is not None:
        if not target.https:
            warnings.append("min_cert_days ignored: the target is not HTTPS")
        elif deadline is None or time.monotonic() < deadline:
            timeout = spec.timeout_s if deadline is None else min(spec.timeout_s, deadline - time.monotonic())
            try:
                cert_days = round(cert_days_left(target, spec, max(timeout, 0.001)), 2)
            except ValueError:  # a certificate our small DER reader does not understand
                cert_error = TLS_ERROR
            except TRANSPORT_ERRORS as exc:
                cert_error = classify_error(exc)

    logger.debug(
        "probe burst starting",
        extra={
            "target": target.display(spec.path),
            "requests": spec.requests,
            "concurrency": spec.concurrency,
        },
    )
    own_session = session is None
    active = session if session is not None else new_session()
    adapter: requests.adapters.BaseAdapter
    ours: TargetAdapter | None = None
    current = active.get_adapter(target.adapter_prefix)
    if type(current) is HTTPAdapter or own_session:
        ours = TargetAdapter(tls_name=target.tls_name, pool_size=spec.concurrency)
        adapter = ours
    else:
        adapter = current
    mask = Masker([*spec.headers.values(), *registered()])
    tally = Tally(spec, mask, started)
    rate_test = SuccessRateTest(spec.min_success_rate, spec.alpha) if spec.sequential else None
    control = _Control(spec.requests, spec.allowed_failures, deadline, latency_budgets(spec), rate_test)
    try:
        with Reaper() as reaper:
            prober = Prober(spec, target, active, adapter, deadline, reaper=reaper, mask=mask)
            _run_workers(prober, control, tally, spec, on_progress, cancel)
    finally:
        if ours is not None:
            ours.close()
        if own_session:
            active.close()

    if tally.truncated and spec.has_body_assertions:
        warnings.append(
            f"{tally.truncated} body(ies) longer than max_body_bytes={spec.max_body_bytes}: "
            "assertions saw only the first bytes"
        )
    if tally.redirects_blocked:
        warnings.append(f"{tally.redirects_blocked} redirect(s) to another origin not followed")
    lat = sorted(tally.latencies)
    duration_s = time.monotonic() - started
    bin_ms, ended, failed = time_bins(tally.ended, duration_s, TIME_BINS)
    result = BurstResult(
        target=target.display(spec.path),
        requests_planned=spec.requests,
        requests_sent=control.next_index,
        successes=tally.successes,
        failures=tally.failures,
        aborted=tally.aborted,
        allowed_failures=spec.allowed_failures,
        status_counts=dict(tally.status_counts),
        failed_status_counts=dict(tally.failed_status_counts),
        error_counts=dict(tally.error_counts),
        latency_count=len(lat),
        latency_p50_ms=_pct(lat, 50),
        latency_p95_ms=_pct(lat, 95),
        latency_p99_ms=_pct(lat, 99),
        latency_max_ms=_pct(lat, 100),
        duration_s=round(duration_s, 4),
        stopped_early=control.stop_reason in {"failures", "latency"} and control.next_index < spec.requests,
        deadline_hit=control.stop_reason in {"deadline", "cancelled"} or tally.aborted > 0,
        failure_samples=tuple(tally.samples),
        cert_days_left=cert_days,
        cert_error=cert_error,
        truncated_responses=tally.truncated,
        bytes_read=tally.bytes_read,
        redirects_followed=tally.redirects_followed,
        redirects_blocked=tally.redirects_blocked,
        warnings=tuple(warnings),
        latency_samples_ms=tuple(round(v, 1) for v in spread(lat, LATENCY_SAMPLES)),
        over_time={"started_at": round(started_at, 3), "bin_ms": bin_ms, "requests": ended, "failures": failed},
        sequential=None if rate_test is None else rate_test.to_dict(),
    )
    logger.debug(
        "probe burst done",
        extra={
            "target": result.target,
            "successes": result.successes,
            "failures": result.failures,
            "error_counts": dict(result.error_counts),
            "duration_s": result.duration_s,
        },
    )
    return result


def latency_budgets(spec: ProbeSpec) -> list[tuple[float, int]]:
    """For each latency limit: how many responses may exceed it before its percentile must.

    With nearest-rank percentiles over ``n`` responses, the p-th percentile is the value at rank
    ``ceil(p/100 * n)``; it exceeds a limit once more than ``n - ceil(p/100 * n)`` responses do.
    That budget only shrinks when fewer responses arrive, so counting against the planned ``n``
    never stops a burst that could still pass.
    """
    budgets = []
    for pct, limit in ((50, spec.max_p50_ms), (95, spec.max_p95_ms), (99, spec.max_p99_ms)):
        if limit is not None:
            n = spec.requests
            budgets.append((float(limit), n - math.ceil(pct * n / 100 - 1e-9)))
    return budgets


def _run_workers(
    prober: Prober,
    control: _Control,
    tally: Tally,
    spec: ProbeSpec,
    on_progress: Callable[[int, int], None] | None,
    cancel: threading.Event | None,
) -> None:
    results: queue.SimpleQueue[RequestOutcome | None] = queue.SimpleQueue()
    # Each worker runs in a copy of this thread's context (contextvars), so what it logs is
    # attributed to the invocation that started the burst, whenever it logs.
    workers = [
        threading.Thread(
            target=contextvars.copy_context().run,
            args=(_worker, prober, control, results),
            name=f"probe-{n}",
            daemon=True,
        )
        for n in range(min(spec.concurrency, spec.requests))
    ]
    for worker in workers:
        worker.start()
    running = len(workers)
    try:
        while running:
            if cancel is not None and cancel.is_set() and control.cancel():
                prober.reaper.cancel()
            try:
                outcome = results.get(timeout=_CANCEL_POLL_S if cancel is not None else None)
            except queue.Empty:
                continue
            if outcome is None:
                running -= 1
                continue
            tally.add(outcome)
            if on_progress is not None:
                on_progress(tally.done, spec.requests)
    finally:
        # Normally a no-op; after an error in on_progress it stops new requests, and the
        # join waits only for requests in flight (each bounded by its time budget).
        control.stop("aborted")
        for worker in workers:
            worker.join()
    if control.crash is not None:
        raise control.crash


#: How often a burst looks at its cancel flag while it waits for the next result.
_CANCEL_POLL_S = 0.05


def _pct(sorted_values: Sequence[float], pct: float) -> float | None:
    return round(percentile(sorted_values, pct), 2) if sorted_values else None
