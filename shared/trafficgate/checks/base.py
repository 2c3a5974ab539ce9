"""The typed unit every check is made of: a check, its context and its result.

A check is a small keyword-only dataclass whose parameters are fields, with a stable
``check_id`` (``http.probe``, ``ecs.taskset_steady``) and one ``run(ctx)`` method that
returns a :class:`CheckResult`. The hook runner, not the check, times it and turns
unexpected exceptions into an ``error`` result.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trafficgate.context import CheckContext


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
        One line a person can act on, e.g. ``"success rate 0.90 < 0.99 (45/50)"``.
    value, threshold
        The measured value and what it was compared with; JSON-serialisable.
    details
        Extra JSON-serialisable data (status counts, failure samples, ...).
    warnings
        Things the operator should know even when the check passed.
    """

    outcome: Outcome
    reason: str
    value: Any = None
    threshold: Any = None
    details: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

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


class CheckError(Exception):
    """Raised by a check when it cannot do its work; the message becomes the reason.

    Use it for expected failures whose message is safe to show (no secrets), such as
    "target group arn:... not found". Any other exception is reported with its type
    name only.
    """


@dataclass(kw_only=True)
class Check(ABC):
    """Base class of every check.

    Subclasses are keyword-only dataclasses; fields that hold secrets must use
    ``field(repr=False)``.

    Parameters
    ----------
    check_id
        Stable id shown in logs, metrics, the verdict and the failure reason.
    enforce
        When False the check is evaluated and reported but never fails the verdict.
    """

    check_id: str
    enforce: bool = True

    @abstractmethod
    def run(self, ctx: CheckContext) -> CheckResult:
        """Evaluate the check and return its result (or raise :class:`CheckError`)."""
