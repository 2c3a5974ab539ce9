"""The verdict of one hook invocation and the record of each check in it.

Layer L3 (composition): imports only the leaves. Succeeded only if no check blocks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from trafficgate.outcome import CheckResult, Outcome, Resume
from trafficgate.policy import DEFAULT_POLICY, Policy
from trafficgate.redaction import describe

SUCCEEDED = "Succeeded"
FAILED = "Failed"

# The gate's own ids, for what goes wrong around the checks rather than in one.
#: A bug outside any check.
RUNNER_CHECK_ID = "trafficgate.runner"
#: Invalid configuration (the reason names the variable).
CONFIG_CHECK_ID = "trafficgate.config"
#: The plan could not be built (the reason names the field).
PLAN_CHECK_ID = "trafficgate.plan"
#: The deadline came before the plan was even ready.
DEADLINE_CHECK_ID = "trafficgate.deadline"


@dataclass(frozen=True, kw_only=True)
class CheckRecord:
    """One check as it ran: its stable id, its result, its duration and whether it may block."""

    check_id: str
    outcome: Outcome
    reason: str
    value: Any = None
    threshold: Any = None
    duration_ms: float = 0.0
    warnings: tuple[str, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)
    dry_run: bool = False
    attempts: int = 1
    #: Whether the outcome counts against the deployment under the check's policy.
    counts: bool = True
    #: Set when the check is still waiting: the hook continues later instead of judging it now.
    resume: Resume | None = None

    @classmethod
    def from_result(
        cls,
        check_id: str,
        result: CheckResult,
        duration_ms: float,
        *,
        policy: Policy = DEFAULT_POLICY,
        attempts: int = 1,
    ) -> CheckRecord:
        return cls(
            check_id=check_id,
            outcome=result.outcome,
            reason=result.reason,
            value=result.value,
            threshold=result.threshold,
            duration_ms=duration_ms,
            warnings=tuple(result.warnings),
            details=result.details,
            dry_run=policy.dry_run,
            attempts=attempts,
            counts=policy.blocks(result.outcome),
            resume=result.resume,
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckRecord:
        """A record back from :meth:`to_dict` (and ``blocks``): a check judged by an earlier call of the hook.

        Raises
        ------
        ValueError
            When ``data`` is not such a record.
        """
        if not isinstance(data, Mapping) or not isinstance(data.get("id"), str) or not isinstance(
            data.get("reason"), str
        ):
            raise ValueError("a check record needs an id and a reason")
        warnings = data.get("warnings") or []
        details = data.get("details") or {}
        return cls(
            check_id=data["id"],
            outcome=Outcome(str(data.get("outcome"))),
            reason=data["reason"],
            value=data.get("value"),
            threshold=data.get("threshold"),
            duration_ms=float(data.get("duration_ms") or 0.0),
            warnings=tuple(str(w) for w in warnings) if isinstance(warnings, list) else (),
            details=details if isinstance(details, Mapping) else {},
            dry_run=bool(data.get("dry_run", False)),
            attempts=int(data.get("attempts") or 1),
            counts=bool(data.get("counts", True)),
        )

    @classmethod
    def errored(cls, check_id: str, reason: str, *, duration_ms: float = 0.0) -> CheckRecord:
        """An ``error`` record that blocks: for the gate's own failures (config, plan, deadline, bugs)."""
        return cls(check_id=check_id, outcome=Outcome.ERROR, reason=reason, duration_ms=duration_ms)

    @property
    def blocks(self) -> bool:
        """True when this record alone makes the verdict Failed (fail closed on error/inconclusive)."""
        return not self.dry_run and self.counts and self.outcome is not Outcome.PASS

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.check_id,
            "outcome": self.outcome.value,
            "value": _jsonable(self.value),
            "threshold": _jsonable(self.threshold),
            "reason": self.reason,
            "duration_ms": round(self.duration_ms, 1),
            "warnings": list(self.warnings),
            "dry_run": self.dry_run,
            "attempts": self.attempts,
            "details": _jsonable(dict(self.details) if isinstance(self.details, Mapping) else {"value": self.details}),
            **({"resume_after_s": round(self.resume.after_s, 1)} if self.resume is not None else {}),
        }


@dataclass(frozen=True, kw_only=True)
class Verdict:
    """The one answer a hook gives CodeDeploy, with everything that led to it."""

    hook: str
    deployment_id: str
    execution_id: str
    status: str
    reason: str
    checks: tuple[CheckRecord, ...] = ()
    duration_ms: float = 0.0

    @property
    def succeeded(self) -> bool:
        return self.status == SUCCEEDED

    def to_dict(self) -> dict[str, Any]:
        """The JSON-serialisable verdict summary the handler returns and logs."""
        return {
            "hook": self.hook,
            "deployment_id": self.deployment_id,
            "execution_id": self.execution_id,
            "status": self.status,
            "reason": self.reason,
            "duration_ms": round(self.duration_ms, 1),
            "checks": [c.to_dict() for c in self.checks],
        }


def decide(records: Sequence[CheckRecord], *, empty_reason: str | None = None) -> tuple[str, str]:
    """Succeeded only if no check blocks; the reason names each blocking check id and its reason.

    With no records at all, the reason is ``empty_reason`` (why the plan chose no checks), or
    "no checks in plan".
    """
    blocking = [r for r in records if r.blocks]
    if blocking:
        return FAILED, "; ".join(f"{r.check_id}: {r.reason}" for r in blocking)
    if not records:
        return SUCCEEDED, empty_reason or "no checks in plan"
    advisory = [r for r in records if r.outcome is not Outcome.PASS]
    passed = len(records) - len(advisory)
    reason = f"{passed}/{len(records)} checks passed"
    if advisory:
        reason += "; not enforced: " + "; ".join(
            f"{r.check_id} {r.outcome.value}{' (dry run)' if r.dry_run else ''}" for r in advisory
        )
    warned = sum(1 for r in records if r.warnings)
    if warned:
        reason += f"; {warned} with warnings"
    return SUCCEEDED, reason


def _jsonable(value: Any) -> Any:
    """Make a check's value safe for json.dumps (checks may return sets, tuples, enums...)."""
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        pass
    try:
        return json.loads(json.dumps(value, default=_fallback))
    except Exception:  # circular references and other oddities: say what it was, never raise
        return describe(value, 200)


def _fallback(obj: Any) -> Any:
    if isinstance(obj, (set, frozenset, tuple)):
        return sorted(obj, key=str) if isinstance(obj, (set, frozenset)) else list(obj)
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    return str(obj)
