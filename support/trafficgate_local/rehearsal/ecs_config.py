"""ECS-native deployment strategies as ``trafficgate rehearse --platform ecs --config`` spells them.

``ecs:BLUE_GREEN``, ``ecs:LINEAR:<step percent>:<minutes between steps>`` and
``ecs:CANARY:<canary percent>:<minutes before the rest>``. A CodeDeploy ECS config name is taken
too and means the ECS strategy that shifts the same way (``ECSAllAtOnce`` → BLUE_GREEN,
``ECSLinear10PercentEvery1Minutes`` → LINEAR 10 % every minute, ``ECSCanary10Percent5Minutes``
→ CANARY 10 % for 5 minutes), so every scenario and config runs on both platforms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from trafficgate_local.rehearsal.traffic import steps_for

__all__ = ["ECS_CONFIG_FORMS", "EcsStrategy", "ecs_strategy"]

#: The accepted forms, as the error message and the CLI help show them.
ECS_CONFIG_FORMS = (
    "ecs:BLUE_GREEN, ecs:LINEAR:<step percent>:<minutes between steps>, "
    "ecs:CANARY:<canary percent>:<minutes before the rest>, or a CodeDeployDefault.ECS* config"
)
#: ECS's own ranges (linearConfiguration.stepPercent 3..100, canaryConfiguration.canaryPercent
#: 0.1..100, both bake times 0..1440 minutes), so the stand-in accepts what this accepts.
_PERCENT_RANGE = {"LINEAR": (3.0, 100.0), "CANARY": (0.1, 100.0)}
_MAX_MINUTES = 1440.0
_NUMBER = r"(\d+(?:\.\d+)?)"


@dataclass(frozen=True)
class EcsStrategy:
    """One ECS deployment strategy: BLUE_GREEN, or LINEAR/CANARY with a percent and minutes."""

    strategy: str
    percent: float = 100.0
    minutes: float = 0.0

    def steps(self) -> list[tuple[float, float]]:
        """The production traffic steps: (green percent after the step, seconds to wait after it)."""
        if self.strategy == "LINEAR":
            shares = []
            share = self.percent
            while share < 100.0:
                shares.append(round(share, 3))
                share += self.percent
            return [(p, self.minutes * 60.0) for p in shares] + [(100.0, 0.0)]
        if self.strategy == "CANARY" and self.percent < 100.0:
            return [(self.percent, self.minutes * 60.0), (100.0, 0.0)]
        return [(100.0, 0.0)]

    def deployment_configuration(self, *, bake_minutes: float, hooks: list[dict[str, Any]]) -> dict[str, Any]:
        """The service's ``deploymentConfiguration`` for this strategy."""
        config: dict[str, Any] = {
            "strategy": self.strategy,
            "bakeTimeInMinutes": _whole_minutes(bake_minutes),
            "lifecycleHooks": hooks,
        }
        if self.strategy == "LINEAR":
            config["linearConfiguration"] = {
                "stepPercent": self.percent,
                "stepBakeTimeInMinutes": _whole_minutes(self.minutes),
            }
        elif self.strategy == "CANARY":
            config["canaryConfiguration"] = {
                "canaryPercent": self.percent,
                "canaryBakeTimeInMinutes": _whole_minutes(self.minutes),
            }
        return config

    def __str__(self) -> str:
        if self.strategy == "BLUE_GREEN":
            return "ecs:BLUE_GREEN"
        return f"ecs:{self.strategy}:{self.percent:g}:{self.minutes:g}"


def _whole_minutes(minutes: float) -> int:
    # The API takes whole minutes; the rehearsal waits the exact value given (times the time scale).
    return round(minutes)


def ecs_strategy(config: str) -> EcsStrategy:
    """Parse ``--config`` for ``--platform ecs``.

    Raises
    ------
    ValueError
        Naming ``--config``, what was given and :data:`ECS_CONFIG_FORMS`.
    """
    text = config.strip()
    if not text.lower().startswith("ecs:"):
        try:
            steps = steps_for(text)
        except ValueError:
            raise ValueError(
                f"--config {config!r} is not an ECS deployment strategy; expected {ECS_CONFIG_FORMS}"
            ) from None
        if len(steps) == 1:
            return EcsStrategy("BLUE_GREEN")
        strategy = "CANARY" if len(steps) == 2 else "LINEAR"
        percent, minutes = float(steps[0].green_percent), steps[0].wait_s / 60.0
    else:
        body = text[4:].upper()
        if body == "BLUE_GREEN":
            return EcsStrategy("BLUE_GREEN")
        match = re.fullmatch(rf"(LINEAR|CANARY):{_NUMBER}:{_NUMBER}", body)
        if not match:
            raise ValueError(f"--config {config!r}: expected {ECS_CONFIG_FORMS}")
        strategy, percent, minutes = match.group(1), float(match.group(2)), float(match.group(3))
    low, high = _PERCENT_RANGE[strategy]
    if not low <= percent <= high:
        what = "step percent" if strategy == "LINEAR" else "canary percent"
        raise ValueError(f"--config {config!r}: the {what} must be between {low:g} and {high:g}, not {percent:g}")
    if minutes > _MAX_MINUTES:
        raise ValueError(f"--config {config!r}: the minutes must be between 0 and {_MAX_MINUTES:g}, not {minutes:g}")
    return EcsStrategy(strategy, percent, minutes)
