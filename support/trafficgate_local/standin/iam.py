"""moto's IAM, extended with ``SimulatePrincipalPolicy`` for roles: a small, honest policy evaluator.

moto 5.2 has no policy simulator. :func:`simulate` evaluates a role's identity policies (its
attached managed policies, default version, and its inline policies) the way IAM does for one
account, within these limits:

- ``Effect`` ``Allow``/``Deny``; ``Action``/``NotAction`` and ``Resource``/``NotResource``, each a
  string or a list, with ``*`` and ``?`` wildcards (actions case-insensitive, resources not);
- an explicit deny wins over any allow; nothing matching is an ``implicitDeny``;
- ``Condition`` blocks are **not evaluated**: a statement applies as if its condition held, and
  its condition keys are listed in ``MissingContextValues`` so the answer says so;
- no permissions boundaries, session policies, SCPs or resource policies; only roles.

The answer follows botocore's ``SimulatePolicyResponse``: one ``EvaluationResult`` per action
(``EvalDecision`` the most restrictive over the resources, ``EvalResourceName`` ``*`` when several
resources were asked), with the per-resource decisions in ``ResourceSpecificResults``.
:func:`install_iam` adds the operation to moto's IAM response class once; nothing happens at
import time.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from moto.core.responses import ActionResult
from moto.iam.exceptions import InvalidInput, NotFoundException
from moto.iam.models import IAMBackend, Role
from moto.iam.responses import IamResponse

__all__ = ["PolicySource", "install_iam", "is_iam_installed", "role_policies", "simulate"]

_INSTALL_MARK = "_trafficgate_iam_installed"
_install_lock = threading.Lock()
# Decisions from the least to the most restrictive.
_RANK = {"allowed": 0, "implicitDeny": 1, "explicitDeny": 2}


@dataclass(frozen=True, kw_only=True)
class PolicySource:
    """One policy document of the role: its id (name or ARN), type and parsed statements."""

    policy_id: str
    policy_type: str  # "role" (inline) or "user-managed" / "aws-managed"
    statements: tuple[Mapping[str, Any], ...]


@dataclass
class _Decision:
    decision: str = "implicitDeny"
    matched: list[dict[str, Any]] = field(default_factory=list)
    missing_context: list[str] = field(default_factory=list)


@lru_cache(maxsize=512)
def _pattern(glob: str, *, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile(f"^{body}$", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def matches(glob: str, value: str, *, ignore_case: bool) -> bool:
    """Whether ``value`` matches an IAM pattern with ``*`` (any run) and ``?`` (one character)."""
    return _pattern(glob, ignore_case=ignore_case).match(value) is not None


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _applies(statement: Mapping[str, Any], action: str, resource: str) -> bool:
    if "Action" in statement:
        action_ok = any(matches(p, action, ignore_case=True) for p in _as_list(statement["Action"]))
    else:
        action_ok = not any(matches(p, action, ignore_case=True) for p in _as_list(statement.get("NotAction")))
    if not action_ok:
        return False
    if "Resource" in statement:
        return any(matches(p, resource, ignore_case=False) for p in _as_list(statement["Resource"]))
    return not any(matches(p, resource, ignore_case=False) for p in _as_list(statement.get("NotResource")))


def _condition_keys(statement: Mapping[str, Any]) -> list[str]:
    keys: list[str] = []
    for operands in (statement.get("Condition") or {}).values():
        keys.extend(str(k) for k in (operands or {}))
    return keys


def decide(sources: Sequence[PolicySource], action: str, resource: str) -> _Decision:
    """The decision for one action on one resource: explicit deny, else allow, else implicit deny."""
    allows: list[dict[str, Any]] = []
    denies: list[dict[str, Any]] = []
    missing: list[str] = []
    for source in sources:
        for statement in source.statements:
            if not _applies(statement, action, resource):
                continue
            keys = _condition_keys(statement)
            missing.extend(k for k in keys if k not in missing)
            matched = {"SourcePolicyId": source.policy_id, "SourcePolicyType": source.policy_type}
            (denies if str(statement.get("Effect")) == "Deny" else allows).append(matched)
    if denies:
        return _Decision("explicitDeny", denies, missing)
    if allows:
        return _Decision("allowed", allows, missing)
    return _Decision("implicitDeny", [], missing)


def _statements(document: str | Mapping[str, Any], where: str) -> tuple[Mapping[str, Any], ...]:
    try:
        parsed = json.loads(document) if isinstance(document, str) else document
    except ValueError:
        raise InvalidInput(f"policy {where} is not valid JSON") from None
    statement = parsed.get("Statement") if isinstance(parsed, Mapping) else None
    if isinstance(statement, Mapping):
        return (statement,)
    if not isinstance(statement, list):
        raise InvalidInput(f"policy {where} has no Statement")
    return tuple(s for s in statement if isinstance(s, Mapping))


def role_policies(role: Role) -> list[PolicySource]:
    """The role's identity policies: attached managed ones (default version), then inline ones."""
    sources: list[PolicySource] = []
    for arn, policy in role.managed_policies.items():
        version = next((v for v in policy.versions if v.is_default), None)
        if version is None:
            continue
        policy_type = "aws-managed" if ":iam::aws:policy/" in arn else "user-managed"
        sources.append(
            PolicySource(policy_id=arn, policy_type=policy_type, statements=_statements(version.document, arn))
        )
    for name, document in role.policies.items():
        sources.append(PolicySource(policy_id=name, policy_type="role", statements=_statements(document, name)))
    return sources


