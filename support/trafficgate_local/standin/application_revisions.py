"""GetApplicationRevision for moto's CodeDeploy: where the service keeps an inline AppSpec.

moto 5.2 does not implement the call. The service's GetDeployment never returns the content of an
``AppSpecContent`` (or deprecated ``String``) revision ("always null", says the API reference):
it returns the ``sha256``, and GetApplicationRevision, given the application and that
``sha256``, returns the content. The stand-in answers the same way, from the revisions its
deployments were created with.

Modelled: ``AppSpecContent`` and ``String`` revisions found by ``sha256`` (a revision given with
its content is found by the content's digest), S3 revisions by bucket, key and version or
eTag; ``revisionInfo`` with the groups that deployed it and first/last use (register time is
the first use: moto records no RegisterApplicationRevision). Unknown revision:
``RevisionDoesNotExistException``; unknown application: moto's ``ApplicationDoesNotExistException``;
no revision type: ``InvalidRevisionException``.
"""

from __future__ import annotations

import hashlib
from datetime import UTC
from typing import Any

from moto.codedeploy.models import CodeDeployBackend, DeploymentInfo
from moto.codedeploy.responses import CodeDeployResponse
from moto.core.responses import ActionResult

from .exceptions import ApplicationNameRequiredException, InvalidRevisionException, RevisionDoesNotExistException

__all__ = [
    "INLINE_REVISIONS",
    "backend_get_application_revision",
    "response_get_application_revision",
    "revision_digest",
]

#: Where an inline revision keeps its text, by revision type.
INLINE_REVISIONS = {"AppSpecContent": "appSpecContent", "String": "string"}


def revision_digest(revision: dict[str, Any]) -> str | None:
    """The ``sha256`` of an inline revision: the one given, else the digest of its content."""
    holder = revision.get(INLINE_REVISIONS.get(str(revision.get("revisionType")), ""))
    if not isinstance(holder, dict):
        return None
    if holder.get("sha256"):
        return str(holder["sha256"])
    content = holder.get("content")
    return hashlib.sha256(content.encode()).hexdigest() if isinstance(content, str) else None


def _same_revision(wanted: dict[str, Any], used: dict[str, Any]) -> bool:
    kind = wanted.get("revisionType")
    if kind != used.get("revisionType"):
        return False
    if kind in INLINE_REVISIONS:
        return revision_digest(wanted) is not None and revision_digest(wanted) == revision_digest(used)
    if kind == "S3":
        want, have = wanted.get("s3Location") or {}, used.get("s3Location") or {}
        keys = ("bucket", "key", *tuple(k for k in ("version", "eTag") if want.get(k)))
        return all(want.get(k) == have.get(k) for k in keys)
    return False


def _timestamp(value: Any) -> float | None:
    # moto keeps naive UTC datetimes; .timestamp() would read them as the host's local time.
    if value is None:
        return None
    return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).timestamp()


def backend_get_application_revision(
    self: CodeDeployBackend, application_name: str | None, revision: dict[str, Any] | None
) -> dict[str, Any]:
    """The revision as the service stores it, and where it was used; raises the service's errors."""
    if not application_name:
        raise ApplicationNameRequiredException("The name of the application is required.")
    self.get_application(application_name)  # ApplicationDoesNotExistException
    if not isinstance(revision, dict) or not revision.get("revisionType"):
        raise InvalidRevisionException("The revision is missing or its revision type is not specified.")
    used: list[DeploymentInfo] = sorted(
        (
            d
            for d in self.deployments.values()
            if d.application_name == application_name and _same_revision(revision, d.revision or {})
        ),
        key=lambda d: d.create_time,
    )
    if not used:
        raise RevisionDoesNotExistException(
            f"The revision {revision.get('revisionType')} does not exist for application {application_name}."
        )
    stored = dict(used[0].revision)
    kind = stored["revisionType"]
    if kind in INLINE_REVISIONS:
        holder = dict(stored[INLINE_REVISIONS[kind]])
        holder["sha256"] = revision_digest(stored)
        stored[INLINE_REVISIONS[kind]] = holder
    first, last = _timestamp(used[0].create_time), _timestamp(used[-1].create_time)
    info: dict[str, Any] = {
        "deploymentGroups": sorted({d.deployment_group_name for d in used}),
        "firstUsedTime": first,
        "lastUsedTime": last,
        "registerTime": first,
    }
    return {"applicationName": application_name, "revision": stored, "revisionInfo": info}


def response_get_application_revision(self: CodeDeployResponse) -> ActionResult:
    """``CodeDeployResponse`` method for GetApplicationRevision."""
    return ActionResult(
        backend_get_application_revision(
            self.codedeploy_backend, self._get_param("applicationName"), self._get_param("revision")
        )
    )
