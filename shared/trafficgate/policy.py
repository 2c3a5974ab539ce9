"""How the runner treats one check's results: retries, streaks, the no-data rule, dry run.

Layer L0 (leaves): imports only the other leaves (outcome, ranges). Argo Rollouts' analysis made
explicit: a check says what it saw, its policy says what that means for the deployment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from trafficgate.outcome import Outcome
from trafficgate.ranges import Range, bounded, check_ranges

NoDataPolicy = Literal["pass", "fail", "inconclusive"]
Meaning = Literal["fail", "pass"]

#: What too few samples mean when neither the plan nor the check says otherwise.
DEFAULT_NO_DATA: NoDataPolicy = "inconclusive"


@dataclass(frozen=True, kw_only=True)
class Policy:
    """How the runner treats one check's results.

    Parameters
    ----------
    retries
        Re-run the check after an ``error`` or ``inconclusive`` result, up to this many times.
    consecutive_failures
        A ``fail`` is final only after this many attempts in a row failed; a pass ends the series.
    pause_s
        Pause between attempts (never past the hook's deadline).
    min_samples
        Fewest samples (requests, datapoints) a result must rest on; fewer applies ``no_data``.
        ``None`` leaves it to the check: the CloudWatch checks take ``TRAFFICGATE_MIN_SAMPLES``,
        the others have no minimum.
    no_data
        What too few samples mean: ``pass`` (with a warning), ``fail`` or ``inconclusive``.
        ``None`` leaves it to the check: the CloudWatch checks take ``TRAFFICGATE_METRICS_NO_DATA``,
        the others ``inconclusive``.
    on_inconclusive, on_error
        Whether an inconclusive or error result fails the verdict (default: fail closed).
    dry_run
        Evaluate and report the check, but never let it fail the deployment.
    """

    retries: int = bounded(0, Range(0, 100, integer=True))
    consecutive_failures: int = bounded(1, Range(1, 100, integer=True))
    pause_s: float = bounded(0.0, Range(0, 900))
    min_samples: int | None = bounded(None, Range(0, 1_000_000_000, integer=True))
    no_data: NoDataPolicy | None = None
    on_inconclusive: Meaning = "fail"
    on_error: Meaning = "fail"
    dry_run: bool = False

    def __post_init__(self) -> None:
        check_ranges(self)  # RangeError (a ValueError) naming the field

    def blocks(self, outcome: Outcome) -> bool:
        """Whether a final ``outcome`` fails the verdict under this policy (dry run aside)."""
        if outcome is Outcome.PASS:
            return False
        if outcome is Outcome.ERROR:
            return self.on_error == "fail"
        if outcome is Outcome.INCONCLUSIVE:
            return self.on_inconclusive == "fail"
        return True

    def sample_rule(self, *, min_samples: int | None, no_data: NoDataPolicy) -> tuple[int | None, NoDataPolicy]:
        """The one no-data rule in force: this policy's values, else the check's own defaults."""
        return (
            self.min_samples if self.min_samples is not None else min_samples,
            self.no_data if self.no_data is not None else no_data,
        )


DEFAULT_POLICY = Policy()
