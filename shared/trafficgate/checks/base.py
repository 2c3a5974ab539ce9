"""The typed unit every check is made of.

Layer L2 (the check API): imports the leaves and, for types only, the context. A check is a
small keyword-only dataclass whose parameters are fields, with a stable ``check_id``
(``http.test_listener``, ``ecs.taskset_steady``) and one ``run(ctx)`` method that returns a
:class:`CheckResult` or raises :class:`CheckError`. The runner, not the check, times it,
applies its :class:`Policy` and turns unexpected exceptions into an ``error`` result.

Custom checks import from here (or from :mod:`trafficgate.checks`)::

    from trafficgate.checks.base import Check, CheckError, CheckResult, Outcome
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from trafficgate.exceptions import CheckError
from trafficgate.outcome import CheckResult, Outcome
from trafficgate.policy import DEFAULT_NO_DATA, DEFAULT_POLICY, NoDataPolicy, Policy
from trafficgate.ranges import check_ranges

if TYPE_CHECKING:
    from trafficgate.context import CheckContext

__all__ = ["DEFAULT_POLICY", "Check", "CheckError", "CheckResult", "NoDataPolicy", "Outcome", "Policy"]

#: What a check that makes a few AWS reads is expected to take (see :meth:`Check.expected_s`).
DEFAULT_EXPECTED_S = 2.0


@dataclass(kw_only=True)
class Check(ABC):
    """Base class of every check.

    Subclasses are keyword-only dataclasses; fields that hold secrets must use
    ``field(repr=False)``. A plan builds a check from its fields; a class may instead offer
    ``plan_fields()`` (the parameters a plan may give, with their types) and
    ``from_plan(check_id, params, policy=...)``.

    Parameters
    ----------
    check_id
        Stable id shown in logs, metrics, the verdict and the failure reason.
    policy
        Retries, consecutive failures, no-data rule and dry run (see :class:`Policy`).
    """

    check_id: str
    policy: Policy = DEFAULT_POLICY
    #: What this check's ``CheckResult.samples`` count, for the no-data rule's reason.
    sample_unit: ClassVar[str] = "samples"

    def __post_init__(self) -> None:
        # Parameters declared with ``bounded(default, Range(...))`` are checked once, when the
        # check is built (so a plan with a bad value fails when it is read, naming the field).
        check_ranges(self)

    @abstractmethod
    def run(self, ctx: CheckContext) -> CheckResult:
        """Evaluate the check and return its result (or raise :class:`CheckError`)."""

    def expected_s(self, ctx: CheckContext) -> float:
        """How long this check is expected to take, for the ones before it to leave it time.

        A check that waits (a bake, a poll) stops early enough that the checks after it fit before
        the deadline: it reads their sum in :attr:`CheckContext.time_after_s`. A couple of AWS
        reads by default.
        """
        return DEFAULT_EXPECTED_S

    def sample_defaults(self, ctx: CheckContext) -> tuple[int | None, NoDataPolicy]:
        """This check's own ``(min_samples, no_data)``, for what its policy leaves unset.

        The runner applies one no-data rule to every result that reports ``samples``: the
        policy's values where the plan set them, else these. No minimum by default.
        """
        return None, DEFAULT_NO_DATA
