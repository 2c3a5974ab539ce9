"""moto's ECS and ELBv2, extended with what AfterInstall checks need to see: stopped tasks and target states.

moto cannot run Fargate tasks, let alone have one killed for running out of memory. :func:`add_task`
puts such a task straight into moto's backend, so that real boto3 clients (``ListTasks``,
``DescribeTasks``) read it back in the service's own shapes, both under ``moto.mock_aws()`` and
through a moto server in this process. Target health (``unused``, ``initial``, ``draining`` and
explicit overrides) lives in :mod:`.target_health`; its control functions are re-exported here,
where callers have always imported them from.

:func:`install_ecs` patches moto once (idempotent; nothing happens at import time). State lives on
moto's backend objects, so ``mock_aws`` restarts and ``POST /moto-api/reset`` clear it with moto's.
"""

from __future__ import annotations

import uuid
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ecs.models import Container, EC2ContainerServiceBackend, Task, ecs_backends
from moto.moto_api._internal.managed_state_model import ManagedState

from .exceptions import StandInError
from .target_health import (
    TARGET_STATES,
    clear_target_health,
    install_target_health,
    is_target_health_installed,
    set_target_health,
)

__all__ = ["TARGET_STATES", "add_task", "clear_target_health", "install_ecs", "is_ecs_installed", "set_target_health"]

TASK_STATUSES = ("PROVISIONING", "PENDING", "ACTIVATING", "RUNNING", "DEACTIVATING", "STOPPING", "STOPPED")


class _InjectedTask(Task):
    """A task that exists only because a test said so: its status stays what it was given.

    ``Task.__init__`` is not called: it would create ENIs in moto's EC2 for awsvpc task
    definitions, and its managed state would move the task towards STOPPED on every describe.
    """

    def __init__(
        self,
        *,
        backend: EC2ContainerServiceBackend,
        cluster: Any,
        task_definition: Any,
        started_by: str,
        group: str,
        last_status: str,
        desired_status: str,
        launch_type: str,
    ) -> None:
        # One transition onto itself: moto's state machine never moves an injected task.
        ManagedState.__init__(self, model_name="ecs::task", transitions=[(last_status, last_status)])
        self.id = uuid.uuid4().hex
        self.cluster_name = cluster.name
        self.cluster_arn = cluster.arn
        self.container_instance_arn = None
        self.desired_status = desired_status
        self.task_definition_arn = task_definition.arn
        self.overrides: dict[str, Any] = {}
        self.containers = []
        self.started_by = started_by
        self.tags: list[dict[str, str]] = []
        self.launch_type = launch_type
        self.capacity_provider_name = None
        self.platform_version = None
        self.stopped_reason = ""
        self.stop_code: str | None = None
        self.resource_requirements = None
        self.region_name = cluster.region_name
        self._account_id = backend.account_id
        self._backend = backend
        self.attachments: list[dict[str, Any]] = []
        self.group = group


def add_task(
    region: str,
    cluster: str,
    task_definition_arn: str,
    started_by: str,
    *,
    last_status: str = "RUNNING",
    stopped_reason: str | None = None,
    container_reason: str | None = None,
    stop_code: str | None = None,
    exit_code: int | None = None,
    group: str | None = None,
    launch_type: str = "FARGATE",
    account_id: str = DEFAULT_ACCOUNT_ID,
) -> str:
    """Put a task into moto's ECS as if a task set had launched it.

    Parameters
    ----------
    region, cluster
        An existing cluster (name or ARN) in that region.
    task_definition_arn
        A registered task definition; the task gets one container per container definition.
    started_by
        ``startedBy`` of the task; ECS sets it to the task set id (``ecs-svc/...``) for task-set tasks.
    last_status
        ``RUNNING``, ``STOPPED``, ... A ``STOPPED`` task also has desired status ``STOPPED``.
    stopped_reason, stop_code
        ``stoppedReason`` and ``stopCode`` of the task (e.g. ``"EssentialContainerExited"``).
    container_reason, exit_code
        ``reason`` and ``exitCode`` of every container (e.g. ``"OutOfMemoryError: Container killed
        due to memory usage"``, 137).
    group
        ``group`` of the task; ``service:<task set's service>`` in ECS. Defaults to ``started_by``.
    launch_type, account_id
        As in ECS; moto's default account.

    Returns
    -------
    str
        The task ARN.
    """
    install_ecs()
    status = last_status.upper()
    if status not in TASK_STATUSES:
        raise StandInError(f"last_status {last_status!r} is not one of {', '.join(TASK_STATUSES)}")
    backend: EC2ContainerServiceBackend = ecs_backends[account_id][region]
    try:
        found_cluster = backend._get_cluster(cluster)
        task_definition = backend.describe_task_definition(task_definition_arn)
    except Exception as exc:  # moto's own not-found exceptions; say what is missing
        raise StandInError(f"cluster {cluster!r} or task definition {task_definition_arn!r}: {exc}") from None
    stopped = status == "STOPPED"
    task = _InjectedTask(
        backend=backend,
        cluster=found_cluster,
        task_definition=task_definition,
        started_by=started_by,
        group=group or started_by,
        last_status=status,
        desired_status="STOPPED" if stopped else "RUNNING",
        launch_type=launch_type,
    )
    task.stopped_reason = stopped_reason or ""
    task.stop_code = stop_code
    task.containers = [
        _container(task_definition, definition, status, container_reason, exit_code)
        for definition in task_definition.container_definitions
    ]
    backend.tasks.setdefault(found_cluster.name, {})[task.task_arn] = task
    return str(task.task_arn)


def _container(
    task_definition: Any, definition: dict[str, Any], status: str, reason: str | None, exit_code: int | None
) -> Container:
    container = Container(task_definition)  # type: ignore[abstract]  # moto: a CloudFormation model too
    container.name = definition.get("name")
    container.image = definition.get("image")
    container.last_status = status
    container.exitCode = exit_code  # type: ignore[assignment]
    container.reason = reason  # type: ignore[attr-defined]
    return container


# --------------------------------------------------------------------------------------------
# install
# --------------------------------------------------------------------------------------------
def install_ecs() -> None:
    """Patch moto's ELBv2 target health (:mod:`.target_health`); safe to call repeatedly.

    ECS needs no patch: moto's ``ListTasks`` filters on ``startedBy`` and ``desiredStatus``
    already, and :func:`add_task` only adds to its backend.
    """
    install_target_health()


def is_ecs_installed() -> bool:
    """Return True once :func:`install_ecs` has extended moto."""
    return is_target_health_installed()
