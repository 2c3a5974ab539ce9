"""Small numeric helpers of the probe: failure budget and percentiles.

Layer L1 (probe engine); pure functions, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def allowed_failures(planned: int, min_success_rate: float) -> int:
    """How many failed requests a burst of ``planned`` requests may have and still pass.

    ``floor(planned * (1 - min_success_rate))``, with a small epsilon so that binary
    floating point does not take one away: ``50 * (1 - 0.9)`` is ``4.999999999999999``
    in IEEE 754 and must count as 5.
    """
    if planned < 0:
        raise ValueError("planned must be >= 0")
    if not 0.0 <= min_success_rate <= 1.0:
        raise ValueError("min_success_rate must be within [0, 1]")
    return math.floor(planned * (1.0 - min_success_rate) + 1e-9)


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of already sorted values.

    Nearest rank (``ceil(pct/100 * n)``-th smallest value) always returns a latency that
    was really observed, and for small bursts it is conservative: the p95 of 4 samples is
    the slowest one, not an interpolation that hides it.

    Raises
    ------
    ValueError
        If ``sorted_values`` is empty or ``pct`` is outside (0, 100].
    """
    if not sorted_values:
        raise ValueError("percentile of no values")
    if not 0.0 < pct <= 100.0:
        raise ValueError("pct must be within (0, 100]")
    rank = math.ceil(pct / 100.0 * len(sorted_values) - 1e-9)
    return float(sorted_values[max(rank, 1) - 1])


def spread(sorted_values: Sequence[float], cap: int) -> list[float]:
    """At most ``cap`` of already sorted values, evenly spaced in rank, the smallest and largest kept.

    A picture of a distribution (its CDF) needs its shape, not every value: the values at evenly
    spaced ranks keep every quantile to within ``1/(cap - 1)``, whatever the number of requests.
    """
    if cap < 2:
        raise ValueError("cap must be >= 2")
    n = len(sorted_values)
    if n <= cap:
        return list(sorted_values)
    return [sorted_values[round(i * (n - 1) / (cap - 1))] for i in range(cap)]


#: Widths a time bin may have, in milliseconds: round numbers, so the picture's axis reads easily.
_BIN_WIDTHS_MS = (10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000)


def time_bins(
    events: Sequence[tuple[float, bool]], duration_s: float, max_bins: int
) -> tuple[int, list[int], list[int]]:
    """Count events and failures per time bin: ``(bin_ms, counts, failures)``, at most ``max_bins`` bins.

    ``events`` are ``(seconds since the start, failed)``. The bin is the narrowest round width
    that covers ``duration_s`` in ``max_bins`` bins; an event at or past the end counts in the last.
    """
    if max_bins < 1:
        raise ValueError("max_bins must be >= 1")
    span_ms = max([duration_s, 0.0, *(t for t, _ in events)]) * 1000.0
    width = next((w for w in _BIN_WIDTHS_MS if span_ms <= w * max_bins), math.ceil(span_ms / max_bins))
    bins = max(1, min(max_bins, math.ceil(span_ms / width - 1e-9)))
    counts, failures = [0] * bins, [0] * bins
    for t, failed in events:
        index = min(max(int(t * 1000.0 // width), 0), bins - 1)
        counts[index] += 1
        failures[index] += failed
    return width, counts, failures
