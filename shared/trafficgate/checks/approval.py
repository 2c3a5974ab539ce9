"""A person's go or no-go: ``approval.gate`` waits for an SSM parameter to approve or reject.

Layer L2 (a check). It is in no built-in plan: a plan names it where a person must decide, most
often at BeforeAllowTraffic (ECS: PRE_PRODUCTION_TRAFFIC_SHIFT), before production traffic moves.

The parameter, ``<prefix>/<application>/approval`` for CodeDeploy and
``<prefix>/<cluster>/<service>/approval`` for ECS (the prefix is ``TRAFFICGATE_PLAN_SSM_PREFIX``,
``/trafficgate`` by default), or the entry's ``parameter``, holds one of:

- ``approve`` or ``reject``: decides the deployment that is waiting, provided it was written
  after the gate began to wait (a word left from an earlier deployment decides nothing);
- ``approve <deployment id>`` or ``reject <deployment id>``, or the bare deployment id (approve):
  decides that deployment only, whenever it was written. The id is the CodeDeploy deployment id
  (``d-...``), or the ECS service deployment's ARN or its last part.

Until then the check waits without holding an invocation: ECS calls the hook again every
``poll_s``; a CodeDeploy hook polls within its invocation and then invokes itself. At
``timeout_s`` (CodeDeploy: within its one-hour hook limit) ``on_timeout`` decides: ``fail``
(default) rolls back, ``pass`` goes on and says so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from trafficgate import constants as env
from trafficgate.aws import AWS_ERRORS, error_code
from trafficgate.checks.base import Check, CheckError, CheckResult
from trafficgate.discovery import deployment_info
from trafficgate.ranges import Range, bounded

if TYPE_CHECKING:
    from trafficgate.context import CheckContext

APPROVAL_CHECK_ID = "approval.gate"
#: The words an approval parameter may hold (case does not matter).
APPROVE_WORDS = frozenset({"approve", "approved"})
REJECT_WORDS = frozenset({"reject", "rejected"})
_DEFAULT_PREFIX = "/trafficgate"
#: At most this much of a parameter's value is shown in a reason.
_SHOWN = 80

Decision = Literal["approve", "reject"]


@dataclass(kw_only=True)
class ApprovalGate(Check):
    """Wait for a person to approve or reject the deployment in an SSM parameter.

    Parameters
    ----------
    parameter
        The SSM parameter to read; ``<prefix>/<application>/approval`` (CodeDeploy) or
        ``<prefix>/<cluster>/<service>/approval`` (ECS) by default.
    timeout_s
        How long to wait from the gate's first look.
    on_timeout
        ``fail`` (default): no decision in time rolls back; ``pass``: goes on, with a warning.
    poll_s
        How often to look again.
    """

    check_id: str = APPROVAL_CHECK_ID
    parameter: str | None = None
    timeout_s: float = bounded(3600.0, Range(1, 86_400))
    on_timeout: Literal["fail", "pass"] = "fail"
    poll_s: float = bounded(30.0, Range(1, 900))

    def expected_s(self, ctx: CheckContext) -> float:
        return 2.0

    def run(self, ctx: CheckContext) -> CheckResult:
        name = self.parameter or self.parameter_name(ctx)
        resumed = ctx.resumed_time("since")
        since = time.time() if resumed is None else resumed
        while True:
            value, written = read_parameter(ctx, name)
            decision, why = interpret(value, written, since=since, deployment_id=ctx.deployment_id)
            now = time.time()
            waited = now - since
            details: dict[str, Any] = {"parameter": name, "waited_s": round(waited, 1), "timeout_s": self.timeout_s}
            if decision == "approve":
                return CheckResult.passed(f"approved after {waited:.0f} s: {name} {why}", details=details)
            if decision == "reject":
                return CheckResult.failed(f"rejected after {waited:.0f} s: {name} {why}", details=details)
            if waited >= self.timeout_s:
                return self._timed_out(name, why, waited, details)
            next_look = now + min(self.poll_s, since + self.timeout_s - now)
            # Poll here while this invocation has the time (the checks after the gate need theirs);
            reserve = ctx.time_after_s + 1.0
            if next_look - now <= ctx.remaining_s() - reserve and ctx.platform == "codedeploy":
                if not ctx.sleep(next_look - now):
                    raise CheckError("called off: the hook reported without this check")
                continue
            # else wait across calls, while the hook may; at the latest moment it may, time out.
            if ctx.can_wait_until(next_look):
                return CheckResult.wait(
                    f"waiting for approval: {name} {why}; {waited:.0f} s of {self.timeout_s:.0f} s",
                    after_s=next_look - now,
                    state={"since": round(since, 3)},
                    details=details,
                )
            return self._timed_out(name, why, waited, details, cut=True)

    def _timed_out(
        self, name: str, why: str, waited: float, details: dict[str, Any], *, cut: bool = False
    ) -> CheckResult:
        limit = (
            f"no decision after {waited:.0f} s, and the hook cannot wait longer (its invocation's time, "
            f"CodeDeploy's hour, {env.MAX_WAIT_SECONDS} or {env.CONTINUATION}=off)"
            if cut
            else f"no decision within {self.timeout_s:.0f} s"
        )
        reason = f"{limit}: {name} {why}; expected approve or reject (on_timeout: {self.on_timeout})"
        if self.on_timeout == "pass":
            return CheckResult.passed(reason, details=details, warnings=(f"{APPROVAL_CHECK_ID}: {limit}; passed",))
        return CheckResult.failed(reason, details=details)

    @staticmethod
    def parameter_name(ctx: CheckContext) -> str:
        """``<prefix>/<application>/approval`` (CodeDeploy) or ``<prefix>/<cluster>/<service>/approval`` (ECS)."""
        prefix = ctx.settings.plan_ssm_prefix or _DEFAULT_PREFIX
        if ctx.platform == "ecs":
            cluster, service = ctx.deployment_id.split(":service-deployment/", 1)[-1].split("/")[:2]
            return f"{prefix}/{cluster}/{service}/approval"
        application = deployment_info(ctx.deployment_id, ctx.aws)["applicationName"]
        return f"{prefix}/{application}/approval"


def read_parameter(ctx: CheckContext, name: str) -> tuple[str | None, datetime | None]:
    """The parameter's value and when it was last written; ``(None, None)`` when it does not exist.

    Raises
    ------
    CheckError
        It could not be read (access denied, throttled beyond retries): that is no decision.
    """
    try:
        answer = ctx.aws.client("ssm").get_parameter(Name=name)
    except AWS_ERRORS as exc:
        code = error_code(exc)
        if code == "ParameterNotFound":
            return None, None
        raise CheckError(f"approval parameter {name}: could not read ({code})") from None
    parameter = answer.get("Parameter") or {}
    written = parameter.get("LastModifiedDate")
    if isinstance(written, datetime) and written.tzinfo is None:
        written = written.replace(tzinfo=UTC)
    return str(parameter.get("Value", "")), written if isinstance(written, datetime) else None


def interpret(
    value: str | None, written: datetime | None, *, since: float, deployment_id: str
) -> tuple[Decision | None, str]:
    """What the parameter decides for ``deployment_id``, and how to say what it holds.

    A bare word counts only when written after ``since`` (epoch seconds); a value naming the
    deployment counts whenever it was written; anything else decides nothing.
    """
    if value is None:
        return None, "does not exist yet"
    shown = repr(value.strip()[:_SHOWN])
    words = value.strip().split()
    if not words:
        return None, "is empty"
    ids = {deployment_id, deployment_id.rsplit("/", 1)[-1]}
    head = words[0].lower()
    if len(words) == 1 and words[0] in ids:
        return "approve", f"names this deployment ({shown})"
    if len(words) == 2 and head in APPROVE_WORDS | REJECT_WORDS:
        if words[1] not in ids:
            return None, f"holds {shown}, which names another deployment"
        return ("approve" if head in APPROVE_WORDS else "reject"), f"holds {shown}"
    if len(words) == 1 and head in APPROVE_WORDS | REJECT_WORDS:
        if written is None or written.timestamp() < since:
            at = "at an unknown time" if written is None else f"at {written:%Y-%m-%d %H:%M:%S} UTC"
            return None, f"holds {shown}, written {at}, before this gate began to wait: write it again"
        return ("approve" if head in APPROVE_WORDS else "reject"), f"holds {shown}"
    return None, f"holds {shown}, which is not approve, reject or this deployment's id"
