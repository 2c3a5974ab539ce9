"""Run one check under its policy: attempts, retries, failure streaks and the one no-data rule.

Layer L4 (orchestration): imports the leaves, the engines (logger, AWS error codes), the check
API and the verdict's record type. A check that raises becomes an ``error`` result with a typed
reason: its id and the exception's type (or a :class:`CheckError`'s own safe message), never the
message of an arbitrary exception, which may quote a secret.
"""

from __future__ import annotations

import dataclasses
import time
import traceback

from botocore.exceptions import ClientError

from trafficgate.aws import error_code
from trafficgate.checks.base import Check
from trafficgate.context import CheckContext
from trafficgate.exceptions import CheckError, TrafficgateError
from trafficgate.observability import logger
from trafficgate.outcome import CheckResult, Outcome
from trafficgate.verdict import CheckRecord


def run_check(check: Check, ctx: CheckContext) -> CheckRecord:
    """Run one check under its policy: retries, consecutive failures, the no-data rule.

    An ``error`` or ``inconclusive`` result is retried up to ``policy.retries`` times; a ``fail``
    is final after ``policy.consecutive_failures`` failing attempts in a row; a ``pass`` ends it.
    Attempts pause ``policy.pause_s`` and never start past the hook's deadline.
    """
    policy = check.policy
    started = time.perf_counter()
    attempts = 0
    failures_in_a_row = 0
    retries_left = policy.retries
    while True:
        attempts += 1
        result = attempt(check, ctx)
        if result.waiting:  # not a judgement: the check runs again on the hook's next call
            break
        result = apply_no_data(check, result, ctx)
        if result.outcome is Outcome.PASS:
            break
        if result.outcome is Outcome.FAIL:
            failures_in_a_row += 1
            if failures_in_a_row >= policy.consecutive_failures:
                break
        elif retries_left <= 0:
            break
        else:
            retries_left -= 1
        if ctx.remaining_s() <= policy.pause_s:
            result = dataclasses.replace(
                result, warnings=(*result.warnings, f"no time left for attempt {attempts + 1} before the deadline")
            )
            break
        logger.info(
            f"check {check.check_id}: attempt {attempts} {result.outcome.value}; trying again",
            extra={"check": check.check_id, "pause_s": policy.pause_s},
        )
        if not ctx.sleep(policy.pause_s):
            break
        ctx.forget_errors()  # the next attempt reads again what failed
    duration_ms = (time.perf_counter() - started) * 1000.0
    if attempts > 1:
        result = dataclasses.replace(result, reason=f"{result.reason} (after {attempts} attempts)")
    record = CheckRecord.from_result(check.check_id, result, duration_ms, policy=policy, attempts=attempts)
    logger.info(
        f"check {record.check_id}: {record.outcome.value}: {record.reason}",
        extra={"check": record.check_id, "outcome": record.outcome.value, "duration_ms": round(duration_ms, 1)},
    )
    return record


def attempt(check: Check, ctx: CheckContext) -> CheckResult:
    """One call of ``check.run``, with anything it raises turned into an ``error`` result."""
    try:
        result = check.run(ctx)
    except CheckError as exc:
        return CheckResult.errored(str(exc))
    except Exception as exc:  # turned into a typed reason; the stack (not the message) goes to the log
        # Exception messages can quote secrets (an invalid auth header value, say): log the frames only.
        stack = "".join(traceback.format_tb(exc.__traceback__))
        logger.error(
            f"check raised {type(exc).__name__}",
            extra={"check": check.check_id, "error_type": type(exc).__name__, "stack": stack},
        )
        return CheckResult.errored(describe_exception(exc, "check"))
    if not isinstance(result, CheckResult):
        return CheckResult.errored(f"check returned {type(result).__name__}, expected CheckResult")
    return result


def apply_no_data(check: Check, result: CheckResult, ctx: CheckContext) -> CheckResult:
    """The one no-data rule: a result resting on too few samples is judged by ``no_data``.

    ``min_samples`` and ``no_data`` come from the check's policy where the plan set them, else from
    the check itself (:meth:`Check.sample_defaults`: the CloudWatch checks take
    ``TRAFFICGATE_MIN_SAMPLES`` and ``TRAFFICGATE_METRICS_NO_DATA``).
    """
    if result.samples is None:
        return result
    default_min, default_rule = check.sample_defaults(ctx)
    minimum, rule = check.policy.sample_rule(min_samples=default_min, no_data=default_rule)
    if minimum is None or result.samples >= minimum:
        return result
    note = f"{result.samples} {check.sample_unit} < {minimum} minimum"
    if rule == "pass":
        return dataclasses.replace(
            result,
            outcome=Outcome.PASS,
            reason=f"{note}: not judged (seen: {result.reason})",
            warnings=(*result.warnings, note),
        )
    outcome = Outcome.FAIL if rule == "fail" else Outcome.INCONCLUSIVE
    return dataclasses.replace(result, outcome=outcome, reason=f"{note} (no_data={rule}): {result.reason}")


def describe_exception(exc: BaseException, actor: str) -> str:
    """A reason that says what failed without echoing messages that may carry secrets.

    Parameters
    ----------
    actor
        Who raised it, for the reason: ``"check"`` or ``"plan factory"``.
    """
    if isinstance(exc, ClientError):
        return f"AWS error {error_code(exc)} calling {exc.operation_name}"
    if isinstance(exc, TrafficgateError):
        return str(exc)
    return f"{actor} raised {type(exc).__name__}"
