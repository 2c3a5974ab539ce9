"""The one edge that matters most: telling CodeDeploy the verdict, exactly once.

The :class:`Reporter` port has one method. :class:`CodeDeployReporter` is the real
implementation; unit tests use an in-memory fake that records calls.

Layer L3 (composition): imports the leaves and the engines (AWS error codes, the logger).
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Literal, Protocol

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
    """Reports through ``PutLifecycleEventHookExecutionStatus``.

    Throttling and 5xx are retried by the client's botocore retry configuration (standard
    mode), not here. A duplicate is logged and accepted; unknown ids are logged as errors and
    returned promptly; anything else raises :class:`ReportError` so Lambda retries the
    invocation.
    """

    def __init__(self, client: CodeDeployClient) -> None:
        self._client = client

    def report(self, *, deployment_id: str, execution_id: str, status: Status) -> ReportOutcome:
        try:
            self._client.put_lifecycle_event_hook_execution_status(
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
                    extra={"status": status, "error_code": code, "error_message": str(exc)},
                )
                return ReportOutcome.REJECTED
            raise ReportError(f"PutLifecycleEventHookExecutionStatus failed after retries: {code}") from exc
        except BotoCoreError as exc:
            raise ReportError(f"PutLifecycleEventHookExecutionStatus failed after retries: {error_code(exc)}") from exc
        logger.info("verdict reported to CodeDeploy", extra={"status": status})
        return ReportOutcome.REPORTED
