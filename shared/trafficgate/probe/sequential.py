"""The sequential judgement of a burst's success rate: :class:`SuccessRateTest`.

Layer L1 (probe engine): the maths is :class:`trafficgate.stats.SequentialMean` (a leaf); this
module only says what a failed request means to it and what the result shows.

A request's failure is an observation in {0, 1}; its mean is the error rate. The test bets that
the rate is above ``1 - min_success_rate`` (shown: the burst fails, with chance at most ``alpha``
when it is not) and, on the same stream, that it is below (shown: the burst passes, with chance at
most ``beta`` when it is not). Requests are taken in the order they end; the test is valid at
every one of them, so the burst may stop at the first decision. Neither shown by the cap: the
result is inconclusive, and only evidence ever fails a green (a spec whose cap is too small for a
green that fails every request to be shown failing is refused: :class:`ProbeSpec`). Assumption: requests fail
independently, or at least with a conditional rate that stays on one side of the threshold (what
concurrency adds, a shared slow moment, moves neighbouring requests together and makes the test
conservative only if failures cluster less than that).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from trafficgate.probe.spec import MAX_REQUESTS, PASS_BETA
from trafficgate.stats import SequentialMean, clean_run_to_pass

RateDecision = Literal["pass", "fail"]


@dataclass
class SuccessRateTest:
    """Anytime-valid test of a burst's success rate against ``min_success_rate``.

    The edges need no statistics: at ``min_success_rate`` 1 the first failure fails (a rate below
    1 is then certain) and nothing short of every request can pass; at 0 every burst passes.
    """

    min_success_rate: float
    alpha: float
    beta: float = PASS_BETA
    n: int = field(default=0, init=False)
    failures: int = field(default=0, init=False)
    decision: RateDecision | None = field(default=None, init=False)
    decided_at: int | None = field(default=None, init=False)
    #: How the decision came: "betting" (the sequential test), or "certain" (the edges).
    decided_by: str | None = field(default=None, init=False)
    #: The evidence for each side when the decision was shown (requests in flight still end after it).
    _at_decision: tuple[float, float] | None = field(default=None, init=False, repr=False)
    _test: SequentialMean | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        max_rate = self.max_error_rate
        if 0.0 < max_rate < 1.0:
            self._test = SequentialMean(max_rate, alpha_above=self.alpha, alpha_below=self.beta, mixture_above=True)
        elif max_rate >= 1.0:
            self._decide("pass", "certain")

    @property
    def max_error_rate(self) -> float:
        """The error rate the threshold allows: ``1 - min_success_rate``."""
        return 1.0 - self.min_success_rate

    def add(self, failed: bool) -> RateDecision | None:
        """One judged request; the decision once one is shown (it stays the first one)."""
        self.n += 1
        self.failures += failed
        if self._test is not None:
            shown = self._test.add(1.0 if failed else 0.0)
            if self.decision is None and shown is not None:
                self._decide("fail" if shown == "above" else "pass", "betting")
        elif failed and self.decision is None:  # min_success_rate 1: one failure is proof
            self._decide("fail", "certain")
        return self.decision

    def _decide(self, decision: RateDecision, by: str) -> None:
        self.decision = decision
        self.decided_at = self.n
        self.decided_by = by
        if self._test is not None:
            self._at_decision = (self._test.evidence_above, self._test.evidence_below)

    def clean_requests_to_pass(self) -> int | None:
        """Requests in a row without an error that show a pass (None: no number of them can)."""
        max_rate = self.max_error_rate
        if max_rate >= 1.0:
            return 0
        if max_rate <= 0.0:
            return None
        try:
            return clean_run_to_pass(max_rate, self.beta, limit=10 * MAX_REQUESTS)
        except ValueError:
            return None

    def to_dict(self) -> dict[str, Any]:
        """What a result shows: the decision, when it came, and the evidence for each side."""
        data: dict[str, Any] = {
            "decision": self.decision,
            "decided_at": self.decided_at,
            "decided_by": self.decided_by,
            "judged": self.n,
            "failures": self.failures,
            "max_error_rate": round(self.max_error_rate, 6),
            "alpha": self.alpha,
            "beta": self.beta,
        }
        if self._test is not None:
            # e-values: >= 1/alpha shows the rate too low (fail), >= 1/beta shows it high enough. As
            # they stood at the decision: the answers of requests still in flight then do not move them.
            above, below = self._at_decision or (self._test.evidence_above, self._test.evidence_below)
            data["evidence_fail"] = _shown(above)
            data["evidence_pass"] = _shown(below)
        return data


def _shown(evidence: float) -> float:
    return round(evidence, 3) if evidence < 1e6 else float(f"{evidence:.3e}")
