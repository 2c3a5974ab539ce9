"""What discovery learns about a deployment from its DeploymentId."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

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

    @property
    def base_url(self) -> str:
        scheme = "https" if self.protocol.upper() in {"HTTPS", "TLS"} else "http"
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
        return next((t for t in self.task_sets if t.label.upper() == label.upper()), None)
