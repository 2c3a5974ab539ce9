"""The task definition a deployment installs, read with ``DescribeTaskDefinition``.

Layer L1 (engines): imports the leaves and :mod:`trafficgate.aws`. The check context describes
it once per invocation (see :meth:`trafficgate.context.CheckContext.task_definition`), so the
BeforeInstall checks make one call between them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trafficgate.aws import AWS_ERRORS, AwsClients, describe_error, error_code
from trafficgate.discovery.exceptions import DiscoveryError, TaskDefinitionNotFound


def describe_task_definition(clients: AwsClients, arn: str) -> dict[str, Any]:
    """``DescribeTaskDefinition``'s ``taskDefinition`` for ``arn``.

    Raises
    ------
    TaskDefinitionNotFound
        ECS does not know the task definition.
    DiscoveryError
        It could not be described (access denied, throttled beyond retries, ...).
    """
    try:
        response = clients.client("ecs").describe_task_definition(taskDefinition=arn)
    except AWS_ERRORS as exc:
        # ECS answers an unknown family or revision with a bare ClientException.
        if error_code(exc) == "ClientException":
            raise TaskDefinitionNotFound(f"task definition {arn} not found (ClientException)") from None
        raise DiscoveryError(f"could not describe task definition {arn}: {describe_error(exc)}") from None
    definition: dict[str, Any] = response.get("taskDefinition") or {}
    if not definition:
        raise TaskDefinitionNotFound(f"task definition {arn} not found (empty DescribeTaskDefinition answer)")
    return definition


def containers(definition: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The container definitions of a task definition (malformed entries skipped)."""
    return [c for c in definition.get("containerDefinitions") or [] if isinstance(c, dict)]


def is_essential(container: Mapping[str, Any]) -> bool:
    """Whether ECS stops the task when this container stops (a container without the flag is)."""
    return container.get("essential") is not False
