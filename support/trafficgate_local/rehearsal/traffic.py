"""CodeDeploy ECS deployment configurations as traffic-shifting steps."""

from __future__ import annotations

import re
from dataclasses import dataclass

PREDEFINED = (
    "CodeDeployDefault.ECSAllAtOnce",
    "CodeDeployDefault.ECSCanary10Percent5Minutes",
    "CodeDeployDefault.ECSCanary10Percent15Minutes",
    "CodeDeployDefault.ECSLinear10PercentEvery1Minutes",
    "CodeDeployDefault.ECSLinear10PercentEvery3Minutes",
)


@dataclass(frozen=True)
class Step:
    """Shift production traffic so that green gets ``green_percent``, then wait ``wait_s``."""

    green_percent: int
    wait_s: float


def steps_for(config_name: str) -> list[Step]:
    """The traffic steps of a predefined or ``Canary<P>Percent<M>Minutes``/``Linear<P>PercentEvery<M>Minutes`` config.

    Raises
    ------
    ValueError
        For a name that is none of those, with the accepted forms.
    """
    name = config_name.removeprefix("CodeDeployDefault.").removeprefix("ECS")
    if name == "AllAtOnce":
        return [Step(100, 0.0)]
    canary = re.fullmatch(r"Canary(\d+)Percent(\d+)Minutes?", name)
    if canary:
        percent, minutes = int(canary.group(1)), int(canary.group(2))
        _check_percent(percent, config_name)
        return [Step(percent, minutes * 60.0), Step(100, 0.0)]
    linear = re.fullmatch(r"Linear(\d+)PercentEvery(\d+)Minutes?", name)
    if linear:
        percent, minutes = int(linear.group(1)), int(linear.group(2))
        _check_percent(percent, config_name)
        steps = [Step(p, minutes * 60.0) for p in range(percent, 100, percent)]
        return [*steps, Step(100, 0.0)]
    raise ValueError(
        f"unknown deployment config {config_name!r}; expected one of {', '.join(PREDEFINED)}, "
        "or CodeDeployDefault.ECSCanary<P>Percent<M>Minutes / ECSLinear<P>PercentEvery<M>Minutes"
    )


def _check_percent(percent: int, config_name: str) -> None:
    if not 0 < percent < 100:
        raise ValueError(f"{config_name}: the percentage must be between 1 and 99")
