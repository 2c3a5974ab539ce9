"""What a check concludes: its :class:`Outcome` and its typed :class:`CheckResult`.

Layer L0 (leaves): imports nothing of ours. The probe engine, the checks, the verdict and the
runner all speak these two types, so they live at the bottom (as Argo Rollouts keeps analysis
outcomes in its bottom API package).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class Outcome(enum.StrEnum):
    """What a check concluded about the deployment."""

    PASS = "pass"
    FAIL = "fail"
    #: Not enough data to decide either way (for example no metric samples).
    INCONCLUSIVE = "inconclusive"
    #: The check itself failed (an AWS API error, a bug): no verdict on the deployment.
    ERROR = "error"


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    """The typed result of one check.

    Parameters
    ----------
    outcome
        pass, fail, inconclusive or error.
    reason
        One line a person can act on, saying what was seen and what was expected, e.g.
        ``"success rate 0.90 < 0.99 (45/50 ok)"``.
    value, threshold
        The measured value and what it was compared with; JSON-serialisable.
    details
        Extra JSON-serialisable data (status counts, failure samples, ...).
    warnings
        Things the operator should know even when the check passed.
    samples
        How many observations the verdict rests on (requests, datapoints), when that applies;
        the check's policy (``min_samples`` / ``no_data``) judges it.
    """

    outcome: Outcome
    reason: str
    value: Any = None
    threshold: Any = None
    details: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    samples: int | None = None

    @classmethod
    def passed(cls, reason: str, **kwargs: Any) -> CheckResult:
        return cls(outcome=Outcome.PASS, reason=reason, **kwargs)

    @classmethod
    def failed(cls, reason: str, **kwargs: Any) -> CheckResult:
        return cls(outcome=Outcome.FAIL, reason=reason, **kwargs)

    @classmethod
    def inconclusive(cls, reason: str, **kwargs: Any) -> CheckResult:
        return cls(outcome=Outcome.INCONCLUSIVE, reason=reason, **kwargs)

    @classmethod
    def errored(cls, reason: str, **kwargs: Any) -> CheckResult:
        return cls(outcome=Outcome.ERROR, reason=reason, **kwargs)
