"""BeforeInstall: the execution role can pull the images and read the secrets (``iam.execution_role``).

Layer L2 (a check). It asks IAM's policy simulator (``iam:SimulatePrincipalPolicy``) about the task
definition's ``executionRoleArn`` and reads the task role with ``iam:GetRole``. Nothing is pulled
and no secret is read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from trafficgate.aws import AWS_ERRORS, error_code, read_error
from trafficgate.checks.base import Check, CheckError, CheckResult
from trafficgate.discovery.images import ecr_images
from trafficgate.discovery.secrets import parse_secret_reference, secret_uses

if TYPE_CHECKING:
    from trafficgate.context import CheckContext

EXECUTION_ROLE_CHECK_ID = "iam.execution_role"
PULL_AUTH_ACTION = "ecr:GetAuthorizationToken"
PULL_ACTIONS = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
SECRET_ACTION = "secretsmanager:GetSecretValue"
PARAMETER_ACTION = "ssm:GetParameters"
# The simulator pages at 100 results by default; this bounds a pathological answer.
_MAX_PAGES = 20


@dataclass(frozen=True)
class _Need:
    """What the execution role must be allowed: ``action`` on ``resource``, and for whom."""

    action: str
    resource: str
    why: str


def role_name(arn: str) -> str:
    """``ecsTaskExecution`` from ``arn:aws:iam::123456789012:role/path/ecsTaskExecution``."""
    return arn.rsplit("/", 1)[-1] if "/" in arn else arn


def _arn_parts(arn: str) -> tuple[str, str, str]:
    """``(partition, region, account)`` of an ARN; empty strings where it has none."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn":
        return "", "", ""
    return parts[1], parts[3], parts[4]


def secret_resource(
    value_from: str,
    *,
    partition: str,
    region: str,
    account: str,
    bare: Literal["ssm", "secretsmanager"] = "ssm",
) -> tuple[str, str] | None:
    """The action and resource ARN a ``valueFrom`` needs, or None for an ARN of another service.

    A Secrets Manager ARN loses its ``:json-key:stage:version`` suffix; an SSM parameter given by
    name becomes the ARN of that parameter in the task definition's region and account. A secret
    given by name (``repositoryCredentials`` allows it: ``bare="secretsmanager"``) becomes
    ``...:secret:<name>-??????``, the form IAM's documentation writes for "this secret, whatever
    its random suffix": a policy on ``<name>-*`` or ``*`` matches it, one on another secret does not.
    """
    value = value_from.strip()
    ref = parse_secret_reference(value, bare=bare)
    if ref.kind == "secretsmanager":
        if value.startswith("arn:"):
            return SECRET_ACTION, ref.target
        return SECRET_ACTION, f"arn:{partition}:secretsmanager:{region}:{account}:secret:{value}-??????"
    if ref.kind == "ssm":
        if value.startswith("arn:"):
            return PARAMETER_ACTION, value
        return PARAMETER_ACTION, f"arn:{partition}:ssm:{region}:{account}:parameter/{value.lstrip('/')}"
    return None


def execution_needs(definition: Mapping[str, Any], partition: str) -> tuple[list[_Need], list[str]]:
    """What the execution role must be allowed for this task definition, and what was skipped (and why)."""
    _part, region, account = _arn_parts(str(definition.get("taskDefinitionArn") or ""))
    needs: list[_Need] = []
    skipped: list[str] = []
    uses, others = ecr_images(definition)
    for use in uses:
        image = use.image
        repository = f"arn:{partition}:ecr:{image.region}:{image.account}:repository/{image.repository}"
        who = f"image {image.label} of container {', '.join(use.containers)}"
        if not needs:
            needs.append(_Need(PULL_AUTH_ACTION, "*", who))
        needs.extend(_Need(action, repository, who) for action in PULL_ACTIONS)
    skipped.extend(
        f"image {o['image']} of container {o['container']} is not in ECR: pull not simulated" for o in others
    )
    for secret in secret_uses(definition):
        who = f"{secret.what} of container {secret.container}"
        value_from = secret.value_from
        target = (
            secret_resource(value_from, partition=partition, region=region, account=account, bare=secret.bare)
            if value_from
            else None
        )
        if target is None:
            skipped.append(f"{who}: {value_from or 'empty valueFrom'} is not a secret or parameter")
            continue
        needs.append(_Need(target[0], target[1], who))
    return needs, skipped


def denials(results: Iterable[Mapping[str, Any]]) -> list[tuple[str, str, str]]:
    """``(action, resource, decision)`` of every simulated pair that is not ``allowed``.

    Reads the per-resource decisions (``ResourceSpecificResults``) when the answer has them, else the
    result's own ``EvalResourceName``/``EvalDecision`` (the older one-result-per-resource shape).
    """
    denied: list[tuple[str, str, str]] = []
    for result in results:
        action = str(result.get("EvalActionName"))
        specific = result.get("ResourceSpecificResults") or []
        pairs = (
            [(str(r.get("EvalResourceName")), str(r.get("EvalResourceDecision"))) for r in specific]
            if specific
            else [(str(result.get("EvalResourceName") or "*"), str(result.get("EvalDecision")))]
        )
        denied.extend((action, resource, decision) for resource, decision in pairs if decision != "allowed")
    return denied


