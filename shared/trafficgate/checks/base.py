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
from typing import TYPE_CHECKING, Any, Literal

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
    samples
        How many observations the verdict rests on (requests, datapoints), when that applies;
        a plan's ``min_samples`` / ``no_data`` policy judges it.
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


class CheckError(Exception):
    """Raised by a check when it cannot do its work; the message becomes the reason.

    Use it for expected failures whose message is safe to show (no secrets), such as
    "target group arn:... not found". Any other exception is reported with its type
    name only.
    """


NoDataPolicy = Literal["pass", "fail", "inconclusive"]
Meaning = Literal["fail", "pass"]


@dataclass(frozen=True, kw_only=True)
class Policy:
    """How the runner treats one check's results (Argo Rollouts analysis, made explicit).

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
    no_data
        What too few samples mean: ``pass`` (with a warning), ``fail`` or ``inconclusive``.
    on_inconclusive, on_error
        Whether an inconclusive or error result fails the verdict (default: fail closed).
    dry_run
        Evaluate and report the check, but never let it fail the deployment.
    """

    retries: int = 0
    consecutive_failures: int = 1
    pause_s: float = 0.0
    min_samples: int | None = None
    no_data: NoDataPolicy = "inconclusive"
    on_inconclusive: Meaning = "fail"
    on_error: Meaning = "fail"
    dry_run: bool = False

    def __post_init__(self) -> None:
        if self.retries < 0 or self.consecutive_failures < 1 or self.pause_s < 0:
            raise ValueError("retries >= 0, consecutive_failures >= 1 and pause_s >= 0 are required")

    def blocks(self, outcome: Outcome) -> bool:
        """Whether a final ``outcome`` fails the verdict under this policy (dry-run aside)."""
        if outcome is Outcome.PASS:
            return False
        if outcome is Outcome.ERROR:
            return self.on_error == "fail"
        if outcome is Outcome.INCONCLUSIVE:
            return self.on_inconclusive == "fail"
        return True


DEFAULT_POLICY = Policy()


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
    policy
        Retries, consecutive failures, no-data rule and dry-run (see :class:`Policy`).
    """

    check_id: str
    enforce: bool = True
    policy: Policy = DEFAULT_POLICY

    @abstractmethod
    def run(self, ctx: CheckContext) -> CheckResult:
        """Evaluate the check and return its result (or raise :class:`CheckError`)."""
