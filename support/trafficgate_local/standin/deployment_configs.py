"""GetDeploymentConfig for moto's CodeDeploy: the predefined ECS (and Lambda) deployment configurations.

moto 5.2 does not implement the call. The service answers it for its predefined configurations
with ``computePlatform`` and a ``trafficRoutingConfig`` (``AllAtOnce``, ``TimeBasedCanary``
with ``canaryPercentage``/``canaryInterval`` in minutes, ``TimeBasedLinear`` with
``linearPercentage``/``linearInterval``), and no ``minimumHealthyHosts``, which only EC2/On-Premises
configurations have. An unknown name is ``DeploymentConfigDoesNotExistException``.

Modelled: the five predefined ECS configurations and the nine Lambda ones, whose routing follows
from their names. Not modelled: the EC2/On-Premises configurations (``CodeDeployDefault.OneAtATime``
...; the stand-in serves ECS deployments), CreateDeploymentConfig and custom configurations, and
``createTime``, which the stand-in leaves out rather than invent. The ids have the all-zero form of
the service's predefined ids; their numbers are the stand-in's own.
"""

from __future__ import annotations

from typing import Any

from moto.codedeploy.models import CodeDeployBackend, CodeDeployDefault
from moto.codedeploy.responses import CodeDeployResponse
from moto.core.responses import ActionResult

from .exceptions import DeploymentConfigDoesNotExistException, DeploymentConfigNameRequiredException

__all__ = [
    "PREDEFINED_CONFIGS",
    "backend_get_deployment_config",
    "config_name",
    "response_get_deployment_config",
]

_PREFIX = "CodeDeployDefault."


def _all_at_once() -> dict[str, Any]:
    return {"type": "AllAtOnce"}


def _canary(percentage: int, minutes: int) -> dict[str, Any]:
    return {"type": "TimeBasedCanary", "timeBasedCanary": {"canaryPercentage": percentage, "canaryInterval": minutes}}


def _linear(percentage: int, minutes: int) -> dict[str, Any]:
    return {"type": "TimeBasedLinear", "timeBasedLinear": {"linearPercentage": percentage, "linearInterval": minutes}}


_ROUTING: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("ECS", "ECSAllAtOnce", _all_at_once()),
    ("ECS", "ECSLinear10PercentEvery1Minutes", _linear(10, 1)),
    ("ECS", "ECSLinear10PercentEvery3Minutes", _linear(10, 3)),
    ("ECS", "ECSCanary10Percent5Minutes", _canary(10, 5)),
    ("ECS", "ECSCanary10Percent15Minutes", _canary(10, 15)),
    ("Lambda", "LambdaAllAtOnce", _all_at_once()),
    ("Lambda", "LambdaCanary10Percent5Minutes", _canary(10, 5)),
    ("Lambda", "LambdaCanary10Percent10Minutes", _canary(10, 10)),
    ("Lambda", "LambdaCanary10Percent15Minutes", _canary(10, 15)),
    ("Lambda", "LambdaCanary10Percent30Minutes", _canary(10, 30)),
    ("Lambda", "LambdaLinear10PercentEvery1Minute", _linear(10, 1)),
    ("Lambda", "LambdaLinear10PercentEvery2Minutes", _linear(10, 2)),
    ("Lambda", "LambdaLinear10PercentEvery3Minutes", _linear(10, 3)),
    ("Lambda", "LambdaLinear10PercentEvery10Minutes", _linear(10, 10)),
)

#: ``DeploymentConfigInfo`` of every predefined configuration the stand-in knows, by name.
PREDEFINED_CONFIGS: dict[str, dict[str, Any]] = {
    _PREFIX + name: {
        "deploymentConfigId": f"00000000-0000-0000-0000-{index:012d}",
        "deploymentConfigName": _PREFIX + name,
        "computePlatform": platform,
        "trafficRoutingConfig": routing,
    }
    for index, (platform, name, routing) in enumerate(_ROUTING, start=101)
}

#: The configuration a deployment group gets when it names none, by compute platform.
_DEFAULT_BY_PLATFORM = {
    "ECS": "CodeDeployDefault.ECSAllAtOnce",
    "Lambda": "CodeDeployDefault.LambdaAllAtOnce",
    "Server": "CodeDeployDefault.OneAtATime",
}


def config_name(value: Any, compute_platform: str | None) -> str:
    """The configuration name to report for what moto stored: the platform's default when none was given.

    moto stores ``CodeDeployDefault.OneAtATime`` (as its own enum) for every group created without a
    name, ECS and Lambda groups too, where the service uses ``ECSAllAtOnce`` / ``LambdaAllAtOnce``.
    """
    if value is None or str(value) == "None" or isinstance(value, CodeDeployDefault):
        return _DEFAULT_BY_PLATFORM.get(compute_platform or "Server", _DEFAULT_BY_PLATFORM["Server"])
    return str(value)


def backend_get_deployment_config(self: CodeDeployBackend, deployment_config_name: str | None) -> dict[str, Any]:
    """Return one predefined configuration in API shape (a fresh copy)."""
    if not deployment_config_name:
        raise DeploymentConfigNameRequiredException("The deployment configuration name was not specified.")
    config = PREDEFINED_CONFIGS.get(deployment_config_name)
    if config is None:
        raise DeploymentConfigDoesNotExistException(
            f"The deployment configuration {deployment_config_name} does not exist with the user or AWS account."
        )
    return {**config, "trafficRoutingConfig": _copy(config["trafficRoutingConfig"])}


def response_get_deployment_config(self: CodeDeployResponse) -> ActionResult:
    """``CodeDeployResponse`` method for GetDeploymentConfig."""
    info = backend_get_deployment_config(self.codedeploy_backend, self._get_param("deploymentConfigName"))
    return ActionResult({"deploymentConfigInfo": info})


def _copy(value: dict[str, Any]) -> dict[str, Any]:
    return {key: dict(item) if isinstance(item, dict) else item for key, item in value.items()}
