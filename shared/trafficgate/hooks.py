"""The five CodeDeploy ECS lifecycle hooks Trafficgate serves.

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
