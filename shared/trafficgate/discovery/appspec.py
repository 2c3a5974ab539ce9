"""The ECS part of a deployment's AppSpec: task definition, container and port.

Layer L1 (engines); imports only its own models and exceptions.
"""

from __future__ import annotations

import json
from typing import Any

from trafficgate.discovery.exceptions import DiscoveryError
from trafficgate.discovery.models import AppSpec


def parse_appspec(revision: dict[str, Any], deployment_id: str) -> AppSpec | None:
    """Read the ECS AppSpec (YAML or JSON) carried in the revision; None for S3/GitHub revisions."""
    kind = revision.get("revisionType")
    holder = revision.get("appSpecContent") if kind == "AppSpecContent" else revision.get("string")
    content = (holder or {}).get("content")
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
