"""Counting what requests brought back: statuses, error kinds, latencies, masked failure samples.

Layer L1 (probe engine). Shared by a burst (:mod:`.burst`) and each side of a comparison
(:mod:`.pairs`), so both describe failures the same way, masked the same way.
"""

from __future__ import annotations

import time
from collections import Counter

from trafficgate.probe.kinds import CONNECTION_ERROR, SAMPLE_CHARS, STATUS
from trafficgate.probe.request import RequestOutcome
from trafficgate.probe.results import FailureSample
from trafficgate.probe.spec import ProbeSpec
from trafficgate.redaction import Masker


class Tally:
    """Aggregates the outcomes of one side's requests in the calling thread (failure samples masked)."""

    def __init__(self, spec: ProbeSpec, mask: Masker, started: float) -> None:
        self.spec = spec
        self.mask = mask
        self.started = started
        self.done = 0
        self.successes = 0
        self.failures = 0
        self.aborted = 0
        self.status_counts: Counter[int] = Counter()
        self.failed_status_counts: Counter[int] = Counter()
        self.error_counts: Counter[str] = Counter()
        self.latencies: list[float] = []
        # (seconds since the start, failed) of each judged request, for the counts over time.
        self.ended: list[tuple[float, bool]] = []
        self.samples: list[FailureSample] = []
        self.truncated = 0
        self.bytes_read = 0
        self.redirects_followed = 0
        self.redirects_blocked = 0

    def add(self, outcome: RequestOutcome) -> None:
        self.done += 1
        self.bytes_read += outcome.bytes_read
        self.redirects_followed += outcome.redirects
        if outcome.aborted:
            self.aborted += 1
            return
        if outcome.status is not None and outcome.latency_ms is not None:
            self.status_counts[outcome.status] += 1
            self.latencies.append(outcome.latency_ms)
        self.truncated += outcome.truncated
        self.redirects_blocked += outcome.blocked_redirect
        self.ended.append((time.monotonic() - self.started, not outcome.ok))
        if outcome.ok:
            self.successes += 1
            return
        self.failures += 1
        kind = outcome.kind or CONNECTION_ERROR
        self.error_counts[kind] += 1
        if kind == STATUS and outcome.status is not None:
            self.failed_status_counts[outcome.status] += 1
        if len(self.samples) < self.spec.failure_samples:
            # Mask the whole kept body first, then cut: a secret straddling the cut is masked as a
            # whole, and the masker's runs catch what a broken server echoed only in part.
            text = self.mask.cut(outcome.body.decode("utf-8", "replace"), SAMPLE_CHARS)
            self.samples.append(
                FailureSample(
                    index=outcome.index,
                    kind=kind,
                    status=outcome.status,
                    latency_ms=None if outcome.latency_ms is None else round(outcome.latency_ms, 1),
                    body=text,
                    detail=None if outcome.detail is None else self.mask.cut(outcome.detail, SAMPLE_CHARS),
                    truncated=outcome.truncated,
                )
            )
