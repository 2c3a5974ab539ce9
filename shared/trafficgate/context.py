"""What a check receives: the deployment it judges, the settings, AWS clients and a deadline."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trafficgate.aws import AwsClients
    from trafficgate.config import Settings
    from trafficgate.hooks import Hook


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
    """

    hook: Hook
    deployment_id: str
    execution_id: str
    settings: Settings
    aws: AwsClients
    deadline: float
    cache: dict[str, Any] = field(default_factory=dict)

    def remaining_s(self) -> float:
        """Seconds left before :attr:`deadline` (never negative)."""
        return max(0.0, self.deadline - time.monotonic())
