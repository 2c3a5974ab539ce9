"""What one burst measured: :class:`BurstResult` and the :class:`FailureSample` of a failed request.

Layer L1 (probe engine). Plain frozen dataclasses: the assertions judge them, the verdict shows them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

#: The most latencies a result carries for a picture: about 1.5 KB of a verdict's JSON.
LATENCY_SAMPLES = 200
#: The most time bins of ``over_time``.
TIME_BINS = 40


@dataclass(frozen=True, kw_only=True)
class FailureSample:
    """One failed request, described for a person.

    ``body`` is the first 200 characters of the response body (credentials from the spec's
    headers masked); ``latency_ms`` is ``None`` when no response came back.
    """

    index: int
    kind: str
    status: int | None
    latency_ms: float | None
    body: str
    detail: str | None
    truncated: bool


@dataclass(frozen=True, kw_only=True)
class BurstResult:
    """What one burst measured.

    Latency percentiles (nearest rank, milliseconds) cover every request that got an HTTP
    response, whatever its status or assertion result, measured from sending the request
    to the end of reading the (possibly truncated) body, across followed redirects.
    Connection errors and timeouts have no latency; they are counted in ``error_counts``.
    They are ``None`` when no response came back. ``latency_samples_ms`` holds at most
    :data:`LATENCY_SAMPLES` of those latencies (0.1 ms), sorted and evenly spread in rank: the
    points of their distribution for a picture, not every value.

    ``sequential`` is the sequential success-rate test (``None`` for a fixed burst): its
    ``decision`` (``"pass"``, ``"fail"`` or ``None``: not shown), ``decided_at`` (the judged
    request that showed it), the evidence for each side, ``alpha`` and ``beta``.

    ``over_time`` counts the judged requests, and the failed ones, by when they ended:
    ``started_at`` (Unix time of the burst's start, seconds), ``bin_ms`` (the width of a bin),
    ``requests`` and ``failures`` (one count per bin, at most :data:`TIME_BINS` bins).

    ``aborted`` requests were started but cut short by the deadline: neither successes
    nor failures. ``stopped_early`` means the burst stopped on failures (shown too many, or the
    fixed budget ran out) and the remaining requests were never sent; ``deadline_hit`` means the
    deadline stopped the burst (no new requests, or requests aborted).
    """

    target: str
    requests_planned: int
    requests_sent: int
    successes: int
    failures: int
    aborted: int
    allowed_failures: int
    status_counts: Mapping[int, int]
    failed_status_counts: Mapping[int, int]
    error_counts: Mapping[str, int]
    latency_count: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None
    latency_max_ms: float | None
    duration_s: float
    stopped_early: bool
    deadline_hit: bool
    failure_samples: tuple[FailureSample, ...]
    cert_days_left: float | None
    cert_error: str | None
    truncated_responses: int
    bytes_read: int
    redirects_followed: int
    redirects_blocked: int
    warnings: tuple[str, ...]
    latency_samples_ms: tuple[float, ...] = ()
    over_time: Mapping[str, Any] | None = None
    sequential: Mapping[str, Any] | None = None

    @property
    def completed(self) -> int:
        """Requests judged (successes + failures); excludes aborted ones."""
        return self.successes + self.failures

    @property
    def success_rate(self) -> float | None:
        """successes / completed, or ``None`` when nothing completed."""
        return self.successes / self.completed if self.completed else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable copy (status codes become string keys)."""
        data = asdict(self)
        data["status_counts"] = {str(k): v for k, v in sorted(self.status_counts.items())}
        data["failed_status_counts"] = {str(k): v for k, v in sorted(self.failed_status_counts.items())}
        data["error_counts"] = dict(sorted(self.error_counts.items()))
        data["failure_samples"] = [asdict(s) for s in self.failure_samples]
        data["warnings"] = list(self.warnings)
        data["latency_samples_ms"] = list(self.latency_samples_ms)
        data["success_rate"] = None if self.success_rate is None else round(self.success_rate, 4)
        data["completed"] = self.completed
        return data
