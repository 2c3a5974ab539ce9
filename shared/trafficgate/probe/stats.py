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
