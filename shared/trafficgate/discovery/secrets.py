"""Where a task definition's secrets come from: every ``valueFrom`` and what it points to.

Layer L1 (discovery): pure readers of a ``DescribeTaskDefinition`` answer. A container reads
secrets in three places, and ECS fetches each with the task execution role at task start:
``secrets[]``, ``logConfiguration.secretOptions[]`` and ``repositoryCredentials`` (a private
registry's login). ``secrets.references_exist``, ``iam.execution_role`` and
``network.vpc_endpoints`` all start from :func:`secret_uses`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from trafficgate.discovery.taskdef import containers

__all__ = ["SecretReference", "SecretUse", "parse_secret_reference", "secret_uses"]


@dataclass(frozen=True, kw_only=True)
class SecretUse:
    """One place a container reads a secret: ``what`` (``secret DB_PASSWORD``) and its ``valueFrom``."""

    container: str
    #: ``secret <name>``, ``log option <name>`` or ``repositoryCredentials``.
    what: str
    value_from: str
    #: What a bare name (not an ARN) names here: an SSM parameter in ``secrets`` and
    #: ``secretOptions``, a Secrets Manager secret in ``repositoryCredentials``.
    bare: Literal["ssm", "secretsmanager"] = "ssm"

    def reference(self) -> SecretReference:
        """Where :attr:`value_from` points (see :func:`parse_secret_reference`)."""
        return parse_secret_reference(self.value_from, bare=self.bare)


def secret_uses(definition: Mapping[str, Any]) -> list[SecretUse]:
    """Every secret the containers read, in task definition order (an empty ``valueFrom`` kept as ``""``).

    Entries that are not objects are skipped: a malformed task definition is the task definition
    checks' to report, not a reason for this reader to raise.
    """
    uses: list[SecretUse] = []
    for container in containers(definition):
        name = str(container.get("name"))
        for secret in _objects(container.get("secrets")):
            uses.append(SecretUse(container=name, what=f"secret {secret.get('name')}", value_from=_text(secret)))
        log = container.get("logConfiguration")
        for option in _objects(log.get("secretOptions") if isinstance(log, Mapping) else None):
            uses.append(SecretUse(container=name, what=f"log option {option.get('name')}", value_from=_text(option)))
        login = container.get("repositoryCredentials")
        credentials = login.get("credentialsParameter") if isinstance(login, Mapping) else None
        if credentials:
            login_use = SecretUse(
                container=name, what="repositoryCredentials", value_from=str(credentials), bare="secretsmanager"
            )
            uses.append(login_use)
    return uses


def _objects(entries: Any) -> list[Mapping[str, Any]]:
    return [e for e in entries if isinstance(e, Mapping)] if isinstance(entries, list) else []


def _text(entry: Mapping[str, Any]) -> str:
    return str(entry.get("valueFrom") or "")


@dataclass(frozen=True, kw_only=True)
class SecretReference:
    """Where a ``valueFrom`` points: a Secrets Manager secret or an SSM parameter.

    Parameters
    ----------
    kind
        ``secretsmanager``, ``ssm`` or ``unknown`` (an ARN of another service).
    target
        The secret ARN without the JSON-key suffix, or the parameter name.
    region, account
        From the ARN; None for a bare parameter name (the task's own region and account).
    json_key, version_stage, version_id
        The optional suffix of a Secrets Manager reference (``:key:stage:id``).
    """

    kind: Literal["secretsmanager", "ssm", "unknown"]
    target: str
    region: str | None = None
    account: str | None = None
    json_key: str | None = None
    version_stage: str | None = None
    version_id: str | None = None


def parse_secret_reference(value_from: str, *, bare: Literal["ssm", "secretsmanager"] = "ssm") -> SecretReference:
    """Classify a ``secrets[].valueFrom`` (or ``credentialsParameter``) as ECS reads it.

    A Secrets Manager ARN may carry ``:json-key:version-stage:version-id``; an SSM parameter is an
    ARN (``...:parameter/name`` or ``...:parameter/path/name`` for ``/path/name``) or, in the
    task's region, a bare name. A bare name is what ``bare`` says: an SSM parameter in
    ``secrets``, a Secrets Manager secret's name in ``repositoryCredentials``. Something that
    starts like an ARN but has too few parts is ``unknown``.
    """
    value = value_from.strip()
    parts = value.split(":")
    if parts[0] != "arn":
        return SecretReference(kind=bare, target=value)
    if len(parts) < 6:
        return SecretReference(kind="unknown", target=value)
    service, region, account = parts[2], parts[3] or None, parts[4] or None
    if service == "secretsmanager" and len(parts) >= 7 and parts[5] == "secret":
        extra = [*parts[7:10], None, None, None]
        return SecretReference(
            kind="secretsmanager",
            target=":".join(parts[:7]),
            region=region,
            account=account,
            json_key=extra[0] or None,
            version_stage=extra[1] or None,
            version_id=extra[2] or None,
        )
    resource = ":".join(parts[5:])
    if service == "ssm" and resource.startswith("parameter/"):
        name = resource[len("parameter/") :]
        # The ARN of "/path/name" is ".../parameter/path/name"; of "name", ".../parameter/name".
        return SecretReference(kind="ssm", target=f"/{name}" if "/" in name else name, region=region, account=account)
    return SecretReference(kind="unknown", target=value, region=region, account=account)
