"""The five CodeDeploy ECS lifecycle hooks Trafficgate serves, and the ECS native stages mapped onto them.

Layer L0 (leaves): imports nothing of ours.
"""

from __future__ import annotations

import enum


class Hook(enum.StrEnum):
    """Lifecycle events in the order CodeDeploy runs them for ECS blue/green."""

    BEFORE_INSTALL = "BeforeInstall"
    AFTER_INSTALL = "AfterInstall"
    AFTER_ALLOW_TEST_TRAFFIC = "AfterAllowTestTraffic"
    BEFORE_ALLOW_TRAFFIC = "BeforeAllowTraffic"
    AFTER_ALLOW_TRAFFIC = "AfterAllowTraffic"

    @property
    def module_name(self) -> str:
        """The snake_case name used for ``functions/<module_name>/app.py``."""
        return _SNAKE[self]

    @classmethod
    def parse(cls, text: str) -> Hook:
        """Accept ``AfterAllowTestTraffic``, ``after_allow_test_traffic`` or ``after-allow-test-traffic``."""
        key = text.strip().replace("-", "_").replace("_", "").lower()
        for hook in cls:
            if hook.value.lower() == key:
                return hook
        names = ", ".join(h.value for h in cls)
        raise ValueError(f"unknown hook {text!r}; expected one of: {names}")


_SNAKE = {
    Hook.BEFORE_INSTALL: "before_install",
    Hook.AFTER_INSTALL: "after_install",
    Hook.AFTER_ALLOW_TEST_TRAFFIC: "after_allow_test_traffic",
    Hook.BEFORE_ALLOW_TRAFFIC: "before_allow_traffic",
    Hook.AFTER_ALLOW_TRAFFIC: "after_allow_traffic",
}


class EcsStage(enum.StrEnum):
    """Lifecycle stages of an Amazon ECS native blue/green deployment, in the order ECS runs them."""

    RECONCILE_SERVICE = "RECONCILE_SERVICE"
    PRE_SCALE_UP = "PRE_SCALE_UP"
    POST_SCALE_UP = "POST_SCALE_UP"
    TEST_TRAFFIC_SHIFT = "TEST_TRAFFIC_SHIFT"
    POST_TEST_TRAFFIC_SHIFT = "POST_TEST_TRAFFIC_SHIFT"
    PRE_PRODUCTION_TRAFFIC_SHIFT = "PRE_PRODUCTION_TRAFFIC_SHIFT"
    PRODUCTION_TRAFFIC_SHIFT = "PRODUCTION_TRAFFIC_SHIFT"
    POST_PRODUCTION_TRAFFIC_SHIFT = "POST_PRODUCTION_TRAFFIC_SHIFT"

    @property
    def hook(self) -> Hook | None:
        """The CodeDeploy hook whose plan this stage runs; None for a stage with no plan of its own."""
        return _STAGE_HOOKS.get(self)

    @property
    def moment(self) -> Hook:
        """The CodeDeploy hook whose moment in the deployment this stage shares, for the checks that
        ask where they run (``CheckContext.hook``); a stage's plan is chosen by the stage itself.

        The stage's own hook when it has one; RECONCILE_SERVICE comes before anything is installed,
        TEST_TRAFFIC_SHIFT before the test rule forwards to green (as :attr:`test_traffic_shifted`
        says), and PRODUCTION_TRAFFIC_SHIFT when production traffic reaches green.
        """
        return _STAGE_HOOKS.get(self) or _STAGE_MOMENTS[self]

    @property
    def module_name(self) -> str:
        """The function serving every stage: ``functions/ecs_lifecycle_hook/app.py``."""
        return "ecs_lifecycle_hook"

    @property
    def position(self) -> int:
        """The stage's place in ECS's order (a string enum compares alphabetically, not by this)."""
        return list(EcsStage).index(self)

    @property
    def test_traffic_shifted(self) -> bool:
        """Whether the test listener rule already forwards to green at this stage."""
        return self.position > EcsStage.TEST_TRAFFIC_SHIFT.position

    @classmethod
    def parse(cls, text: str) -> EcsStage:
        """Accept ``POST_TEST_TRAFFIC_SHIFT`` in any case, with ``-`` for ``_``."""
        key = text.strip().replace("-", "_").upper()
        try:
            return cls(key)
        except ValueError:
            names = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown ECS lifecycle stage {text!r}; expected one of: {names}") from None


_STAGE_HOOKS = {
    EcsStage.PRE_SCALE_UP: Hook.BEFORE_INSTALL,
    EcsStage.POST_SCALE_UP: Hook.AFTER_INSTALL,
    EcsStage.POST_TEST_TRAFFIC_SHIFT: Hook.AFTER_ALLOW_TEST_TRAFFIC,
    EcsStage.PRE_PRODUCTION_TRAFFIC_SHIFT: Hook.BEFORE_ALLOW_TRAFFIC,
    EcsStage.POST_PRODUCTION_TRAFFIC_SHIFT: Hook.AFTER_ALLOW_TRAFFIC,
}

#: The stages with no CodeDeploy hook of their own, and the hook whose moment each shares.
_STAGE_MOMENTS = {
    EcsStage.RECONCILE_SERVICE: Hook.BEFORE_INSTALL,
    EcsStage.TEST_TRAFFIC_SHIFT: Hook.AFTER_INSTALL,
    EcsStage.PRODUCTION_TRAFFIC_SHIFT: Hook.AFTER_ALLOW_TRAFFIC,
}
