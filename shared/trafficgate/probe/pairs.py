"""Request pairs: the same request to green and to blue, pair after pair, judged in the order sent.

Layer L1 (probe engine). The bounds of a burst (:mod:`.burst`) hold for both sides: each request
has its time budget, enforced by one reaper; bodies are read up to ``max_body_bytes``; only the
two base URLs' hosts are contacted; header values are masked in every sample; whatever either
server sends ends as a failed request with a named kind, never as an exception. Design decisions:

* **Interleaved, order alternated.** Pair ``i`` is one request to each side, sent one after the
  other by the same worker: green first for even ``i``, blue first for odd ``i``. Both sides so
  meet the same moment (load, caches, a noisy neighbour), and whatever the first request of a
  pair does for the second (a warmed cache shared by both versions, a database page read in) is
  given to each side half of the time, so it cancels instead of favouring one.
* **Same concurrency.** ``concurrency`` workers run pairs side by side; each side sees the same
  number of requests in flight, through its own connection pool of that size (kept-alive
  connections on both sides alike).
* **Judged in the order sent.** Pairs finish out of order; the caller's ``judge`` sees pair
  ``i`` only after every pair before it. A slow pair therefore cannot be overtaken by fast ones
  and left out when the judge stops early: the sequence judged is the sequence sent, which is
  what the sequential tests' guarantee assumes. Pairs finished after the decision are not judged.
"""

from __future__ import annotations

import contextvars
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from trafficgate.probe.claims import Claims
from trafficgate.probe.guard import Reaper
from trafficgate.probe.request import Prober, RequestOutcome
from trafficgate.probe.results import LATENCY_SAMPLES, TIME_BINS, FailureSample
from trafficgate.probe.spec import ProbeSpec
from trafficgate.probe.stats import spread, time_bins
from trafficgate.probe.tally import Tally
from trafficgate.probe.target import Target, probe_targets
from trafficgate.probe.transport import TargetAdapter, new_session
from trafficgate.redaction import Masker, registered

#: One judged pair: green's and blue's response time in ms, or None for a failed request.
Pair = tuple[float | None, float | None]
#: Takes one pair; True once it has decided (no new pair starts after that).
Judge = Callable[[float | None, float | None], bool]

#: How often the pairs look at the cancel flag while they wait for the next result.
_CANCEL_POLL_S = 0.05


