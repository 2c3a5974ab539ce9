"""A hook that outlives one invocation: its progress, carried from one call to the next.

Layer L4 (orchestration): imports the verdict's record type and the leaves.

Some checks need more time than one Lambda invocation has: a bake of half an hour, a wait for a
person's approval. They answer :meth:`CheckResult.wait` (run me again in N seconds, remember
this), and the hook continues later:

- **Amazon ECS** calls the function again itself: the answer is ``IN_PROGRESS`` with a
  ``callBackDelay``, and the progress goes into ``hookDetails``, which ECS hands back on the next
  call of the same hook (under :data:`HOOK_DETAILS_KEY`; keys of the hook's own configured
  details are kept).
- **CodeDeploy** has no such answer, so the function invokes itself asynchronously (its own ARN
  only) with the progress in the event (:data:`EVENT_KEY`), and does not report. Only the link
  that reaches a verdict reports, so across the chain there is exactly one report. The chain is
  bounded by CodeDeploy's one-hour limit on a hook (:func:`codedeploy_wait_until`).

Every call's answer is a function of the progress and of AWS alone: the checks already judged
are not run again (their records travel in the progress), the waiting check gets its state back,
and times are wall-clock (epoch) seconds. A call repeated after a crash, or delivered twice,
answers the same.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from trafficgate.outcome import Outcome
from trafficgate.verdict import CheckRecord

#: Where the progress lives in the ``hookDetails`` an ECS hook returns and gets back.
HOOK_DETAILS_KEY = "trafficgate"
#: Where the progress lives in the event of a CodeDeploy hook's next link.
EVENT_KEY = "trafficgateProgress"
_VERSION = 1

#: CodeDeploy fails a lifecycle hook that has not answered within an hour.
CODEDEPLOY_HOOK_LIMIT_S = 3600.0
#: Kept free at the end of that hour: the last link's run and report, and clock skew.
CODEDEPLOY_SAFETY_S = 60.0
#: The longest ``callBackDelay`` we ask of ECS: a waiting check is looked at least this often.
ECS_MAX_CALLBACK_DELAY_S = 900
#: A chain (ECS calls or CodeDeploy links) that reaches this many calls is a bug: it fails.
MAX_CALLS = 10_000
#: A reason carried from call to call is cut to this many characters (the progress stays small).
_REASON_CHARS = 600


@dataclass(frozen=True, kw_only=True)
class Progress:
    """How far a hook got, carried from one call to the next.

    Parameters
    ----------
    started_at
        Wall-clock (epoch) seconds of the hook's first call: bounds and waits count from it.
    calls
        Calls of this hook so far, this one excluded.
    done
        The records of the plan's leading checks, judged by earlier calls (not run again).
    waiting_id, waiting_state
        The check that asked to wait, and the state it gets back (:class:`~trafficgate.outcome.Resume`).
    not_before
        Epoch seconds before which the waiting check has nothing new to say (a CodeDeploy link
        sleeps until then).
    rest_s
        What the waiting check and the checks after it are expected to need when it runs again:
        a CodeDeploy link waits in-process only when that much of it is left after the wait.
    """

    started_at: float
    calls: int = 0
    done: tuple[CheckRecord, ...] = ()
    waiting_id: str | None = None
    waiting_state: Mapping[str, Any] = field(default_factory=dict)
    not_before: float = 0.0
    rest_s: float = 0.0

    @classmethod
    def parse(cls, data: Any) -> Progress:
        """The progress from a ``hookDetails`` or event value; raise ValueError naming what is wrong."""
        if not isinstance(data, Mapping):
            raise ValueError(f"progress must be a JSON object, got {type(data).__name__}")
        if data.get("v") != _VERSION:
            raise ValueError(f"progress version {data.get('v')!r:.20} is not {_VERSION}")
        started = _epoch(data, "started_at", None)
        calls = data.get("calls", 0)
        if not isinstance(calls, int) or isinstance(calls, bool) or calls < 0:
            raise ValueError("progress.calls must be a count")
        done = data.get("done", [])
        if not isinstance(done, list):
            raise ValueError("progress.done must be a list of check records")
        waiting = data.get("waiting")
        if waiting is not None and (not isinstance(waiting, Mapping) or not isinstance(waiting.get("id"), str)):
            raise ValueError("progress.waiting must be an object with the waiting check's id")
        state = waiting.get("state", {}) if waiting else {}
        if not isinstance(state, Mapping):
            raise ValueError("progress.waiting.state must be a JSON object")
        not_before = _epoch(data, "not_before", 0.0)
        rest = data.get("rest_s", 0.0)
        if not isinstance(rest, int | float) or isinstance(rest, bool) or not 0 <= rest <= 86_400:
            raise ValueError("progress.rest_s must be seconds")
        return cls(
            started_at=started,
            calls=calls,
            done=tuple(CheckRecord.from_dict(item) for item in done),
            waiting_id=waiting["id"] if waiting else None,
            waiting_state=dict(state),
            not_before=not_before,
            rest_s=float(rest),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable, small: records without their details, reasons cut."""
        return {
            "v": _VERSION,
            "started_at": round(self.started_at, 3),
            "calls": self.calls,
            "done": [_compact(record) for record in self.done],
            "waiting": None if self.waiting_id is None else {"id": self.waiting_id, "state": dict(self.waiting_state)},
            "not_before": round(self.not_before, 3),
            "rest_s": round(self.rest_s, 1),
        }

    @property
    def done_ids(self) -> tuple[str, ...]:
        return tuple(record.check_id for record in self.done)

    def resumed(
        self, records: Sequence[CheckRecord], waiting: CheckRecord, now: float, *, rest_s: float = 0.0
    ) -> Progress:
        """The progress after this call: ``records`` ran (the last one waits), then ``waiting`` continues."""
        assert waiting.resume is not None
        judged = tuple(record for record in records if record.resume is None)
        return Progress(
            started_at=self.started_at,
            calls=self.calls + 1,
            done=(*self.done, *judged),
            waiting_id=waiting.check_id,
            waiting_state=dict(waiting.resume.state),
            not_before=now + waiting.resume.after_s,
            rest_s=min(86_400.0, max(0.0, rest_s)),
        )

    def hop(self) -> Progress:
        """The same progress, one call later (a CodeDeploy link that only waited)."""
        return Progress(
            started_at=self.started_at,
            calls=self.calls + 1,
            done=self.done,
            waiting_id=self.waiting_id,
            waiting_state=self.waiting_state,
            not_before=self.not_before,
            rest_s=self.rest_s,
        )