@dataclass(kw_only=True)
class ExecutionRole(Check):
    """The task definition's execution role may pull its ECR images and read its secrets; its task role exists.

    Asked of IAM's policy simulator for ``executionRoleArn``: ``ecr:GetAuthorizationToken`` on
    ``*``, ``ecr:BatchGetImage`` and ``ecr:GetDownloadUrlForLayer`` on each ECR repository the
    containers' images name, ``secretsmanager:GetSecretValue`` on each Secrets Manager secret and
    ``ssm:GetParameters`` on each SSM parameter in ``secrets``, log ``secretOptions`` and
    ``repositoryCredentials``. Images outside ECR are skipped (said in a warning). Out of scope:
    ``kms:Decrypt`` for secrets under a customer-managed key, resource policies on repositories
    and secrets, SCPs, and conditions the simulator could not evaluate (their keys are warned
    about). A task definition that needs an execution role and names none fails; a ``taskRoleArn``
    that ``iam:GetRole`` does not find fails.
    """

    check_id: str = EXECUTION_ROLE_CHECK_ID

    def run(self, ctx: CheckContext) -> CheckResult:
        definition = ctx.task_definition()
        family = str(definition.get("family") or definition.get("taskDefinitionArn") or "the task definition")
        execution_arn = str(definition.get("executionRoleArn") or "")
        task_arn = str(definition.get("taskRoleArn") or "")
        partition = _arn_parts(execution_arn or str(definition.get("taskDefinitionArn") or ""))[0] or "aws"
        needs, skipped = execution_needs(definition, partition)
        problems: list[str] = []
        warnings = list(skipped)
        details: dict[str, Any] = {
            "execution_role": execution_arn or None,
            "task_role": task_arn or None,
            "checked": [f"{n.action} on {n.resource}" for n in needs],
            "skipped": skipped,
        }
        if needs and not execution_arn:
            why = sorted({n.why for n in needs})
            problems.append(
                f"task definition {family} has no executionRoleArn, but ECS needs one to pull or read: {'; '.join(why)}"
            )
        elif needs:
            problems.extend(self._simulate(ctx, execution_arn, needs, warnings))
        if task_arn:
            problem = _task_role_problem(ctx, task_arn)
            if problem:
                problems.append(problem)
        value = {"checked": len(needs), "denied": len(problems)}
        if problems:
            return CheckResult.failed(
                f"{'; '.join(problems)}; expected the execution role to allow every pull and secret read "
                "and the task role to exist",
                value=value,
                threshold=0,
                details=details,
                warnings=tuple(warnings),
            )
        if needs:
            reason = f"execution role {role_name(execution_arn)} may make the {len(needs)} call(s) the task needs"
        else:
            reason = "no ECR image or secret needs the execution role"
        if task_arn:
            reason += f"; task role {role_name(task_arn)} exists"
        return CheckResult.passed(reason, value=value, threshold=0, details=details, warnings=tuple(warnings))

    @staticmethod
    def _simulate(ctx: CheckContext, role_arn: str, needs: Sequence[_Need], warnings: list[str]) -> list[str]:
        name = role_name(role_arn)
        # One call per set of resources (the two layer actions share theirs): each action's
        # decision per resource comes back in one EvaluationResult.
        by_action: dict[str, list[str]] = {}
        for need in needs:
            resources = by_action.setdefault(need.action, [])
            if need.resource not in resources:
                resources.append(need.resource)
        groups: dict[tuple[str, ...], list[str]] = {}
        for action, resources in by_action.items():
            groups.setdefault(tuple(resources), []).append(action)
        iam = ctx.aws.client("iam")
        results: list[Mapping[str, Any]] = []
        missing_context: list[str] = []
        for arns, actions in groups.items():
            request: dict[str, Any] = {"PolicySourceArn": role_arn, "ActionNames": actions, "ResourceArns": list(arns)}
            for _page in range(_MAX_PAGES):
                try:
                    answer = iam.simulate_principal_policy(**request)
                except AWS_ERRORS as exc:
                    if error_code(exc) == "NoSuchEntity":
                        return [f"execution role {name} does not exist ({role_arn})"]
                    raise read_error(f"what execution role {name} may do (SimulatePrincipalPolicy)", exc) from None
                page = answer.get("EvaluationResults") or []
                results.extend(page)
                for result in page:
                    missing_context.extend(str(k) for k in result.get("MissingContextValues") or [])
                if not answer.get("IsTruncated") or not answer.get("Marker"):
                    break
                request["Marker"] = answer["Marker"]
            else:
                raise CheckError(f"SimulatePrincipalPolicy for {name} kept paging past {_MAX_PAGES} pages")
        if missing_context:
            keys = ", ".join(dict.fromkeys(missing_context))
            warnings.append(f"execution role {name}: conditions on {keys} were not evaluated by the simulator")
        return [
            f"execution role {name} cannot {action} on {resource} ({decision})"
            for action, resource, decision in denials(results)
        ]


def _task_role_problem(ctx: CheckContext, arn: str) -> str | None:
    name = role_name(arn)
    try:
        ctx.aws.client("iam").get_role(RoleName=name)
    except AWS_ERRORS as exc:
        if error_code(exc) == "NoSuchEntity":
            return f"task role {name} does not exist ({arn})"
        raise read_error(f"task role {name} (GetRole)", exc) from None
    return None
