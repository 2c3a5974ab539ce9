"""The ``deploymentConfiguration`` of an ECS service: the service model's enums, and what ECS refuses.

The leaf of the ECS-deployment extension (:mod:`.ecs_deployments`). :func:`deployment_configuration`
merges a CreateService/UpdateService request into what the service keeps and raises the
InvalidParameterException ECS answers for an unknown strategy or lifecycle stage and the like.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from moto.ecs.exceptions import InvalidParameterException

#: ``DeploymentStrategy``; ROLLING is what ECS assumes when none is given.
STRATEGIES = ("ROLLING", "BLUE_GREEN", "LINEAR", "CANARY")
#: Strategies whose deployments ECS runs itself, stage by stage, with a green service revision.
STAGED_STRATEGIES = ("BLUE_GREEN", "LINEAR", "CANARY")
#: ``DeploymentLifecycleHookStage``: where a hook may run (not the same list as the stages below).
HOOK_STAGES = (
    "RECONCILE_SERVICE",
    "PRE_SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRE_PRODUCTION_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
)
#: ``ServiceDeploymentLifecycleStage``, in the order a deployment goes through them.
LIFECYCLE_STAGES = (
    "RECONCILE_SERVICE",
    "PRE_SCALE_UP",
    "SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
    "BAKE_TIME",
    "CLEAN_UP",
)
#: ``ServiceDeploymentStatus``.
STATUSES = (
    "PENDING",
    "SUCCESSFUL",
    "STOPPED",
    "STOP_REQUESTED",
    "IN_PROGRESS",
    "ROLLBACK_REQUESTED",
    "ROLLBACK_IN_PROGRESS",
    "ROLLBACK_SUCCESSFUL",
    "ROLLBACK_FAILED",
)
#: Statuses a deployment ends in: it then has ``finishedAt`` (and ``stoppedAt`` when STOPPED).
FINAL_STATUSES = ("SUCCESSFUL", "STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED")
ROLLBACK_STATUSES = ("ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED")
HOOK_TARGET_TYPES = ("AWS_LAMBDA", "PAUSE")
HOOK_TIMEOUT_ACTIONS = ("ROLLBACK", "CONTINUE")
#: What DescribeServices shows for a service of the ECS controller that was given no such setting.
ECS_CONFIGURATION_DEFAULTS: dict[str, Any] = {
    "deploymentCircuitBreaker": {"enable": False, "rollback": False},
    "maximumPercent": 200,
    "minimumHealthyPercent": 100,
    "strategy": "ROLLING",
}
#: First production step of LINEAR and CANARY when not configured (API reference defaults).
DEFAULT_LINEAR_STEP = 10.0
DEFAULT_CANARY_PERCENT = 5.0
_ADVANCED_REQUIRED = ("alternateTargetGroupArn", "productionListenerRule", "roleArn")


def _invalid(message: str) -> InvalidParameterException:
    return InvalidParameterException(message)


def _one_of(value: Any, allowed: Sequence[str], what: str) -> str:
    if value not in allowed:
        raise _invalid(f"Invalid {what} '{value}'. Valid values are: {', '.join(allowed)}.")
    return str(value)


def _number(config: Mapping[str, Any], key: str, low: float, high: float, where: str) -> None:
    value = config.get(key)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise _invalid(f"{where}{key} must be between {low:g} and {high:g}, not {value!r}.")


def _check_hook(index: int, hook: Mapping[str, Any]) -> None:
    where = f"deploymentConfiguration.lifecycleHooks[{index}]"
    target_type = _one_of(hook.get("targetType", "AWS_LAMBDA"), HOOK_TARGET_TYPES, f"{where}.targetType")
    if target_type == "AWS_LAMBDA":
        for key in ("hookTargetArn", "roleArn"):
            if not hook.get(key):
                raise _invalid(f"{where}.{key} is required for an AWS_LAMBDA lifecycle hook.")
    stages = hook.get("lifecycleStages") or []
    if not stages:
        raise _invalid(f"{where}.lifecycleStages must name at least one lifecycle stage.")
    for stage in stages:
        _one_of(stage, HOOK_STAGES, "lifecycle stage")
    timeout = hook.get("timeoutConfiguration") or {}
    if "action" in timeout:
        _one_of(timeout["action"], HOOK_TIMEOUT_ACTIONS, f"{where}.timeoutConfiguration.action")
    _number(timeout, "timeoutInMinutes", 1, 1440, f"{where}.timeoutConfiguration.")


def _check_load_balancers(load_balancers: Sequence[Mapping[str, Any]], strategy: str) -> None:
    for index, balancer in enumerate(load_balancers):
        advanced = balancer.get("advancedConfiguration")
        if advanced is None:
            if strategy in STAGED_STRATEGIES and balancer.get("targetGroupArn"):
                raise _invalid(
                    f"loadBalancers[{index}].advancedConfiguration is required for the {strategy} deployment strategy."
                )
            continue
        for key in _ADVANCED_REQUIRED:
            if not advanced.get(key):
                raise _invalid(f"loadBalancers[{index}].advancedConfiguration.{key} is required.")
        if advanced["alternateTargetGroupArn"] == balancer.get("targetGroupArn"):
            raise _invalid(f"loadBalancers[{index}]: the alternate target group must differ from targetGroupArn.")


def deployment_configuration(
    given: Mapping[str, Any] | None,
    *,
    controller: str,
    load_balancers: Sequence[Mapping[str, Any]],
    current: Mapping[str, Any] | None = None,
) -> dict[str, Any] | None:
    """Return the ``deploymentConfiguration`` a service keeps after CreateService/UpdateService.

    Parameters
    ----------
    given
        The request's ``deploymentConfiguration`` (None when absent). Its members replace those of
        ``current`` one by one, as UpdateService does.
    controller
        ``deploymentController.type`` of the service (``ECS``, ``CODE_DEPLOY``, ``EXTERNAL``).
    load_balancers
        The service's ``loadBalancers`` after the request.
    current
        What the service kept so far (None at CreateService).

    Raises
    ------
    InvalidParameterException
        An unknown strategy, lifecycle stage, hook target type or timeout action; a missing hook
        target or role; a ``linearConfiguration``/``canaryConfiguration`` for another strategy; a
        value out of the documented range; a target group without ``advancedConfiguration`` under
        a staged strategy (or one lacking its alternate target group, production rule or role).
    """
    merged: dict[str, Any] = {**(current or {}), **(given or {})}
    if controller != "ECS":
        # Only the ECS controller has strategies; CodeDeploy and external services keep what they got.
        strategy = merged.get("strategy", "ROLLING")
        if _one_of(strategy, STRATEGIES, "strategy") != "ROLLING":
            raise _invalid(f"The {strategy} deployment strategy requires the ECS deployment controller.")
        _check_load_balancers(load_balancers, "ROLLING")
        return merged or None
    merged = {**ECS_CONFIGURATION_DEFAULTS, **merged}
    strategy = _one_of(merged["strategy"], STRATEGIES, "strategy")
    _number(merged, "bakeTimeInMinutes", 0, 1440, "deploymentConfiguration.")
    for index, hook in enumerate(merged.get("lifecycleHooks") or []):
        _check_hook(index, hook)
    for key, owner in (("linearConfiguration", "LINEAR"), ("canaryConfiguration", "CANARY")):
        if merged.get(key) is not None and strategy != owner:
            raise _invalid(f"deploymentConfiguration.{key} is only valid with the {owner} deployment strategy.")
    linear = merged.get("linearConfiguration") or {}
    _number(linear, "stepPercent", 3.0, 100.0, "linearConfiguration.")
    _number(linear, "stepBakeTimeInMinutes", 0, 1440, "linearConfiguration.")
    canary = merged.get("canaryConfiguration") or {}
    _number(canary, "canaryPercent", 0.1, 100.0, "canaryConfiguration.")
    _number(canary, "canaryBakeTimeInMinutes", 0, 1440, "canaryConfiguration.")
    _check_load_balancers(load_balancers, strategy)
    return merged
