"""The CodeDeploy revision of an ECS deployment, as CreateDeployment takes it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def ecs_revision(
    task_definition_arn: str,
    container_name: str,
    container_port: int,
    *,
    hooks: Mapping[str, str] | None = None,
    network: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An ``AppSpecContent`` revision for one ECS service, optionally naming hook functions.

    Parameters
    ----------
    task_definition_arn
        The task definition the deployment installs.
    container_name, container_port
        The container and port the load balancer routes to.
    hooks
        Lifecycle event name → Lambda function name, as in appspec.yml ``Hooks``.
    network
        The service's ``NetworkConfiguration`` (``{"AwsvpcConfiguration": {...}}``), when given.
    """
    appspec: dict[str, Any] = {
        "version": 0.0,
        "Resources": [
            {
                "TargetService": {
                    "Type": "AWS::ECS::Service",
                    "Properties": {
                        "TaskDefinition": task_definition_arn,
                        "LoadBalancerInfo": {"ContainerName": container_name, "ContainerPort": container_port},
                    },
                }
            }
        ],
    }
    if network:
        appspec["Resources"][0]["TargetService"]["Properties"]["NetworkConfiguration"] = dict(network)
    if hooks:
        appspec["Hooks"] = [{event: function} for event, function in hooks.items()]
    return {"revisionType": "AppSpecContent", "appSpecContent": {"content": json.dumps(appspec)}}
