"""What a green-against-blue comparison judges: :class:`CompareSpec`, its thresholds and its cap.

Layer L1 (probe engine). Pure data and validation, cheap to import (settings need it): the same
range declarations bound the operator's variables, the template's parameters and a plan's
``http.compare`` entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from trafficgate.probe.spec import LAMBDA_MAX_S, MAX_REQUESTS
from trafficgate.ranges import Range, bounded, check_ranges

#: A ratio of medians beyond this is no longer a threshold but a typo (100 times slower).
MAX_LATENCY_RATIO = 100.0


@dataclass(frozen=True, kw_only=True)
class CompareSpec:
    """Green (the test listener) against blue (the production listener), request pair by pair.

    Parameters
    ----------
    max_error_rate_increase
        How much higher green's error rate may be than blue's (absolute: 0.01 is one point), in
        [0, 1): at 0 any increase shown fails. (1 would switch the error test off: a plan's
        ``dry_run`` says that more plainly.)
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
        Requests per side at most; a comparison still open there is inconclusive.
    """

    max_error_rate_increase: float = bounded(0.01, Range(0, 1, exclusive_maximum=True))
    max_latency_increase: float = bounded(1.25, Range(1, MAX_LATENCY_RATIO))
    min_latency_increase_ms: float = bounded(5.0, Range(0, LAMBDA_MAX_S * 1000))
    alpha: float = bounded(0.01, Range(0, 0.5, exclusive_minimum=True, exclusive_maximum=True))
    max_requests: int = bounded(400, Range(1, MAX_REQUESTS, integer=True))

    def __post_init__(self) -> None:
        check_ranges(self)  # RangeError (a ValueError) naming the field