def simulate(sources: Sequence[PolicySource], actions: Iterable[str], resources: Sequence[str]) -> list[dict[str, Any]]:
    """``EvaluationResults`` for every action over ``resources`` (``["*"]`` when none are given)."""
    asked = list(resources) or ["*"]
    results: list[dict[str, Any]] = []
    for action in actions:
        per_resource = [(resource, decide(sources, action, resource)) for resource in asked]
        worst = max((d for _r, d in per_resource), key=lambda d: _RANK[d.decision])
        matched = [m for _r, d in per_resource if d.decision == worst.decision for m in d.matched]
        missing = list(dict.fromkeys(k for _r, d in per_resource for k in d.missing_context))
        result: dict[str, Any] = {
            "EvalActionName": action,
            "EvalResourceName": asked[0] if len(asked) == 1 else "*",
            "EvalDecision": worst.decision,
            "MatchedStatements": list({json.dumps(m, sort_keys=True): m for m in matched}.values()),
            "MissingContextValues": missing,
            "ResourceSpecificResults": [
                {
                    "EvalResourceName": resource,
                    "EvalResourceDecision": d.decision,
                    "MatchedStatements": d.matched,
                    "MissingContextValues": d.missing_context,
                }
                for resource, d in per_resource
            ],
        }
        results.append(result)
    return results


def _role_by_arn(backend: IAMBackend, arn: str) -> Role:
    if ":role/" not in arn:
        raise InvalidInput(f"the stand-in simulates roles only, not {arn}")
    try:
        return backend.get_role_by_arn(arn)
    except NotFoundException:
        name = arn.rsplit("/", 1)[-1]
        raise NotFoundException(f"The role with name {name} cannot be found.") from None


def _response_simulate_principal_policy(self: IamResponse) -> ActionResult:
    source_arn = self._get_param("PolicySourceArn")
    actions = self._get_param("ActionNames", [])
    resources = self._get_param("ResourceArns", [])
    if not source_arn or not actions:
        raise InvalidInput("PolicySourceArn and ActionNames are required")
    role = _role_by_arn(self.backend, source_arn)
    results = simulate(role_policies(role), actions, resources)
    return ActionResult({"EvaluationResults": results, "IsTruncated": False})


def install_iam() -> None:
    """Add SimulatePrincipalPolicy (roles) to moto's IAM; idempotent."""
    with _install_lock:
        if is_iam_installed():
            return
        IamResponse.simulate_principal_policy = _response_simulate_principal_policy  # type: ignore[attr-defined]
        setattr(IamResponse, _INSTALL_MARK, True)


def is_iam_installed() -> bool:
    """Return True once :func:`install_iam` has extended moto."""
    return bool(getattr(IamResponse, _INSTALL_MARK, False))
