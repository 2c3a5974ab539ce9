"""A few GET requests per path to green and to blue, each answer reduced to its form, for ``http.diff``.

Layer L1 (probe engine). The bounds of a burst hold: each request has its time budget (clamped
to the deadline) under one reaper, bodies are read up to ``max_body_bytes``, only the two base
URLs' hosts are contacted, and whatever a server sends ends as a failed request with a named
kind. The requests go one at a time, green first for even samples and blue first for odd ones
(as :mod:`.pairs` does), so each side meets the same moment; a handful of requests needs no
concurrency.

No body outlives its pair: each answer is reduced on arrival to its status class, media type and
JSON shape (:class:`Answers`), so memory stays at two bodies of ``max_body_bytes`` whatever the
number of paths and samples.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from trafficgate.probe.guard import Reaper
from trafficgate.probe.request import Prober, RequestOutcome
from trafficgate.probe.shape import Shape, is_json_media, json_shape, media_type, status_class
from trafficgate.probe.spec import ProbeSpec
from trafficgate.probe.target import probe_targets
from trafficgate.probe.transport import TargetAdapter, new_session
from trafficgate.redaction import Masker, registered


@dataclass
class Answers:
    """One side's answers on a path, reduced as they arrive: how many, their status classes and media
    types (counted), and the union of their JSON shapes. No body or value is kept."""

    requests: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    media: dict[str, int] = field(default_factory=dict)
    shape: Shape | None = None

    @classmethod
    def of(cls, outcomes: Iterable[RequestOutcome]) -> Answers:
        answers = cls()
        for outcome in outcomes:
            answers.add(outcome)
        return answers

    def add(self, outcome: RequestOutcome) -> None:
        """Take one answer's form; its body may be dropped afterwards."""
        self.requests += 1
        # No response time: the exchange did not end (cut mid-body, or no response at all).
        if outcome.status is None or outcome.latency_ms is None:
            _count(self.statuses, f"no answer ({outcome.kind or 'failed'})")
            return
        _count(self.statuses, status_class(outcome.status))
        kind = media_type(outcome.content_type)
        _count(self.media, kind)
        if not is_json_media(kind):
            return
        one = _body_shape(outcome)
        if self.shape is None:
            self.shape = one
        else:
            self.shape.merge(one)


def _count(counts: dict[str, int], key: str) -> None:
    counts[key] = counts.get(key, 0) + 1


def _body_shape(outcome: RequestOutcome) -> Shape:
    """The shape of a JSON answer; a body that is not JSON is a shape of its own (``$: not JSON``)."""
    if outcome.truncated:
        return _root("truncated JSON")
    try:
        document = json.loads(outcome.body)
    except (ValueError, RecursionError):
        return _root("not JSON")
    return json_shape(document)


def _root(kind: str) -> Shape:
    shape = Shape()
    shape.add((), kind)
    return shape


@dataclass(frozen=True)
class PathSamples:
    """What both sides answered on one path."""

    path: str
    green: Answers
    blue: Answers


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
    """GET each of ``paths`` ``samples`` times on both sides, keeping each answer's form (:class:`Answers`).

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
                answers = (Answers(), Answers())
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
                        kept.add(outcome)
                    del pair, outcome  # the bodies go now, before the next pair is read
                if answers[0].requests:
                    done.append(PathSamples(path=path, green=answers[0], blue=answers[1]))
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
