"""The one report: retried within its wall-clock budget, each attempt cut to what is left.

A real CodeDeploy client whose answers are stubbed (botocore checks every request against the
service model); the clock is the real one, but nothing here depends on how fast the machine is:
the budget is either generous (the report must arrive) or already spent (it must not be tried).
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from trafficgate.exceptions import ReportError
from trafficgate.reporting import CodeDeployReporter, ReportOutcome

EXPECTED = {"deploymentId": "d-ABCDEFGH1", "lifecycleEventHookExecutionId": "exec-1", "status": "Failed"}


class OneClient:
    """Hands out the same stubbed client for every attempt, and records the timeouts asked for."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.asked: list[float] = []

    def reporting_client(self, read_timeout_s: float = 2.0) -> Any:
        self.asked.append(read_timeout_s)
        return self.client


def stubbed() -> tuple[Any, Stubber]:
    client = boto3.client("codedeploy", region_name="us-east-1")
    return client, Stubber(client)


def report(reporter: CodeDeployReporter) -> ReportOutcome:
    return reporter.report(deployment_id="d-ABCDEFGH1", execution_id="exec-1", status="Failed")


def test_throttling_is_retried_until_the_report_goes_through() -> None:
    client, stub = stubbed()
    for _ in range(4):
        stub.add_client_error("put_lifecycle_event_hook_execution_status", "ThrottlingException", http_status_code=400)
    answer = {"lifecycleEventHookExecutionId": "exec-1"}
    stub.add_response("put_lifecycle_event_hook_execution_status", answer, EXPECTED)
    clients = OneClient(client)
    with stub:
        assert report(CodeDeployReporter(clients, budget_s=30, max_attempts=5)) is ReportOutcome.REPORTED
        stub.assert_no_pending_responses()
    assert len(clients.asked) == 5
    assert all(asked <= 30 for asked in clients.asked)


@pytest.mark.parametrize(("code", "status"), [("InternalFailure", 500), ("ServiceUnavailable", 503)])
def test_server_errors_are_retried(code: str, status: int) -> None:
    client, stub = stubbed()
    stub.add_client_error("put_lifecycle_event_hook_execution_status", code, http_status_code=status)
    stub.add_response("put_lifecycle_event_hook_execution_status", {}, EXPECTED)
    with stub:
        assert report(CodeDeployReporter(OneClient(client), budget_s=30)) is ReportOutcome.REPORTED


def test_attempts_stop_at_max_attempts_naming_the_last_error() -> None:
    client, stub = stubbed()
    for _ in range(3):
        stub.add_client_error("put_lifecycle_event_hook_execution_status", "ThrottlingException", http_status_code=400)
    with stub, pytest.raises(ReportError, match=r"failed after 3 attempts: ThrottlingException$"):
        report(CodeDeployReporter(OneClient(client), budget_s=30, max_attempts=3))


def test_a_spent_budget_starts_no_attempt() -> None:
    client, stub = stubbed()  # no answer queued: an attempt would fail the stub
    clients = OneClient(client)
    with stub, pytest.raises(ReportError, match=r"the 0\.1 s report budget ran out after 0 attempt\(s\)"):
        report(CodeDeployReporter(clients, budget_s=0.1))
    assert clients.asked == []


def test_an_error_no_retry_can_cure_is_raised_at_once() -> None:
    client, stub = stubbed()
    stub.add_client_error("put_lifecycle_event_hook_execution_status", "AccessDeniedException", http_status_code=400)
    with stub, pytest.raises(ReportError, match=r"failed: AccessDeniedException$"):
        report(CodeDeployReporter(OneClient(client), budget_s=30))
    stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        ("LifecycleEventAlreadyCompletedException", ReportOutcome.ALREADY_COMPLETED),
        ("InvalidLifecycleEventHookExecutionIdException", ReportOutcome.REJECTED),
        ("DeploymentDoesNotExistException", ReportOutcome.REJECTED),
    ],
)
def test_duplicates_and_unknown_ids_are_answered_without_retrying(code: str, outcome: ReportOutcome) -> None:
    client, stub = stubbed()
    stub.add_client_error("put_lifecycle_event_hook_execution_status", code, http_status_code=400)
    with stub:
        assert report(CodeDeployReporter(OneClient(client), budget_s=30)) is outcome
