"""The ECS part of a deployment's AppSpec: task definition, container and port.

Layer L1 (engines): imports the leaves, :mod:`trafficgate.aws` and its own models. The AppSpec
is an inline revision (``AppSpecContent`` or the older ``String``) or lives in S3
(``revisionType: S3``), read with ``s3:GetObject`` from a bucket the operator named
(``TRAFFICGATE_APPSPEC_BUCKETS``).

GetDeployment names an inline revision by its ``sha256`` only: the API reference says its
``content`` is "always null" there. The text comes from GetApplicationRevision, given the
application and that ``sha256``.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from trafficgate import constants as env
from trafficgate.aws import AWS_ERRORS, AwsClients, describe_error
from trafficgate.discovery.exceptions import DiscoveryError
from trafficgate.discovery.models import AppSpec

#: Largest AppSpec read from S3 (an ECS AppSpec is a few hundred bytes).
MAX_APPSPEC_BYTES = 64 * 1024


#: Where an inline revision keeps its text and digest, by revision type.
_INLINE = {"AppSpecContent": "appSpecContent", "String": "string"}


def revision_content(
    revision: dict[str, Any],
    deployment_id: str,
    clients: AwsClients,
    buckets: Collection[str],
    application: str = "",
) -> str | None:
    """The AppSpec text of a revision; None for a GitHub revision or when there is none.

    An inline revision without its content (GetDeployment on real AWS) is read with
    GetApplicationRevision from ``application`` by its ``sha256``; an S3 revision with
    ``s3:GetObject``.

    Raises
    ------
    DiscoveryError
        The bucket is not one of ``buckets``, the object cannot be read, is too large, or its bundle
        type is not YAML or JSON (the message names bucket and key); or an inline revision could not
        be read (the message names application and digest).
    """
    kind = str(revision.get("revisionType") or "")
    if kind == "S3":
        return _s3_content(revision.get("s3Location") or {}, deployment_id, clients, buckets)
    if kind not in _INLINE:
        return None
    holder = revision.get(_INLINE[kind]) or {}
    content = holder.get("content")
    if content:
        return str(content)
    sha256 = str(holder.get("sha256") or "")
    if not sha256:
        return None
    return _stored_content(kind, sha256, application, deployment_id, clients)


def _stored_content(kind: str, sha256: str, application: str, deployment_id: str, clients: AwsClients) -> str:
    where = f"the {kind} revision {sha256} of application {application or '?'} ({deployment_id})"
    if not application:
        raise DiscoveryError(f"cannot read {where}: the deployment names no application")
    request = {"revisionType": kind, _INLINE[kind]: {"sha256": sha256}}
    try:
        answer = clients.client("codedeploy").get_application_revision(applicationName=application, revision=request)
    except AWS_ERRORS as exc:
        raise DiscoveryError(
            f"could not read {where} with GetApplicationRevision: {describe_error(exc)} "
            "(the function's role needs codedeploy:GetApplicationRevision on the application)"
        ) from None
    content = ((answer.get("revision") or {}).get(_INLINE[kind]) or {}).get("content")
    if not content:
        raise DiscoveryError(f"GetApplicationRevision returned no content for {where}")
    text = str(content)
    if len(text.encode("utf-8", "replace")) > MAX_APPSPEC_BYTES:
        raise DiscoveryError(f"{where} is larger than {MAX_APPSPEC_BYTES} bytes")
    return text


def _s3_content(location: dict[str, Any], deployment_id: str, clients: AwsClients, buckets: Collection[str]) -> str:
    bucket, key = str(location.get("bucket") or ""), str(location.get("key") or "")
    where = f"s3://{bucket}/{key}"
    if not bucket or not key:
        raise DiscoveryError(f"the S3 revision of {deployment_id} names no bucket or key")
    bundle = str(location.get("bundleType") or "").upper()
    if bundle and bundle not in {"YAML", "JSON"}:
        raise DiscoveryError(
            f"the S3 revision {where} of {deployment_id} is a {bundle} bundle; an ECS AppSpec is YAML or JSON"
        )
    if bucket not in buckets:
        raise DiscoveryError(
            f"the AppSpec of {deployment_id} is in {where}, and bucket {bucket} is not one the gate may read "
            f"({env.APPSPEC_BUCKETS} allows: {', '.join(sorted(buckets)) or 'none'})"
        )
    request: dict[str, Any] = {"Bucket": bucket, "Key": key, "Range": f"bytes=0-{MAX_APPSPEC_BYTES}"}
    if location.get("version"):
        request["VersionId"] = str(location["version"])
    try:
        answer = clients.client("s3").get_object(**request)
        data = answer["Body"].read(MAX_APPSPEC_BYTES + 1)
    except AWS_ERRORS as exc:
        raise DiscoveryError(f"could not read the AppSpec {where} of {deployment_id}: {describe_error(exc)}") from None
    if len(data) > MAX_APPSPEC_BYTES:
        raise DiscoveryError(f"the AppSpec {where} of {deployment_id} is larger than {MAX_APPSPEC_BYTES} bytes")
    return bytes(data).decode("utf-8", "replace")


def parse_appspec(content: str | None, deployment_id: str) -> AppSpec | None:
    """Read the ECS AppSpec (YAML or JSON); None when there is no content (a GitHub revision)."""
    if not content:
        return None
    try:
        doc = json.loads(content)
    except ValueError:
        import yaml  # the layer ships PyYAML; only needed for YAML AppSpecs

        try:
            doc = yaml.safe_load(content)
        except yaml.YAMLError as exc:
            raise DiscoveryError(f"AppSpec of {deployment_id} is neither JSON nor YAML: {exc}") from None
    resources = doc.get("Resources") if isinstance(doc, dict) else None
    for entry in resources or []:
        for _name, resource in (entry or {}).items():
            if (resource or {}).get("Type") != "AWS::ECS::Service":
                continue
            props = resource.get("Properties") or {}
            lb = props.get("LoadBalancerInfo") or {}
            try:
                port = int(str(lb.get("ContainerPort")))
            except (TypeError, ValueError):
                raise DiscoveryError(
                    f"AppSpec of {deployment_id} has no numeric LoadBalancerInfo.ContainerPort"
                ) from None
            if not props.get("TaskDefinition") or not lb.get("ContainerName"):
                raise DiscoveryError(f"AppSpec of {deployment_id} lacks TaskDefinition or ContainerName")
            return AppSpec(
                task_definition_arn=str(props["TaskDefinition"]),
                container_name=str(lb["ContainerName"]),
                container_port=port,
                platform_version=props.get("PlatformVersion"),
                raw=doc,
            )
    raise DiscoveryError(f"AppSpec of {deployment_id} has no AWS::ECS::Service resource")
