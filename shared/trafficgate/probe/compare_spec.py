"""What a green-against-blue comparison judges: :class:`CompareSpec`, its thresholds and its cap.

Layer L1 (probe engine). Pure data and validation, cheap to import (settings need it): the same
range declarations bound the operator's variables, the template's parameters and a plan's
``http.compare`` entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from trafficgate.probe.spec import LAMBDA_MAX_S, MAX_REQUESTS
from trafficgate.ranges import Range, RangeError, bounded, check_ranges

#: A ratio of medians beyond this is no longer a threshold but a typo (100 times slower).
MAX_LATENCY_RATIO = 100.0
#: The detectable error-rate increase, when not given, is this many times the tolerated one...
DETECT_FACTOR = 2.5
#: ...and at least this (so a margin of 0, "any increase shown fails", can still pass a green).
DETECT_FLOOR = 0.025


@dataclass(frozen=True, kw_only=True)
class CompareSpec:
    """Green (the test listener) against blue (the production listener), request pair by pair.

    Parameters
    ----------
    max_error_rate_increase
        How much higher green's error rate may be than blue's (absolute: 0.01 is one point), in
        [0, 1): at 0 any increase shown fails. (1 would switch the error test off: a plan's
        ``dry_run`` says that more plainly.)
    detect_error_rate_increase
        The error-rate increase the comparison is sized to catch, in (0, 1) and at least
        ``max_error_rate_increase``: it passes only once green is shown less than this much worse
        than blue (at 95 %), so a green this much worse or more passes at most 5 % of the time.
        Between the two is the zone where either answer is acceptable; the narrower it is, the
        more pairs a pass takes (at 0.01 over a margin of 0.01, a clean equal green needs 363).
        Omitted: :data:`DETECT_FACTOR` times the margin, at least :data:`DETECT_FLOOR`
        (:attr:`detect_increase`).
    max_latency_increase
        How many times slower than blue green may be (a ratio >= 1, on the median: green slower
        than this in more pairs than not is a regression).
    min_latency_increase_ms
        A slowdown must also exceed this many milliseconds to count, so that sub-millisecond
        differences (a fresh connection against a kept-alive one) never fail a deployment.
    alpha
        False-rollback level of the sequential tests, in (0, 0.5): the chance that a green as
        good as blue is ever called a regression, however early the comparison stops.
    max_requests
        Requests per side at most; a comparison still open there is inconclusive. The default,
        1200, is what failing a 3-point increase over a 0.5 % background 95 % of the time takes
        (about 0.94 at 1000; at 400 even the exact fixed-sample test reaches only 0.72: see the
        README's decision quality); a green as good as blue is shown so in a few hundred pairs,
        so the cap is reached mostly by greens near the tolerated increase.
    """

    max_error_rate_increase: float = bounded(0.01, Range(0, 1, exclusive_maximum=True))
    detect_error_rate_increase: float | None = bounded(
        None, Range(0, 1, exclusive_minimum=True, exclusive_maximum=True)
    )
    max_latency_increase: float = bounded(1.25, Range(1, MAX_LATENCY_RATIO))
    min_latency_increase_ms: float = bounded(5.0, Range(0, LAMBDA_MAX_S * 1000))
    alpha: float = bounded(0.01, Range(0, 0.5, exclusive_minimum=True, exclusive_maximum=True))
    max_requests: int = bounded(1200, Range(1, MAX_REQUESTS, integer=True))

    def __post_init__(self) -> None:
        check_ranges(self)  # RangeError (a ValueError) naming the field
        detect = self.detect_error_rate_increase
        if detect is not None and detect < self.max_error_rate_increase:
            raise RangeError(
                f"detect_error_rate_increase must be at least max_error_rate_increase "
                f"({self.max_error_rate_increase:g}), got {detect:g}",
                field="detect_error_rate_increase",
            )

    @property
    def detect_increase(self) -> float:
        """The detectable error-rate increase in force: the given one, or :data:`DETECT_FACTOR` times
        the margin (at least :data:`DETECT_FLOOR`, and below 1: halfway from the margin to 1 at most)."""
        if self.detect_error_rate_increase is not None:
            return self.detect_error_rate_increase
        margin = self.max_error_rate_increase
        return min(max(DETECT_FACTOR * margin, DETECT_FLOOR), (1.0 + margin) / 2.0)
