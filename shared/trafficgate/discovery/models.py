"""What discovery learns about a deployment from its DeploymentId.

Layer L1 (engines); imports only its own exceptions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from trafficgate.discovery.exceptions import DiscoveryError

#: Which listener: ``test`` (green from AllowTestTraffic on) or ``prod`` (green after AllowTraffic).
ListenerRole = Literal["test", "prod"]


@dataclass(frozen=True, kw_only=True)
class AppSpec:
    """The ECS part of the deployment's AppSpec: which task definition, container and port."""

    task_definition_arn: str
    container_name: str
    container_port: int
    platform_version: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, kw_only=True)
class Listener:
    """One load balancer listener and the base URL that reaches it."""

    arn: str
    protocol: str
    port: int
    load_balancer_arn: str
    dns_name: str
    #: HTTPS: the names the listener's default certificate covers (ACM), in ACM's order.
    tls_names: tuple[str, ...] = ()
    #: HTTPS: why the certificate's names are unknown (not in ACM, not readable), if they are.
    certificate_problem: str | None = None
    #: ECS native: what the listener *rule* that routes to the service asks of a request, so a
    #: probe can satisfy it: a Host to send, headers to send, path patterns the path must match.
    rule_host: str | None = None
    rule_headers: tuple[tuple[str, str], ...] = ()
    rule_paths: tuple[str, ...] = ()
    rule_arn: str | None = None

    def path_allowed(self, path: str) -> bool:
        """Whether ``path`` (its query left out) matches one of the rule's path patterns (any, if none)."""
        if not self.rule_paths:
            return True
        bare = path.split("?", 1)[0]
        return any(_alb_pattern(p).fullmatch(bare) for p in self.rule_paths)

    @property
    def https(self) -> bool:
        return self.protocol.upper() in {"HTTPS", "TLS"}

    @property
    def tls_host(self) -> str | None:
        """The first name of the certificate that is not a wildcard: what a probe must ask for.

        The load balancer's own DNS name never matches its certificate, so an HTTPS probe sends
        this name as Host and SNI, and verifies the certificate against it.
        """
        return next((name for name in self.tls_names if not name.startswith("*")), None)

    @property
    def base_url(self) -> str:
        scheme = "https" if self.https else "http"
        default_port = 443 if scheme == "https" else 80
        port = "" if self.port == default_port else f":{self.port}"
        return f"{scheme}://{self.dns_name}{port}"


@dataclass(frozen=True, kw_only=True)
class TargetGroup:
    name: str
    arn: str | None = None


@dataclass(frozen=True, kw_only=True)
class TaskSet:
    """A task set as CodeDeploy reports it in ``GetDeploymentTarget``."""

    identifier: str
    label: str  # BLUE or GREEN
    desired: int
    pending: int
    running: int
    status: str
    traffic_weight: float
    target_group: str | None


@dataclass(frozen=True, kw_only=True)
class LifecycleEvent:
    """One lifecycle event of the deployment target, as CodeDeploy reports it."""

    name: str
    status: str


@dataclass(frozen=True, kw_only=True)
class Deployment:
    """The static topology of a deployment (cached per warm container) and its live task sets."""

    deployment_id: str
    application: str
    deployment_group: str
    deployment_config: str
    appspec: AppSpec | None
    cluster: str | None
    service: str | None
    prod_listeners: tuple[Listener, ...]
    test_listeners: tuple[Listener, ...]
    target_groups: tuple[TargetGroup, ...]
    alarm_configuration: dict[str, Any] = field(default_factory=dict)
    task_sets: tuple[TaskSet, ...] = ()

    def listener(self, role: ListenerRole) -> Listener | None:
        listeners = self.test_listeners if role == "test" else self.prod_listeners
        return listeners[0] if listeners else None

    def task_set(self, label: str) -> TaskSet | None:
        """The task set CodeDeploy labels ``label`` (``BLUE`` or ``GREEN``), if any."""
        return next((t for t in self.task_sets if t.label.upper() == label.upper()), None)

    @property
    def green(self) -> TaskSet | None:
        """The replacement task set (CodeDeploy's GREEN), if it exists yet."""
        return self.task_set("GREEN")

    def describe_task_sets(self) -> str:
        """``BLUE ecs-svc/1, GREEN ecs-svc/2`` for reasons; ``none`` when there are none."""
        return ", ".join(f"{t.label or '?'} {t.identifier}" for t in self.task_sets) or "none"

    def green_target_group(self) -> TargetGroup:
        """The target group the green task set registers in.

        The green task set's own ``targetGroup`` wins; without one, the second group of the
        deployment group's pair (CodeDeploy's convention: [blue, green]).

        Raises
        ------
        DiscoveryError
            When no target group (or its ARN) is known.
        """
        green = self.green
        groups = {tg.name: tg for tg in self.target_groups}
        if green is not None and green.target_group:
            found = groups.get(green.target_group)
            if found is None:
                raise DiscoveryError(
                    f"green task set {green.identifier} names target group {green.target_group}, "
                    f"which is not one of the deployment group's ({', '.join(groups) or 'none'})"
                )
        elif len(self.target_groups) >= 2:
            found = self.target_groups[1]
        else:
            raise DiscoveryError(f"deployment {self.deployment_id} has no green target group")
        if not found.arn:
            raise DiscoveryError(f"target group {found.name} has no known ARN")
        return found


def _alb_pattern(pattern: str) -> re.Pattern[str]:
    """An ALB condition pattern as a regular expression: ``*`` any characters, ``?`` one; case-sensitive."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern))


def concrete(pattern: str) -> str:
    """A value that an ALB condition pattern matches: its wildcards filled in (``*.example.com`` →
    ``probe.example.com``)."""
    return pattern.replace("*", "probe").replace("?", "x")