def codedeploy_wait_until(started_at: float, link_s: float) -> float:
    """The latest epoch second a CodeDeploy hook may still wait until.

    The link that judges after it needs ``link_s`` (a whole invocation) and the margin, all
    before the hour CodeDeploy gives a hook is over.
    """
    return started_at + CODEDEPLOY_HOOK_LIMIT_S - CODEDEPLOY_SAFETY_S - max(0.0, link_s)


def callback_delay(after_s: float) -> int:
    """ECS's ``callBackDelay`` for a wait of ``after_s``: whole seconds, at least 1, at most 15 minutes."""
    return int(min(ECS_MAX_CALLBACK_DELAY_S, max(1, math.ceil(after_s))))


def without_resume(record: CheckRecord) -> CheckRecord:
    """A waiting record judged as it stands (``inconclusive``): the hook cannot continue."""
    if record.resume is None:
        return record
    return dataclasses.replace(record, outcome=Outcome.INCONCLUSIVE, resume=None)


def _epoch(data: Mapping[str, Any], key: str, default: float | None) -> float:
    value = data.get(key, default)
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"progress.{key} must be epoch seconds")
    return float(value)


def _compact(record: CheckRecord) -> dict[str, Any]:
    data = record.to_dict()
    data.pop("details", None)
    data.pop("resume_after_s", None)
    data["reason"] = data["reason"][:_REASON_CHARS]
    data["warnings"] = [w[:_REASON_CHARS] for w in data["warnings"][:5]]
    data["counts"] = record.counts
    return data
