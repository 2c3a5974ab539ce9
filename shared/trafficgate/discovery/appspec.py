"""The ECS part of a deployment's AppSpec: task definition, container and port.

Layer L1 (engines): imports the leaves, :mod:`trafficgate.aws` and its own models. The AppSpec
comes with the deployment (``AppSpecContent`` or ``String``) or from S3 (``revisionType: S3``),
read with ``s3:GetObject`` from a bucket the operator named (``TRAFFICGATE_APPSPEC_BUCKETS``).
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


def revision_content(
    revision: dict[str, Any], deployment_id: str, clients: AwsClients, buckets: Collection[str]
) -> str | None:
    """The AppSpec text of a revision, read from S3 when it lives there; None for GitHub revisions.

    Raises
    ------
    DiscoveryError
        The bucket is not one of ``buckets``, the object cannot be read, is too large, or its bundle
        type is not YAML or JSON; the message names bucket and key.
    """
    kind = revision.get("revisionType")
    if kind == "S3":
        return _s3_content(revision.get("s3Location") or {}, deployment_id, clients, buckets)
    holder = revision.get("appSpecContent") if kind == "AppSpecContent" else revision.get("string")
    content = (holder or {}).get("content")
    return str(content) if content else None


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
