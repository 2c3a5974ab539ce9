"""What a check concludes: its :class:`Outcome` and its typed :class:`CheckResult`.

Layer L0 (leaves): imports nothing of ours. The probe engine, the checks, the verdict and the
runner all speak these two types, so they live at the bottom (as Argo Rollouts keeps analysis
outcomes in its bottom API package).
"""

from __future__ import annotations

import enum
import json
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


#: The shortest wait a check may ask for (:meth:`CheckResult.wait`).
MIN_WAIT_S = 0.5


@dataclass(frozen=True, slots=True, kw_only=True)
class Resume:
    """A check that needs more time than this invocation has: when to look again, and what to remember.

    Parameters
    ----------
    after_s
        Seconds from now after which the check should run again (a bake's rest, a poll's interval).
    state
        JSON-serialisable progress the check gets back on its next run (``CheckContext.resumed``):
        when its bake began, when its wait began. The next run's answer must follow from this state
        and from AWS alone, so a call repeated after a crash answers the same.
    """

    after_s: float
    state: Mapping[str, Any] = field(default_factory=dict)


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
    resume
        Set on a check that is still waiting (:meth:`wait`): the hook continues later (ECS:
        ``IN_PROGRESS``; CodeDeploy: the function invokes itself) instead of judging now.
    """

    outcome: Outcome
    reason: str
    value: Any = None
    threshold: Any = None
    details: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    samples: int | None = None
    resume: Resume | None = None

    @property
    def waiting(self) -> bool:
        """Whether the check asks to be run again later rather than judged now."""
        return self.resume is not None

    @classmethod
    def wait(cls, reason: str, *, after_s: float, state: Mapping[str, Any], **kwargs: Any) -> CheckResult:
        """Not decided yet: run again in ``after_s`` seconds with ``state`` (see :class:`Resume`).

        Only return this when :attr:`CheckContext.can_wait_until` allows it; the outcome is
        ``inconclusive``, which is what the verdict sees when the hook cannot continue.
        """
        # The state travels as JSON (ECS hookDetails, a CodeDeploy link's event): say so now, not
        # when the hook answers.
        json.dumps(dict(state), allow_nan=False)
        return cls(
            outcome=Outcome.INCONCLUSIVE,
            reason=reason,
            # Never "again at once": a hook that waits must let time pass, or it would spin.
            resume=Resume(after_s=max(MIN_WAIT_S, float(after_s)), state=dict(state)),
            **kwargs,
        )

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
