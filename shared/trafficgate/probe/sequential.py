"""The sequential judgement of a burst's success rate: :class:`SuccessRateTest`.

Layer L1 (probe engine): the maths is :class:`trafficgate.stats.SequentialMean` (a leaf); this
module only says what a failed request means to it and what the result shows.

A request's failure is an observation in {0, 1}; its mean is the error rate. The test bets that
the rate is above ``1 - min_success_rate`` (shown: the burst fails, with chance at most ``alpha``
when it is not) and, on the same stream, that it is below (shown: the burst passes, with chance at
most ``beta`` when it is not). Requests are taken in the order they were sent, whatever order
their answers come in (a fast failure must not overtake a slow success, nor a timeout fall behind
later requests); the test is valid at every one of them, so the burst may stop at the first side
shown. Neither shown by the cap: the result is inconclusive, and only evidence ever fails a green
(a cap too small to ever show a pass is refused: :class:`~trafficgate.probe.spec.ProbeSpec`).

Assumption: requests fail independently, or at least with a conditional rate, given the ones sent
before, that stays on one side of the threshold. Concurrency makes neighbouring requests share
conditions (a slow moment, a restart), and failures that cluster like that carry less information
than the test credits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from trafficgate.probe.spec import PASS_BETA, clean_requests_to_pass
from trafficgate.stats import SequentialMean

RateDecision = Literal["pass", "fail"]


@dataclass
class SuccessRateTest:
    """Anytime-valid test of a burst's success rate against ``min_success_rate``.

    Feed it the requests in the order they were *sent* (:meth:`add`; the burst buffers answers
    that overtake an earlier request): a failure that answers fast must not count before a success
    sent earlier, nor a slow timeout after one sent later, or the error bounds no longer hold.

    :meth:`add` returns the first side shown, the burst's signal to stop sending. The requests still
    in flight then are fed too, and the final :attr:`decision` is ``fail`` if the fail side crossed
    its bar at any request (valid: that bound holds at every request), else ``pass`` if the pass
    side did, else None.

    The edges need no statistics: at ``min_success_rate`` 1 the first failure fails (a rate below
    1 is then certain) and nothing short of every request can pass; at 0 every burst passes.
    """

    min_success_rate: float
    alpha: float
    beta: float = PASS_BETA
    n: int = field(default=0, init=False)
    failures: int = field(default=0, init=False)
    #: The first side shown: when the burst stopped sending (its request number).
    stopped_at: int | None = field(default=None, init=False)
    #: Where each side was first shown: (request number, failures then, evidence then).
    _fail: tuple[int, int, float] | None = field(default=None, init=False, repr=False)
    _pass: tuple[int, int, float] | None = field(default=None, init=False, repr=False)
    _test: SequentialMean | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        max_rate = self.max_error_rate
        if 0.0 < max_rate < 1.0:
            self._test = SequentialMean(max_rate, alpha_above=self.alpha, alpha_below=self.beta, mixture_above=True)
        elif max_rate >= 1.0:
            self._pass = (0, 0, math.inf)
            self.stopped_at = 0

    @property
    def max_error_rate(self) -> float:
        """The error rate the threshold allows: ``1 - min_success_rate``."""
        return 1.0 - self.min_success_rate

    @property
    def every_request_must_succeed(self) -> bool:
        """``min_success_rate`` 1: one failure fails, and only every planned request succeeding passes."""
        return self._test is None and self.max_error_rate <= 0.0

    @property
    def decision(self) -> RateDecision | None:
        """``fail`` if the fail side was ever shown, else ``pass`` if the pass side was, else None."""
        return "fail" if self._fail is not None else "pass" if self._pass is not None else None

    @property
    def decided_at(self) -> int | None:
        """The request whose answer showed the decision."""
        shown = self._fail or self._pass
        return None if shown is None else shown[0]

    def add(self, failed: bool) -> RateDecision | None:
        """The next request in the order sent; returns the first side shown (None until one is)."""
        self.n += 1
        self.failures += failed
        if self._test is not None:
            self._test.add(1.0 if failed else 0.0)
            if self._fail is None and self._test.evidence_above >= 1.0 / self.alpha:
                self._fail = (self.n, self.failures, self._test.evidence_above)
            if self._pass is None and self._test.evidence_below >= 1.0 / self.beta:
                self._pass = (self.n, self.failures, self._test.evidence_below)
        elif failed and self._fail is None and self.every_request_must_succeed:
            self._fail = (self.n, self.failures, math.inf)  # min_success_rate 1: one failure is proof
        first = self._first_shown()
        if first is not None and self.stopped_at is None:
            self.stopped_at = self.n
        return first

    def _first_shown(self) -> RateDecision | None:
        if self._fail is not None and (self._pass is None or self._fail[0] <= self._pass[0]):
            return "fail"
        return "pass" if self._pass is not None else None

    def clean_requests_to_pass(self) -> int | None:
        """Requests in a row without an error that show a pass (None: none up to MAX_REQUESTS can)."""
        return clean_requests_to_pass(self.min_success_rate, self.beta)

    def to_dict(self) -> dict[str, Any]:
        """What a result shows: the decision, where it was shown, and the evidence then."""
        data: dict[str, Any] = {
            "decision": self.decision,
            "decided_at": self.decided_at,
            "stopped_at": self.stopped_at,
            "judged": self.n,
            "failures": self.failures,
            "max_error_rate": self.max_error_rate,
            "every_request_must_succeed": self.every_request_must_succeed,
            "alpha": self.alpha,
            "beta": self.beta,
        }
        shown = self._fail or self._pass
        if shown is not None:
            data["failures_at_decision"] = shown[1]
        if self._test is not None:
            # e-values: >= 1/alpha shows the rate too low (fail), >= 1/beta shows it high enough;
            # the deciding one as it stood when it crossed, the other as it stands now.
            data["evidence_fail"] = _shown(self._fail[2] if self._fail else self._test.evidence_above)
            data["evidence_pass"] = _shown(self._pass[2] if self._pass else self._test.evidence_below)
        return data


def _shown(evidence: float) -> float:
    return round(evidence, 3) if evidence < 1e6 else float(f"{evidence:.3e}")
