"""The verdict of one hook invocation and the record of each check in it."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from trafficgate.checks.base import DEFAULT_POLICY, CheckResult, Outcome, Policy

SUCCEEDED = "Succeeded"
FAILED = "Failed"


@dataclass(frozen=True, kw_only=True)
class CheckRecord:
    """One check as it ran: its stable id, whether it enforces, its result and its duration."""

    check_id: str
    enforce: bool
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

    @classmethod
    def from_result(
        cls,
        check_id: str,
        enforce: bool,
        result: CheckResult,
        duration_ms: float,
        *,
        policy: Policy = DEFAULT_POLICY,
        attempts: int = 1,
    ) -> CheckRecord:
        return cls(
            check_id=check_id,
            enforce=enforce,
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
        )

    @property
    def blocks(self) -> bool:
        """True when this record alone makes the verdict Failed (fail closed on error/inconclusive)."""
        return self.enforce and not self.dry_run and self.counts and self.outcome is not Outcome.PASS

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.check_id,
            "outcome": self.outcome.value,
            "enforce": self.enforce,
            "value": _jsonable(self.value),
            "threshold": _jsonable(self.threshold),
            "reason": self.reason,
            "duration_ms": round(self.duration_ms, 1),
            "warnings": list(self.warnings),
            "dry_run": self.dry_run,
            "attempts": self.attempts,
            "details": _jsonable(dict(self.details) if isinstance(self.details, Mapping) else {"value": self.details}),
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


def decide(records: Sequence[CheckRecord]) -> tuple[str, str]:
    """Succeeded only if every enforcing check passed; the reason names each blocking check id."""
    blocking = [r for r in records if r.blocks]
    if blocking:
        return FAILED, "; ".join(f"{r.check_id}: {r.reason}" for r in blocking)
    if not records:
        return SUCCEEDED, "no checks in plan"
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
        return repr(value)[:200]


def _fallback(obj: Any) -> Any:
    if isinstance(obj, (set, frozenset, tuple)):
        return sorted(obj, key=str) if isinstance(obj, (set, frozenset)) else list(obj)
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    return str(obj)
