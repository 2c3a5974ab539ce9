"""The tasks' ``awsvpc`` network: from the AppSpec when it carries one, else from the ECS service.

Layer L1 (discovery): pure readers of answers already fetched. A CodeDeploy AppSpec's
``NetworkConfiguration.AwsvpcConfiguration`` replaces the service's network configuration for
the replacement tasks, so it wins whenever it is there; without it the tasks run in the
service's. On an ECS-native deployment UpdateService has already given the service the target
revision's configuration, so ``DescribeServices`` shows the network green runs in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["TaskNetwork", "appspec_network", "service_network"]


@dataclass(frozen=True, kw_only=True)
class TaskNetwork:
    """The tasks' ``awsvpcConfiguration``: subnets, security groups, public IP, and where it was read."""

    subnets: tuple[str, ...]
    security_groups: tuple[str, ...]
    public_ip: bool
    #: ``the AppSpec`` or ``service web``, for reasons.
    source: str


def _strings(value: Any) -> tuple[str, ...]:
    """A list of ids as a tuple; one id written as a plain string (a YAML slip) as a tuple of one."""
    if isinstance(value, str):
        return (value,) if value else ()
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _network(awsvpc: Mapping[str, Any], *, subnets: str, groups: str, public: str, source: str) -> TaskNetwork | None:
    found_subnets = _strings(awsvpc.get(subnets))
    found_groups = _strings(awsvpc.get(groups))
    if not found_subnets and not found_groups:
        return None
    return TaskNetwork(
        subnets=found_subnets,
        security_groups=found_groups,
        public_ip=str(awsvpc.get(public) or "DISABLED").upper() == "ENABLED",
        source=source,
    )


def appspec_network(raw: Mapping[str, Any]) -> TaskNetwork | None:
    """The ``NetworkConfiguration.AwsvpcConfiguration`` of the AppSpec's ECS service, if it has one."""
    resources = raw.get("Resources")
    for entry in resources if isinstance(resources, list) else []:
        for resource in entry.values() if isinstance(entry, Mapping) else ():
            if not isinstance(resource, Mapping) or resource.get("Type") != "AWS::ECS::Service":
                continue
            network = _mapping(_mapping(resource.get("Properties")).get("NetworkConfiguration"))
            found = _network(
                _mapping(network.get("AwsvpcConfiguration")),
                subnets="Subnets",
                groups="SecurityGroups",
                public="AssignPublicIp",
                source="the AppSpec",
            )
            if found is not None:
                return found
    return None


def service_network(service: Mapping[str, Any], name: str) -> TaskNetwork | None:
    """The ``networkConfiguration.awsvpcConfiguration`` of a DescribeServices service, if it has one."""
    awsvpc = _mapping(_mapping(service.get("networkConfiguration")).get("awsvpcConfiguration"))
    return _network(
        awsvpc, subnets="subnets", groups="securityGroups", public="assignPublicIp", source=f"service {name}"
    )
