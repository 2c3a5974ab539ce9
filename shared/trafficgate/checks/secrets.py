"""BeforeInstall: every secret a container references exists (``secrets.references_exist``).

Layer L2 (a check). Metadata only: secret *values* are never read (no GetSecretValue, no
GetParameter); the calls are ``secretsmanager:DescribeSecret`` and ``ssm:DescribeParameters``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from trafficgate.aws import AWS_ERRORS, describe_error, error_code
from trafficgate.checks.base import Check, CheckError, CheckResult
from trafficgate.discovery.secrets import SecretReference, secret_uses

if TYPE_CHECKING:
    from trafficgate.context import CheckContext

SECRETS_CHECK_ID = "secrets.references_exist"
# DescribeParameters accepts at most 50 values in one filter.
_SSM_FILTER_VALUES = 50


@dataclass(kw_only=True)
class SecretReferencesExist(Check):
    """Every secret a container references exists, checked from metadata only.

    Secrets Manager references use ``DescribeSecret`` (a secret scheduled for deletion, or a named
    version or stage that is absent, counts as missing); SSM parameters use
    ``DescribeParameters``. Values are never read. Parameters shared from another account cannot be
    listed and are reported as warnings.
    """

    check_id: str = SECRETS_CHECK_ID

    def run(self, ctx: CheckContext) -> CheckResult:
        definition = ctx.task_definition()
        own_account = _arn_account(str(definition.get("taskDefinitionArn") or ""))
        # (valueFrom, what it points to) → the reference and who reads it: one ARN read by two
        # containers is described once; one bare name can be a parameter here and a secret there.
        uses: dict[tuple[str, str], tuple[SecretReference, list[str]]] = {}
        for use in secret_uses(definition):
            ref = use.reference()
            uses.setdefault((use.value_from, ref.kind), (ref, []))[1].append(f"container {use.container} {use.what}")
        missing: list[str] = []
        unreadable: list[str] = []
        warnings: list[str] = []
        ssm_by_region: dict[str | None, dict[str, list[str]]] = {}
        for (value_from, _kind), (ref, needed_by) in uses.items():
            who = ", ".join(needed_by)
            if not value_from:
                missing.append(f"empty valueFrom ({who})")
                continue
            if ref.kind == "unknown":
                missing.append(f"{value_from} is neither a Secrets Manager secret nor an SSM parameter ({who})")
            elif ref.kind == "secretsmanager":
                problem = _secret_problem(ctx, ref)
                if problem is not None:
                    (unreadable if problem.startswith("AWS error") else missing).append(
                        f"secret {ref.target} {problem} ({who})"
                    )
            elif ref.account and own_account and ref.account != own_account:
                warnings.append(f"cannot verify parameter {value_from} shared from account {ref.account} ({who})")
            else:
                ssm_by_region.setdefault(ref.region, {}).setdefault(ref.target, []).extend(needed_by)
        for region, names in ssm_by_region.items():
            try:
                existing = _existing_parameters(ctx, region, list(names))
            except AWS_ERRORS as exc:
                unreadable.append(f"SSM parameters in {region or 'this region'}: {describe_error(exc)}")
                continue
            for name, needed_by in names.items():
                if name not in existing:
                    missing.append(f"parameter {name} not found ({', '.join(needed_by)})")
        value = {"references": len(uses), "missing": len(missing)}
        details = {"references": {k: v for k, v in uses.items()}, "missing": missing}
        if missing:
            return CheckResult.failed(
                f"missing secret reference(s): {'; '.join(missing)}",
                value=value,
                threshold=0,
                details=details,
                warnings=tuple(warnings),
            )
        if unreadable:
            raise CheckError(f"could not verify secret reference(s): {'; '.join(unreadable)}")
        reason = f"{len(uses)} secret reference(s) exist" if uses else "no secret references"
        return CheckResult.passed(reason, value=value, threshold=0, details=details, warnings=tuple(warnings))


def _secret_problem(ctx: CheckContext, ref: SecretReference) -> str | None:
    """Why a Secrets Manager reference would not resolve, or None when it would (metadata only)."""
    try:
        meta = ctx.aws.client("secretsmanager", region=ref.region).describe_secret(SecretId=ref.target)
    except AWS_ERRORS as exc:
        code = error_code(exc)
        return "not found" if code == "ResourceNotFoundException" else f"AWS error {code}"
    if meta.get("DeletedDate"):
        return "is scheduled for deletion"
    versions: Mapping[str, Sequence[str]] = meta.get("VersionIdsToStages") or {}
    if ref.version_id and ref.version_id not in versions:
        return f"has no version {ref.version_id}"
    if ref.version_stage and not any(ref.version_stage in stages for stages in versions.values()):
        return f"has no version labelled {ref.version_stage}"
    return None


def _existing_parameters(ctx: CheckContext, region: str | None, names: list[str]) -> set[str]:
    paginator = ctx.aws.client("ssm", region=region).get_paginator("describe_parameters")
    existing: set[str] = set()
    for start in range(0, len(names), _SSM_FILTER_VALUES):
        chunk = names[start : start + _SSM_FILTER_VALUES]
        filters = [{"Key": "Name", "Option": "Equals", "Values": chunk}]
        for page in paginator.paginate(ParameterFilters=filters):
            existing.update(str(p.get("Name")) for p in page.get("Parameters") or [])
    return existing


def _arn_account(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] or None if len(parts) > 4 and parts[0] == "arn" else None
