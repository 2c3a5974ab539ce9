"""What a check receives: the deployment it judges, the settings, AWS clients and a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trafficgate.aws import AwsClients
    from trafficgate.config import Settings
    from trafficgate.discovery import Deployment, ListenerRole
    from trafficgate.hooks import Hook
    from trafficgate.probe import TargetSession


@dataclass(kw_only=True)
class CheckContext:
    """The context shared by the checks of one hook invocation.

    Parameters
    ----------
    hook, deployment_id, execution_id
        Which lifecycle event of which deployment is being judged.
    settings
        Validated operator configuration.
    aws
        Lazily created boto3 clients.
    deadline
        ``time.monotonic()`` value by which every check must have returned; checks that wait
        (probes, polls, bakes) stop there.
    cache
        Results shared by the checks of this invocation (e.g. the task definition they all judge);
        one invocation, one cache: nothing here outlives the hook.
    """

    hook: Hook
    deployment_id: str
    execution_id: str
    settings: Settings
    aws: AwsClients
    deadline: float
    on_progress: Callable[[str, int, int], None] | None = None
    cache: dict[str, Any] = field(default_factory=dict, repr=False)
    _deployment: Deployment | None = field(default=None, repr=False)

    def deployment(self) -> Deployment:
        """The deployment discovered from its id (topology cached per container, task sets fresh)."""
        if self._deployment is None:
            from trafficgate.discovery import discover

            self._deployment = discover(self.deployment_id, self.aws)
        return self._deployment

    def base_url(self, listener: ListenerRole) -> str | None:
        """Base URL of the test or production listener: the operator's override, else discovered.

        None when the deployment group has no such listener.
        """
        override = self.settings.test_url if listener == "test" else self.settings.prod_url
        if override:
            return override
        found = self.deployment().listener(listener)
        return None if found is None else found.base_url

    def http(self, listener: ListenerRole) -> TargetSession:
        """A ready HTTP session on a listener, for custom checks: ``ctx.http("test").get("/orders")``.

        It carries the operator's TLS, Host and timeout settings and the auth secret's headers.

        Raises
        ------
        CheckError
            When the deployment group has no such listener or no probe settings exist.
        """
        import dataclasses

        from trafficgate.checks.base import CheckError
        from trafficgate.checks.http import auth_headers
        from trafficgate.probe import TargetSession

        base = self.base_url(listener)
        if base is None:
            raise CheckError(f"deployment group has no {listener} listener")
        if self.settings.probe is None:
            raise CheckError("no probe settings")
        spec = dataclasses.replace(self.settings.probe, headers={**self.settings.probe.headers, **auth_headers(self)})
        return TargetSession(spec, base)

    def progress(self, check_id: str) -> Callable[[int, int], None] | None:
        """A ``(done, total)`` callback for long-running checks, when someone is watching."""
        callback = self.on_progress
        if callback is None:
            return None
        return lambda done, total: callback(check_id, done, total)

    def remaining_s(self) -> float:
        """Seconds left before :attr:`deadline` (never negative)."""
        return max(0.0, self.deadline - time.monotonic())
