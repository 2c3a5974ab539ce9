"""In-memory fakes for the runner's two edges, for unit tests of pure logic."""

from __future__ import annotations

from dataclasses import dataclass, field

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
