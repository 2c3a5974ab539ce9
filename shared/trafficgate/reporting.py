"""The one edge that matters most: telling CodeDeploy the verdict, exactly once.

The :class:`Reporter` port has one method. :class:`CodeDeployReporter` is the real
implementation, retrying within a wall-clock budget; unit tests use an in-memory fake that
records calls.

Layer L3 (composition): imports the leaves and the engines (AWS error codes, the logger).
"""

from __future__ import annotations

import enum
import json
import random
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from trafficgate.aws import error_code
from trafficgate.exceptions import ReportError
from trafficgate.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_codedeploy import CodeDeployClient

Status = Literal["Succeeded", "Failed"]


class ReportOutcome(enum.StrEnum):
    """What became of the report."""

    #: CodeDeploy accepted the status.
    REPORTED = "reported"
    #: A status was already recorded for this execution (a duplicate invocation).
    ALREADY_COMPLETED = "already-completed"
    #: CodeDeploy does not know the deployment or execution; nothing can be recorded.
    REJECTED = "rejected"
    #: A dry run: the verdict was computed and deliberately not sent.
    DRY_RUN = "dry-run"


class Reporter(Protocol):
    """Sends the verdict for one lifecycle hook execution."""

    def report(self, *, deployment_id: str, execution_id: str, status: Status) -> ReportOutcome: ...


# Errors that no retry can cure: the ids do not name a live hook execution.
_REJECTED_CODES = frozenset(
    {
        "DeploymentDoesNotExistException",
        "DeploymentIdRequiredException",
        "InvalidDeploymentIdException",
        "InvalidLifecycleEventHookExecutionIdException",
        "UnsupportedActionForDeploymentTypeException",
    }
)


class DryRunReporter:
    """Sends nothing: ``trafficgate check`` computes the verdict a hook would report."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Status]] = []

    def report(self, *, deployment_id: str, execution_id: str, status: Status) -> ReportOutcome:
        self.calls.append((deployment_id, execution_id, status))
        return ReportOutcome.DRY_RUN


class CodeDeployReporter:
    """Reports through ``PutLifecycleEventHookExecutionStatus``, within a wall-clock budget.

    The report is made in the deadline margin, so it has a budget the margin is derived from
    (``TRAFFICGATE_REPORT_BUDGET_MS``): throttling, 5xx and connection errors are retried with
    exponential backoff and full jitter, each attempt's socket timeouts cut to what is left, and
    attempts stop at ``max_attempts`` or at the budget, whichever comes first. A duplicate is logged
    and accepted; unknown ids are logged as errors and returned promptly; anything else raises
    :class:`ReportError` so that Lambda retries the invocation.

    Parameters
    ----------
    clients
        Gives one client per attempt, with socket timeouts no longer than asked for.
    budget_s
        Wall-clock budget of all attempts together.
    max_attempts
        Attempts, the first one included.
    """

    def __init__(self, clients: ReportClients, *, budget_s: float = 2.5, max_attempts: int = 5) -> None:
        self._clients = clients
        self._budget_s = budget_s
        self._max_attempts = max_attempts

    def report(self, *, deployment_id: str, execution_id: str, status: Status) -> ReportOutcome:
        deadline = time.monotonic() + self._budget_s
        attempt = 0
        last = "no attempt"
        while True:
            attempt += 1
            left = deadline - time.monotonic()
            if left < MIN_ATTEMPT_S:
                raise ReportError(
                    f"PutLifecycleEventHookExecutionStatus: the {self._budget_s:g} s report budget ran out "
                    f"after {attempt - 1} attempt(s); last: {last}"
                )
            try:
                self._clients.reporting_client(left).put_lifecycle_event_hook_execution_status(
                    deploymentId=deployment_id, lifecycleEventHookExecutionId=execution_id, status=status
                )
            except ClientError as exc:
                code = error_code(exc)
                if code == "LifecycleEventAlreadyCompletedException":
                    logger.warning(
                        "lifecycle event already completed; duplicate invocation, not reporting again",
                        extra={"status": status, "error_code": code},
                    )
                    return ReportOutcome.ALREADY_COMPLETED
                if code in _REJECTED_CODES:
                    logger.error(
                        "CodeDeploy rejected the report: the deployment or hook execution id is not valid",
                        extra={"status": status, "error_code": code},
                    )
                    return ReportOutcome.REJECTED
                if not _retryable(exc):
                    raise ReportError(f"PutLifecycleEventHookExecutionStatus failed: {code}") from exc
                last = code
            except BotoCoreError as exc:  # connection refused, reset, timed out: worth another try
                last = error_code(exc)
            else:
                logger.info("verdict reported to CodeDeploy", extra={"status": status, "attempts": attempt})
                return ReportOutcome.REPORTED
            if attempt >= self._max_attempts:
                raise ReportError(f"PutLifecycleEventHookExecutionStatus failed after {attempt} attempts: {last}")
            pause = random.uniform(0, min(MAX_BACKOFF_S, BASE_BACKOFF_S * 2 ** (attempt - 1)))
            time.sleep(max(0.0, min(pause, deadline - time.monotonic() - MIN_ATTEMPT_S)))
            logger.warning(
                f"report attempt {attempt} failed ({last}); trying again",
                extra={"status": status, "error_code": last},
            )


class ReportClients(Protocol):
    """Where the reporter gets a client for each attempt (:class:`trafficgate.aws.AwsClients`)."""

    def reporting_client(self, read_timeout_s: float = ...) -> CodeDeployClient: ...


#: An attempt with less time than this left is not started (it could not finish).
MIN_ATTEMPT_S = 0.2
BASE_BACKOFF_S = 0.05
MAX_BACKOFF_S = 1.0
# What botocore's standard retry mode treats as transient, besides any 5xx.
_THROTTLING = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "InternalFailure",
        "InternalError",
        "ServiceUnavailable",
        "TransactionInProgressException",
    }
)


def _retryable(exc: ClientError) -> bool:
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return error_code(exc) in _THROTTLING or int(status or 0) >= 500


class Continuer(Protocol):
    """Starts the next link of a CodeDeploy hook that continues past one invocation.

    See :mod:`trafficgate.continuation`. Raises :class:`ReportError` when the next link could not
    be started: the link that tried then reports Failed itself, so the hook still gets one answer.
    """

    def continue_hook(self, *, function_arn: str, event: Mapping[str, Any]) -> None: ...


class LambdaContinuer:
    """Invokes the function itself, asynchronously, with the next link's event (``lambda:InvokeFunction``).

    An asynchronous invocation is queued by Lambda, which retries it twice if the function fails,
    so a link that crashes is run again from the same progress (and answers the same).
    """

    def __init__(self, clients: Any) -> None:
        self._clients = clients

    def continue_hook(self, *, function_arn: str, event: Mapping[str, Any]) -> None:
        payload = json.dumps(event, separators=(",", ":")).encode()
        try:
            answer = self._clients.client("lambda").invoke(
                FunctionName=function_arn, InvocationType="Event", Payload=payload
            )
        except (ClientError, BotoCoreError) as exc:
            raise ReportError(f"lambda Invoke of {function_arn} (the next link) failed: {error_code(exc)}") from exc
        status = answer.get("StatusCode")
        if status != 202:  # what an accepted asynchronous invocation answers
            raise ReportError(f"lambda Invoke of {function_arn} (the next link) answered status {status}, not 202")
