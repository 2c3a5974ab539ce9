"""BeforeInstall: the AppSpec's container maps the AppSpec's port over TCP (``ecs.container_port``).

Layer L2 (a check).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from trafficgate.checks.base import Check, CheckResult
from trafficgate.discovery import containers

if TYPE_CHECKING:
    from trafficgate.context import CheckContext

CONTAINER_PORT_CHECK_ID = "ecs.container_port"


@dataclass(kw_only=True)
class ContainerPortMapped(Check):
    """The AppSpec's ``ContainerName`` is in the task definition and maps its ``ContainerPort``.

    The load balancer registers ``container:port`` of the green tasks; a port the container does
    not map leaves the target group empty.
    """

    check_id: str = CONTAINER_PORT_CHECK_ID

    def run(self, ctx: CheckContext) -> CheckResult:
        appspec = ctx.appspec()
        name, port = appspec.container_name, appspec.container_port
        defined = containers(ctx.task_definition())
        container = next((c for c in defined if c.get("name") == name), None)
        if container is None:
            names = ", ".join(str(c.get("name")) for c in defined) or "none"
            return CheckResult.failed(
                f"container {name} not in task definition (containers: {names})", value=None, threshold=name
            )
        mappings = [m for m in container.get("portMappings") or [] if isinstance(m, dict)]
        ports = [m["containerPort"] for m in mappings if m.get("containerPort") is not None]
        listed = "[" + ", ".join(str(p) for p in ports) + "]"
        mapping = next((m for m in mappings if m.get("containerPort") == port), None)
        if mapping is None:
            return CheckResult.failed(
                f"container {name} port {port} not in portMappings {listed}", value=ports, threshold=port
            )
        protocol = str(mapping.get("protocol") or "tcp").lower()
        if protocol != "tcp":
            return CheckResult.failed(
                f"container {name} port {port} is mapped as {protocol}; the load balancer needs tcp",
                value=ports,
                threshold=port,
            )
        return CheckResult.passed(
            f"container {name} maps port {port} (portMappings {listed})", value=ports, threshold=port
        )