@dataclass(frozen=True, kw_only=True)
class SideResult:
    """One side's requests in the judged pairs.

    ``latencies_ms`` holds the response times of its successful requests, in pair order;
    ``latency_samples_ms`` and ``over_time`` are their bounded picture, as a burst's
    (:class:`~trafficgate.probe.results.BurstResult`): at most 200 latencies evenly spread in rank,
    and judged and failed requests per time bin since the Unix ``started_at``.
    """

    target: str
    requests: int
    successes: int
    failures: int
    latencies_ms: tuple[float, ...]
    status_counts: dict[int, int]
    error_counts: dict[str, int]
    failure_samples: tuple[FailureSample, ...]
    truncated_responses: int
    bytes_read: int
    latency_samples_ms: tuple[float, ...] = ()
    over_time: dict[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class PairsResult:
    """What a run of pairs measured.

    ``stop_reason`` is ``decided`` (the judge decided), ``cap`` (``max_pairs`` pairs judged),
    ``deadline`` or ``cancelled``. ``unjudged`` counts pairs that finished but were not judged:
    after the decision, or cut short by the deadline on either side.
    """

    green: SideResult
    blue: SideResult
    pairs: tuple[Pair, ...]
    sent: int
    unjudged: int
    stop_reason: str
    duration_s: float
    warnings: tuple[str, ...] = ()


#: Which pair is next and why sending stopped: the burst's way of handing out work.
_Control = Claims


_Done = tuple[int, RequestOutcome, RequestOutcome]

#: What a pair keeps of a failed response's body while it waits to be judged in order: enough
#: for a masked failure sample (200 characters are shown), never the whole body. A successful
#: response keeps none. Pairs that finish behind a slow one wait, so this bounds their memory.
KEPT_BODY_BYTES = 1024


def _slim(outcome: RequestOutcome) -> RequestOutcome:
    outcome.body = b"" if outcome.ok else outcome.body[:KEPT_BODY_BYTES]
    return outcome


def _worker(green: Prober, blue: Prober, control: _Control, results: queue.SimpleQueue[_Done | None]) -> None:
    try:
        while (index := control.claim()) is not None:
            if index % 2 == 0:
                g = green.run(index)
                b = blue.run(index)
            else:
                b = blue.run(index)
                g = green.run(index)
            results.put((index, _slim(g), _slim(b)))
    except BaseException as exc:  # a bug, not a transport error: hand it to the caller's thread
        control.crashed(exc)
    finally:
        results.put(None)


def run_pairs(
    green_spec: ProbeSpec,
    green_url: str,
    blue_spec: ProbeSpec,
    blue_url: str,
    *,
    judge: Judge,
    max_pairs: int,
    deadline: float | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> PairsResult:
    """Send request pairs to green and blue until ``judge`` decides, ``max_pairs`` or the deadline.

    Parameters
    ----------
    green_spec, blue_spec
        What to send each side and what its responses must satisfy. They differ at most in
        what the listener needs (Host header and TLS name, headers); the judge compares
        like with like only if the path, method and assertions are the same.
    green_url, blue_url
        Base URLs of the test and production listeners; the only hosts contacted.
    judge
        Called in this thread with each pair, in the order sent: ``(green_ms, blue_ms)``, each
        the response time of a successful request or None for a failed one (status or
        assertion, as in a burst). Returns True once it has decided.
    max_pairs
        Pairs at most (requests per side).
    deadline
        A :func:`time.monotonic` value: no pair starts after it, and requests in flight are cut
        at it (their pair is not judged).
    on_progress
        ``on_progress(judged, max_pairs)`` after every judged pair.
    cancel
        Set when the hook walks away: no new request starts, and those in flight are shut.

    Raises
    ------
    ProbeConfigError
        A base URL is unusable or a ``ca_bundle`` does not exist.
    """
    started = time.monotonic()
    started_at = time.time()
    targets, warnings = probe_targets([(green_spec, green_url), (blue_spec, blue_url)])
    mask = Masker([*green_spec.headers.values(), *blue_spec.headers.values(), *registered()])
    tallies = Tally(green_spec, mask, started), Tally(blue_spec, mask, started)
    sessions = new_session(), new_session()
    adapters = tuple(
        TargetAdapter(tls_name=target.tls_name, pool_size=spec.concurrency)
        for spec, target in zip((green_spec, blue_spec), targets, strict=True)
    )
    control = _Control(max_pairs, deadline)
    judged: list[Pair] = []
    unjudged = 0
    try:
        with Reaper(name="pairs-reaper") as reaper:
            green, blue = (
                Prober(spec, target, session, adapter, deadline, reaper=reaper, mask=mask)
                for spec, target, session, adapter in zip(
                    (green_spec, blue_spec), targets, sessions, adapters, strict=True
                )
            )
            results: queue.SimpleQueue[_Done | None] = queue.SimpleQueue()
            workers = [
                threading.Thread(
                    target=contextvars.copy_context().run,
                    args=(_worker, green, blue, control, results),
                    name=f"pairs-{n}",
                    daemon=True,
                )
                for n in range(min(green_spec.concurrency, max_pairs))
            ]
            for worker in workers:
                worker.start()
            waiting: dict[int, tuple[RequestOutcome, RequestOutcome]] = {}
            next_index = 0
            decided = cut = False
            running = len(workers)
            try:
                while running:
                    if cancel is not None and cancel.is_set() and control.stop_reason != "cancelled":
                        with control.lock:
                            control.stop_reason = "cancelled"
                        reaper.cancel()
                    try:
                        item = results.get(timeout=_CANCEL_POLL_S if cancel is not None else None)
                    except queue.Empty:
                        continue
                    if item is None:
                        running -= 1
                        continue
                    waiting[item[0]] = (item[1], item[2])
                    while next_index in waiting:
                        g, b = waiting.pop(next_index)
                        next_index += 1
                        # After a pair cut at the deadline, none is judged: the pairs sent after it
                        # that did finish are the fast ones, and judging them alone would favour a
                        # slow side.
                        cut = cut or g.aborted or b.aborted
                        if decided or cut:
                            unjudged += 1
                            continue
                        tallies[0].add(g)
                        tallies[1].add(b)
                        pair = (_ms(g), _ms(b))
                        judged.append(pair)
                        decided = judge(*pair)
                        if on_progress is not None:
                            on_progress(len(judged), max_pairs)
                        if decided:
                            control.stop("decided")
            finally:
                control.stop("aborted")
                for worker in workers:
                    worker.join()
    finally:
        for adapter in adapters:
            adapter.close()
        for session in sessions:
            session.close()
    if control.crash is not None:
        raise control.crash
    unjudged += len(waiting)
    if decided:
        reason = "decided"
    elif control.stop_reason == "cancelled":
        reason = "cancelled"
    else:  # the pairs that were not judged ran into the deadline (before starting, or cut in flight)
        reason = "cap" if len(judged) >= max_pairs else "deadline"
    duration_s = time.monotonic() - started
    clock = (started_at, duration_s)
    return PairsResult(
        green=_side(targets[0], green_spec, tallies[0], [g for g, _ in judged], clock),
        blue=_side(targets[1], blue_spec, tallies[1], [b for _, b in judged], clock),
        pairs=tuple(judged),
        sent=control.next_index,
        unjudged=unjudged,
        stop_reason=reason,
        duration_s=round(duration_s, 4),
        warnings=tuple(warnings),
    )


def _ms(outcome: RequestOutcome) -> float | None:
    return outcome.latency_ms if outcome.ok and outcome.latency_ms is not None else None


def _side(
    target: Target, spec: ProbeSpec, tally: Tally, times: list[float | None], clock: tuple[float, float]
) -> SideResult:
    started_at, duration_s = clock
    bin_ms, ended, failed = time_bins(tally.ended, duration_s, TIME_BINS)
    ok = sorted(t for t in times if t is not None)
    return SideResult(
        target=target.display(spec.path),
        requests=tally.done,
        successes=tally.successes,
        failures=tally.failures,
        latencies_ms=tuple(t for t in times if t is not None),
        status_counts=dict(tally.status_counts),
        error_counts=dict(tally.error_counts),
        failure_samples=tuple(tally.samples),
        truncated_responses=tally.truncated,
        bytes_read=tally.bytes_read,
        latency_samples_ms=tuple(round(v, 1) for v in spread(ok, LATENCY_SAMPLES)),
        over_time={"started_at": round(started_at, 3), "bin_ms": bin_ms, "requests": ended, "failures": failed},
    )
