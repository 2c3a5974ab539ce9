"""In-memory fakes for the runner's edges (report, next link, Lambda context), for unit tests of pure logic."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from trafficgate.reporting import ReportOutcome, Status


@dataclass
class FakeReporter:
    """Records every report (the runner must make exactly one); can answer or fail as told."""

    outcome: ReportOutcome = ReportOutcome.REPORTED
    error: Exception | None = None
    calls: list[tuple[str, str, str]] = field(default_factory=list)

    def report(self, *, deployment_id: str, execution_id: str, status: Status) -> ReportOutcome:
        self.calls.append((deployment_id, execution_id, status))
        if self.error is not None:
            raise self.error
        return self.outcome


@dataclass
class FixedContext:
    """A Lambda context whose remaining time stands still."""

    remaining_ms: int = 60_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@dataclass
class FakeContinuer:
    """Records every next link a CodeDeploy hook starts; can fail as told."""

    error: Exception | None = None
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def continue_hook(self, *, function_arn: str, event: Mapping[str, Any]) -> None:
        self.calls.append((function_arn, json.loads(json.dumps(event))))  # as Lambda would: JSON
        if self.error is not None:
            raise self.error


@dataclass
class FunctionContext(FixedContext):
    """A fixed-clock Lambda context that also names its function (a CodeDeploy hook can continue)."""

    invoked_function_arn: str = (
        "arn:aws:lambda:us-east-1:123456789012:function:CodeDeployHook_trafficgate-AfterAllowTraffic"
    )
