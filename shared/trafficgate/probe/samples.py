"""A few GET requests per path to green and to blue, answers kept whole, for ``http.diff``.

Layer L1 (probe engine). The bounds of a burst hold: each request has its time budget (clamped
to the deadline) under one reaper, bodies are read up to ``max_body_bytes``, only the two base
URLs' hosts are contacted, and whatever a server sends ends as a failed request with a named
kind. The requests go one at a time, green first for even samples and blue first for odd ones
(as :mod:`.pairs` does), so each side meets the same moment; a handful of requests needs no
concurrency.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from trafficgate.probe.guard import Reaper
from trafficgate.probe.request import Prober, RequestOutcome
from trafficgate.probe.spec import ProbeSpec
from trafficgate.probe.target import probe_targets
from trafficgate.probe.transport import TargetAdapter, new_session
from trafficgate.redaction import Masker, registered


@dataclass(frozen=True)
class PathSamples:
    """What both sides answered on one path, in the order sent."""

    path: str
    green: tuple[RequestOutcome, ...]
    blue: tuple[RequestOutcome, ...]


@dataclass(frozen=True)
class SamplesResult:
    """Every path's answers; ``stop_reason`` is ``done``, ``deadline`` or ``cancelled``."""

    green_url: str
    blue_url: str
    paths: tuple[PathSamples, ...]
    stop_reason: str
    warnings: tuple[str, ...] = ()


def run_samples(
    green_spec: ProbeSpec,
    green_url: str,
    blue_spec: ProbeSpec,
    blue_url: str,
    *,
    paths: Sequence[str],
    samples: int,
    deadline: float | None = None,
    cancel: threading.Event | None = None,
) -> SamplesResult:
    """GET each of ``paths`` ``samples`` times on both sides, keeping status, Content-Type and body.

    Parameters
    ----------
    green_spec, blue_spec
        Timeouts, body cap, TLS and headers of each side (their ``path`` and ``method`` are
        replaced by each of ``paths`` and GET).
    green_url, blue_url
        Base URLs of the test and production listeners; the only hosts contacted.
    deadline
        A :func:`time.monotonic` value: no request starts after it, and one in flight is cut at it.
    cancel
        Set when the hook walks away: no new request starts.

    Raises
    ------
    ProbeConfigError
        A base URL or a path is unusable, or a ``ca_bundle`` does not exist.
    """
    targets, warnings = probe_targets([(green_spec, green_url), (blue_spec, blue_url)])
    specs = [[dataclasses.replace(spec, path=path, method="GET") for path in paths] for spec in (green_spec, blue_spec)]
    mask = Masker([*green_spec.headers.values(), *blue_spec.headers.values(), *registered()])
    sessions = new_session(), new_session()
    adapters = tuple(TargetAdapter(tls_name=target.tls_name, pool_size=1) for target in targets)
    done: list[PathSamples] = []
    stop = "done"
    try:
        with Reaper(name="samples-reaper") as reaper:
            for n, path in enumerate(paths):
                green, blue = (
                    Prober(side[n], target, session, adapter, deadline, reaper=reaper, mask=mask, keep_body=True)
                    for side, target, session, adapter in zip(specs, targets, sessions, adapters, strict=True)
                )
                answers: tuple[list[RequestOutcome], list[RequestOutcome]] = ([], [])
                for index in range(samples):
                    if cancel is not None and cancel.is_set():
                        stop = "cancelled"
                        break
                    order = ((green, answers[0]), (blue, answers[1]))
                    pair = [
                        (prober, kept, prober.run(index)) for prober, kept in (order if index % 2 == 0 else order[::-1])
                    ]
                    if any(outcome.aborted for _, _, outcome in pair):
                        stop = "deadline"  # a pair cut short is no pair: neither answer is kept
                        break
                    for _, kept, outcome in pair:
                        kept.append(outcome)
                if answers[0]:
                    done.append(PathSamples(path=path, green=tuple(answers[0]), blue=tuple(answers[1])))
                if stop != "done":
                    break
    finally:
        for adapter in adapters:
            adapter.close()
        for session in sessions:
            session.close()
    return SamplesResult(
        green_url=targets[0].display(""),
        blue_url=targets[1].display(""),
        paths=tuple(done),
        stop_reason=stop,
        warnings=tuple(warnings),
    )
