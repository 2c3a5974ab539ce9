"""The ECS read operations moto 5.2 lacks: DescribeServiceDeployments, ListServiceDeployments, DescribeServiceRevisions.

Response methods that :func:`~.ecs_deployments.install_ecs_deployments` adds to moto's
``EC2ContainerServiceResponse``. They answer in the service model's shapes from the records of
:mod:`.ecs_deployment_model`; moto's serializer writes the timestamps as epoch seconds, as ECS does.
"""

from __future__ import annotations

import base64
import copy
from datetime import UTC, datetime
from typing import Any

from moto.core.responses import ActionResult
from moto.ecs.exceptions import InvalidParameterException
from moto.ecs.responses import EC2ContainerServiceResponse

from .ecs_deployment_config import STATUSES
from .ecs_deployment_model import service_key, store_of

#: Most ARNs one Describe call takes, and ListServiceDeployments' page sizes (API reference).
MAX_DESCRIBE_ARNS = 20
DEFAULT_PAGE, MAX_PAGE = 20, 100


def _arns(self: EC2ContainerServiceResponse, name: str) -> list[str]:
    arns = self._get_param(name) or []
    if len(arns) > MAX_DESCRIBE_ARNS:
        raise InvalidParameterException(f"{name} can have at most {MAX_DESCRIBE_ARNS} items.")
    return list(arns)


def _desired(self: EC2ContainerServiceResponse, key: str) -> int:
    service = self.ecs_backend.services.get(key)
    return int(service.desired_count) if service is not None else 0


def describe_service_deployments(self: EC2ContainerServiceResponse) -> ActionResult:
    """DescribeServiceDeployments: known ARNs in ``serviceDeployments``, the others ``MISSING``."""
    store = store_of(self.ecs_backend)
    found, failures = [], []
    with store.lock:
        for arn in _arns(self, "serviceDeploymentArns"):
            deployment = store.deployments.get(arn)
            if deployment is None:
                failures.append({"arn": arn, "reason": "MISSING"})
            else:
                found.append(deployment.to_api(_desired(self, deployment.service_key)))
    return ActionResult({"serviceDeployments": found, "failures": failures})


def describe_service_revisions(self: EC2ContainerServiceResponse) -> ActionResult:
    """DescribeServiceRevisions: known ARNs in ``serviceRevisions``, the others ``MISSING``."""
    store = store_of(self.ecs_backend)
    found, failures = [], []
    with store.lock:
        for arn in _arns(self, "serviceRevisionArns"):
            revision = store.revisions.get(arn)
            if revision is None:
                failures.append({"arn": arn, "reason": "MISSING"})
            else:
                found.append(copy.deepcopy(revision.body))
    return ActionResult({"serviceRevisions": found, "failures": failures})


def list_service_deployments(self: EC2ContainerServiceResponse) -> ActionResult:
    """ListServiceDeployments of one service, newest first, filtered by status and ``createdAt``, paged.

    The API reference names no order; the stand-in lists newest first, as the console does.
    """
    backend = self.ecs_backend
    # moto raises ClusterNotFoundException / ServiceNotFoundException, as ECS does.
    service = backend._get_service(self._get_param("cluster", "default"), self._get_param("service"))
    statuses = self._get_param("status") or []
    for status in statuses:
        if status not in STATUSES:
            raise InvalidParameterException(f"Invalid status '{status}'. Valid values are: {', '.join(STATUSES)}.")
    created = self._get_param("createdAt") or {}
    after = _as_datetime(created.get("after"))
    before = _as_datetime(created.get("before"))
    size = self._get_param("maxResults")
    size = DEFAULT_PAGE if size is None else int(size)
    if not 1 <= size <= MAX_PAGE:
        raise InvalidParameterException(f"maxResults must be between 1 and {MAX_PAGE}, not {size}.")
    offset = _offset(self._get_param("nextToken"))
    store = store_of(backend)
    with store.lock:
        matching = [
            d.brief()
            for d in reversed(store.of_service(service_key(service)))
            if (not statuses or d.status in statuses)
            and (after is None or d.created_at > after)
            and (before is None or d.created_at < before)
        ]
    answer: dict[str, Any] = {"serviceDeployments": matching[offset : offset + size]}
    if offset + size < len(matching):
        answer["nextToken"] = base64.urlsafe_b64encode(f"offset:{offset + size}".encode()).decode()
    return ActionResult(answer)


def _as_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(float(value), UTC)


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if kind == "offset" and value.isdigit():
            return int(value)
    except (ValueError, UnicodeDecodeError):
        pass
    raise InvalidParameterException("The nextToken is invalid.")


#: Response methods the install adds, under moto's names for the operations.
ADDED_RESPONSES = {
    "describe_service_deployments": describe_service_deployments,
    "list_service_deployments": list_service_deployments,
    "describe_service_revisions": describe_service_revisions,
}
