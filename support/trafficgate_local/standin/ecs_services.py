"""moto's ECS services, extended with ``healthCheckGracePeriodSeconds``.

moto 5.2 accepts the parameter in CreateService and UpdateService and drops it: DescribeServices
never answers it. ``elb.health_check_config`` judges it, so :func:`install_ecs_services` wraps the
two responses once (nothing happens at import time): the value is validated as ECS does (an
integer from 0 to 2147483647), kept on moto's ``Service`` (the serializer reads the attribute by
its member name), and answered in CreateService, UpdateService and DescribeServices. A service
created without it answers without it, as moto always did; UpdateService without it keeps it.

State lives on moto's service objects, so ``mock_aws`` restarts and ``POST /moto-api/reset`` clear
it with moto's own.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.ecs.exceptions import InvalidParameterException
from moto.ecs.models import Service
from moto.ecs.responses import EC2ContainerServiceResponse

__all__ = ["MAX_GRACE_PERIOD_S", "install_ecs_services", "is_ecs_services_installed"]

#: The largest grace period ECS accepts (a signed 32-bit integer).
MAX_GRACE_PERIOD_S = 2_147_483_647
_PARAMETER = "healthCheckGracePeriodSeconds"
_ATTRIBUTE = "health_check_grace_period_seconds"
_INSTALL_MARK = "_trafficgate_ecs_services_installed"
_install_lock = threading.Lock()
_ORIGINALS: dict[str, Any] = {}


def _grace(response: EC2ContainerServiceResponse) -> int | None:
    """The request's grace period, validated; None when the request does not set it."""
    raw = response._get_param(_PARAMETER)
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= MAX_GRACE_PERIOD_S:
        raise InvalidParameterException(
            f"{_PARAMETER} must be an integer from 0 to {MAX_GRACE_PERIOD_S}; got {raw!r}"
        )
    return raw


def _create_service(self: EC2ContainerServiceResponse) -> Any:
    grace = _grace(self)
    result = _ORIGINALS["create_service"](self)
    service: Service = result.result["service"]
    if grace is not None:
        setattr(service, _ATTRIBUTE, grace)
    return result


def _update_service(self: EC2ContainerServiceResponse) -> Any:
    grace = _grace(self)
    if grace is not None:
        # Set before the original answers, so that UpdateService's own answer shows it.
        service = self.ecs_backend._get_service(self._get_param("cluster", "default"), self._get_param("service"))
        setattr(service, _ATTRIBUTE, grace)
    return _ORIGINALS["update_service"](self)


_PATCHED = {"create_service": _create_service, "update_service": _update_service}


def install_ecs_services() -> None:
    """Wrap moto's CreateService and UpdateService responses as the module docstring says; idempotent.

    It wraps whatever is installed at the time (the ECS deployments extension's responses, when
    that came first), so the two extensions compose in either order.
    """
    with _install_lock:
        if is_ecs_services_installed():
            return
        for name, function in _PATCHED.items():
            _ORIGINALS[name] = getattr(EC2ContainerServiceResponse, name)
            setattr(EC2ContainerServiceResponse, name, function)
        setattr(EC2ContainerServiceResponse, _INSTALL_MARK, True)


def is_ecs_services_installed() -> bool:
    """Return True once :func:`install_ecs_services` has patched moto."""
    return bool(getattr(EC2ContainerServiceResponse, _INSTALL_MARK, False))
