"""UpdateDeploymentGroup, BatchGetDeploymentGroups and ``alarmConfiguration`` for moto's CodeDeploy.

moto 5.2 lacks the two calls and leaves ``alarmConfiguration`` out of every deployment group it
returns. The alarm checks read a group's alarms from there, so :func:`deployment_group_info`
replaces moto's serialiser for GetDeploymentGroup and BatchGetDeploymentGroups alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from moto.codedeploy.models import CodeDeployBackend
from moto.codedeploy.responses import CodeDeployResponse
from moto.core.responses import ActionResult

from .deployment_configs import config_name
from .deployments import ORIGINALS, without_absent
from .exceptions import (
    ApplicationNameRequiredException,
    BatchLimitExceededException,
    DeploymentGroupAlreadyExistsException,
    DeploymentGroupNameRequiredException,
)

__all__ = [
    "MAX_BATCH_GROUPS",
    "alarm_configuration_api",
    "backend_batch_get_deployment_groups",
    "backend_update_deployment_group",
    "deployment_group_info",
    "response_batch_get_deployment_groups",
    "response_update_deployment_group",
]

MAX_BATCH_GROUPS = 100

# UpdateDeploymentGroup request member -> DeploymentGroup attribute.
_GROUP_FIELDS = (
    ("deploymentConfigName", "deployment_config_name"),
    ("ec2TagFilters", "ec2_tag_filters"),
    ("onPremisesInstanceTagFilters", "on_premises_instance_tag_filters"),
    ("autoScalingGroups", "auto_scaling_groups"),
    ("serviceRoleArn", "service_role_arn"),
    ("triggerConfigurations", "trigger_configurations"),
    ("alarmConfiguration", "alarm_configuration"),
    ("autoRollbackConfiguration", "auto_rollback_configuration"),
    ("outdatedInstancesStrategy", "outdated_instances_strategy"),
    ("deploymentStyle", "deployment_style"),
    ("blueGreenDeploymentConfiguration", "blue_green_deployment_configuration"),
    ("loadBalancerInfo", "load_balancer_info"),
    ("ec2TagSet", "ec2_tag_set"),
    ("ecsServices", "ecs_services"),
    ("onPremisesTagSet", "on_premises_tag_set"),
    ("terminationHookEnabled", "termination_hook_enabled"),
)
_NO_APPLICATION = "The minimum number of required application names was not specified."
_NO_GROUP = "The deployment group name was not specified."


def alarm_configuration_api(value: Any) -> dict[str, Any]:
    """Return ``alarmConfiguration`` in API shape from whatever moto stored (dict, object or None)."""
    if value is None:
        return {"enabled": False, "ignorePollAlarmFailure": False, "alarms": []}
    if isinstance(value, Mapping):
        enabled = value.get("enabled", False)
        ignore = value.get("ignorePollAlarmFailure", False)
        alarms = value.get("alarms") or []
    else:  # moto.codedeploy.models.AlarmConfiguration
        enabled = getattr(value, "enabled", False)
        ignore = getattr(value, "ignore_poll_alarm_failure", False)
        alarms = getattr(value, "alarms", None) or []
    return {
        "enabled": bool(enabled),
        "ignorePollAlarmFailure": bool(ignore),
        "alarms": [{"name": alarm["name"]} for alarm in alarms if alarm.get("name")],
    }


def deployment_group_info(deployment_group: Any) -> dict[str, Any]:
    """moto's ``DeploymentGroupInfo`` serialiser, answering as the service does.

    ``alarmConfiguration`` is always there (moto sends ``{}``). Absent members are left out rather
    than sent as ``{}``/``null`` (``targetRevision``, ``lastSuccessfulDeployment``,
    ``lastAttemptedDeployment``, ``ec2TagSet``, ...). ``deploymentConfigName`` is the platform's
    default when the group names none (moto says ``OneAtATime`` for every platform).
    """
    info = without_absent(ORIGINALS["_deployment_group_info"](deployment_group))
    info["alarmConfiguration"] = alarm_configuration_api(deployment_group.alarm_configuration)
    info["deploymentConfigName"] = config_name(
        deployment_group.deployment_config_name, deployment_group.application.compute_platform
    )
    return info


def backend_update_deployment_group(
    self: CodeDeployBackend,
    application_name: str | None,
    current_deployment_group_name: str | None,
    new_deployment_group_name: str | None,
    changes: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """Rename a group and set every attribute of ``changes`` whose value is not None.

    Returns
    -------
    list
        ``hooksNotCleanedUp``: always empty, Auto Scaling hooks do not exist for ECS groups.
    """
    if not application_name:
        raise ApplicationNameRequiredException(_NO_APPLICATION)
    if not current_deployment_group_name:
        raise DeploymentGroupNameRequiredException(_NO_GROUP)
    group = self.get_deployment_group(application_name, current_deployment_group_name)
    groups = self.deployment_groups[application_name]
    if new_deployment_group_name and new_deployment_group_name != current_deployment_group_name:
        if new_deployment_group_name in groups:
            raise DeploymentGroupAlreadyExistsException(f"Deployment group {new_deployment_group_name} already exists.")
        groups[new_deployment_group_name] = groups.pop(current_deployment_group_name)
        group.deployment_group_name = new_deployment_group_name
    for attribute, value in changes.items():
        if value is not None:
            setattr(group, attribute, value)
    return []


def backend_batch_get_deployment_groups(
    self: CodeDeployBackend, application_name: str | None, deployment_group_names: Sequence[str] | None
) -> tuple[list[Any], str | None]:
    """Return the groups found, in the order asked, and the service's message naming the missing ones."""
    if not application_name:
        raise ApplicationNameRequiredException(_NO_APPLICATION)
    self.get_application(application_name)
    if not deployment_group_names:
        raise DeploymentGroupNameRequiredException(_NO_GROUP)
    if len(deployment_group_names) > MAX_BATCH_GROUPS:
        raise BatchLimitExceededException(f"The maximum number of names is {MAX_BATCH_GROUPS}.")
    groups = self.deployment_groups.get(application_name, {})
    found = [groups[name] for name in deployment_group_names if name in groups]
    missing = [name for name in deployment_group_names if name not in groups]
    message = f"Deployment groups do not exist: {', '.join(missing)}" if missing else None
    return found, message


def response_update_deployment_group(self: CodeDeployResponse) -> ActionResult:
    """``CodeDeployResponse`` method for UpdateDeploymentGroup."""
    changes = {attribute: self._get_param(member) for member, attribute in _GROUP_FIELDS}
    hooks = backend_update_deployment_group(
        self.codedeploy_backend,
        application_name=self._get_param("applicationName"),
        current_deployment_group_name=self._get_param("currentDeploymentGroupName"),
        new_deployment_group_name=self._get_param("newDeploymentGroupName"),
        changes=changes,
    )
    return ActionResult({"hooksNotCleanedUp": hooks})


def response_batch_get_deployment_groups(self: CodeDeployResponse) -> ActionResult:
    """``CodeDeployResponse`` method for BatchGetDeploymentGroups."""
    groups, message = backend_batch_get_deployment_groups(
        self.codedeploy_backend,
        application_name=self._get_param("applicationName"),
        deployment_group_names=self._get_param("deploymentGroupNames"),
    )
    result: dict[str, Any] = {"deploymentGroupsInfo": [deployment_group_info(group) for group in groups]}
    if message:
        result["errorMessage"] = message
    return ActionResult(result)
