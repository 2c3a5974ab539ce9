"""The fixed-sample design a sequential comparison is measured against (tests and benches only: scipy).

Issue 12's target compares the sequential comparison's pairs to a pass with "what a fixed-sample
test with the same guarantees needs": the exact one-sided McNemar test (green's share of the pairs
where only one side failed, against 1/2) at the errors' level, with the fewest pairs that fail a
green ``increase`` worse than blue with probability ``power``. Computed exactly, not simulated.
"""

from __future__ import annotations

import numpy as np
from scipy import stats as scipy_stats


def mcnemar_power(n: int, blue_error: float, green_error: float, level: float) -> float:
    """P(the exact one-sided McNemar test at ``level`` rejects "green no worse") after ``n`` pairs."""
    green_only, blue_only = green_error * (1 - blue_error), blue_error * (1 - green_error)
    discordant = green_only + blue_only
    share = green_only / discordant
    counts = np.arange(n + 1)
    # The smallest number of green-only pairs, out of d discordant ones, that rejects at level.
    critical = scipy_stats.binom.isf(level, counts, 0.5) + 1
    rejects = scipy_stats.binom.sf(critical - 1, counts, share)
    return float(np.sum(scipy_stats.binom.pmf(counts, n, discordant) * rejects))


def fixed_sample_pairs(blue_error: float, increase: float, level: float, power: float, limit: int = 10_000) -> int:
    """The fewest pairs at which :func:`mcnemar_power` reaches ``power`` for a green ``increase`` worse.

    Tens first, then the ones below the first ten that reaches it: an exact test's power saws up
    and down a little with ``n``, so this is the first ``n`` at which it is reached, near enough.
    """
    green_error = blue_error + increase
    coarse = next((n for n in range(10, limit, 10) if mcnemar_power(n, blue_error, green_error, level) >= power), None)
    if coarse is None:
        raise ValueError(f"no fixed sample size below {limit} for blue_error={blue_error}, increase={increase}")
    return next(n for n in range(coarse - 9, coarse + 1) if mcnemar_power(n, blue_error, green_error, level) >= power)
