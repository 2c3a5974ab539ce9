"""The hook runner: event → plan of checks → verdict → exactly one report.

Whatever happens after a valid event arrived (a check that raises, a check stuck in I/O, a
bad configuration, a bug here), CodeDeploy gets exactly one answer before the Lambda
deadline. A missing answer hangs the deployment for an hour; a wrong "Succeeded" ships a
broken version. So every path below ends in one call to :meth:`Reporter.report`, and every
doubt ends in Failed.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import ClientError

from trafficgate.aws import AwsClients
from trafficgate.checks.base import Check, CheckError, CheckResult, Outcome, Policy
from trafficgate.config import Settings
from trafficgate.context import CheckContext
from trafficgate.exceptions import ConfigError, InvalidEventError, ReportError, TrafficgateError
from trafficgate.hooks import Hook
from trafficgate.observability import logger, record_verdict_metrics
from trafficgate.plan.exceptions import PlanError
from trafficgate.reporting import CodeDeployReporter, Reporter, ReportOutcome
from trafficgate.verdict import FAILED, CheckRecord, Verdict, decide

RUNNER_CHECK_ID = "trafficgate.runner"
CONFIG_CHECK_ID = "trafficgate.config"
PLAN_CHECK_ID = "trafficgate.plan"
DEADLINE_CHECK_ID = "trafficgate.deadline"

PlanFactory = Callable[[Hook, CheckContext], Sequence[Check]]


class LambdaContextLike(Protocol):
    """The part of the Lambda context the runner needs."""

    def get_remaining_time_in_millis(self) -> int: ...


@dataclass(frozen=True)
class HookEvent:
    """The two ids of a CodeDeploy lifecycle hook event, validated."""

    deployment_id: str
    execution_id: str

    @classmethod
    def parse(cls, event: Any) -> HookEvent:
        """Parse with Powertools' ``CodeDeployLifecycleHookEvent``; raise :class:`InvalidEventError`.

        Nothing is reported for an invalid event: without both ids there is nobody to report to.
        """
        from aws_lambda_powertools.utilities.data_classes import CodeDeployLifecycleHookEvent

        if not isinstance(event, Mapping):
            raise InvalidEventError(
                f"event must be a JSON object with DeploymentId and LifecycleEventHookExecutionId, "
                f"got {type(event).__name__}"
            )
        parsed = CodeDeployLifecycleHookEvent(dict(event))
        missing = [
            key
            for key in ("DeploymentId", "LifecycleEventHookExecutionId")
            if not isinstance(parsed.get(key), str) or not str(parsed.get(key)).strip()
        ]
        if missing:
            raise InvalidEventError(
                "not a CodeDeploy lifecycle hook event: missing or empty " + " and ".join(repr(k) for k in missing)
            )
        return cls(
            deployment_id=parsed.deployment_id.strip(),
            execution_id=parsed.lifecycle_event_hook_execution_id.strip(),
        )


class HookRunner:
    """Runs one hook's plan and reports its verdict.

    Parameters
    ----------
    settings
        Validated settings, or the :class:`ConfigError` raised while reading them: a bad
        configuration still gets a Failed report rather than an unanswered hook.
    clients
        boto3 client factory (shared by the checks and the default reporter).
    reporter
        Where the verdict goes; :class:`CodeDeployReporter` by default.
    plan_factory
        Builds the list of checks for a hook; :func:`trafficgate.plans.default_plan` by default.
    on_progress
        ``(check_id, done, total)`` callback for long checks (the local CLI draws progress).
    """

    def __init__(
        self,
        *,
        settings: Settings | ConfigError,
        clients: AwsClients | None = None,
        reporter: Reporter | None = None,
        plan_factory: PlanFactory | None = None,
        on_progress: Callable[[str, int, int], None] | None = None,
    ) -> None:
        self.settings = settings
        attempts = settings.report_max_attempts if isinstance(settings, Settings) else 5
        self.clients = clients or AwsClients(report_max_attempts=attempts)
        self._reporter = reporter
        self._plan_factory = plan_factory
        self._on_progress = on_progress

    @property
    def reporter(self) -> Reporter:
        if self._reporter is None:
            self._reporter = CodeDeployReporter(self.clients.reporting_client())
        return self._reporter

    def run(
        self,
        hook: Hook,
        event: Any,
        context: LambdaContextLike,
        *,
        plan: Sequence[Check] | PlanFactory | None = None,
    ) -> dict[str, Any]:
        """Judge one hook invocation and report the verdict exactly once.

        Parameters
        ----------
        hook
            The lifecycle event this function serves.
        event
            The raw Lambda event.
        context
            The Lambda context (its remaining time drives the deadline guard).
        plan
            A list of checks, or a factory building one; the configured plan when omitted.

        Returns
        -------
        dict
            The JSON-serialisable verdict summary, plus ``report``: what became of the report.

        Raises
        ------
        InvalidEventError
            The event lacks DeploymentId or LifecycleEventHookExecutionId (nothing reported).
        ReportError
            CodeDeploy could not be told even after retries (so Lambda retries the invocation).
        """
        ids = HookEvent.parse(event)
        started = time.monotonic()
        reporter = self.reporter  # created now, not in the last seconds before the deadline
        logger.append_keys(hook=hook.value, deployment_id=ids.deployment_id, execution_id=ids.execution_id)
        try:
            verdict = self._judge(hook, ids, context, plan, started)
        except Exception:
            logger.exception("runner error; reporting Failed")
            record = _error_record(RUNNER_CHECK_ID, "runner error (see logs)")
            status, reason = decide([record])
            verdict = _verdict(hook, ids, status, reason, (record,), started)
        return self._report(verdict, reporter)

    # -- evaluation ------------------------------------------------------------------------

    def _judge(
        self,
        hook: Hook,
        ids: HookEvent,
        context: LambdaContextLike,
        plan: Sequence[Check] | PlanFactory | None,
        started: float,
    ) -> Verdict:
        if isinstance(self.settings, ConfigError):
            record = _error_record(CONFIG_CHECK_ID, f"invalid configuration: {self.settings}")
            return _verdict(hook, ids, FAILED, f"{CONFIG_CHECK_ID}: {record.reason}", (record,), started)

        margin_s = self.settings.deadline_margin_ms / 1000.0
        remaining_s = max(0.0, context.get_remaining_time_in_millis() / 1000.0)
        deadline = started + remaining_s - margin_s
        ctx = CheckContext(
            hook=hook,
            deployment_id=ids.deployment_id,
            execution_id=ids.execution_id,
            settings=self.settings,
            aws=self.clients,
            deadline=deadline,
            on_progress=self._on_progress,
        )
        chosen = plan if plan is not None else (self._plan_factory or _default_plan_factory)
        records = _PlanRun(hook, ctx, chosen).wait(deadline)
        status, reason = decide(records)
        return _verdict(hook, ids, status, reason, tuple(records), started)

    # -- the one report --------------------------------------------------------------------

    def _report(self, verdict: Verdict, reporter: Reporter) -> dict[str, Any]:
        # Report first: nothing about presenting the verdict may stand between it and CodeDeploy.
        try:
            outcome = reporter.report(
                deployment_id=verdict.deployment_id,
                execution_id=verdict.execution_id,
                status="Succeeded" if verdict.succeeded else "Failed",
            )
        except ReportError:
            summary = _summary(verdict)
            summary["report"] = "error"
            logger.error("verdict could not be reported; raising so Lambda retries", extra={"verdict": summary})
            _safe_metrics(verdict)
            raise
        summary = _summary(verdict)
        summary["report"] = outcome.value
        log = logger.info if verdict.succeeded and outcome is ReportOutcome.REPORTED else logger.warning
        log(f"verdict {verdict.status}: {verdict.reason}", extra={"verdict": summary})
        _safe_metrics(verdict)
        return summary


class _PlanRun:
    """Runs a plan's checks one after another in a worker thread the runner can walk away from.

    The worker is a daemon thread: a check stuck in I/O cannot hold back the report, and
    cannot keep a local process alive once the verdict is out.
    """

    def __init__(self, hook: Hook, ctx: CheckContext, plan: Sequence[Check] | PlanFactory) -> None:
        self._hook = hook
        self._ctx = ctx
        self._plan = plan
        self._lock = threading.Lock()
        self._records: list[CheckRecord] = []
        self._current: tuple[str, float] | None = None
        self._pending: list[Check] = []
        self._abandoned = False
        self._done = threading.Event()

    def wait(self, deadline: float) -> list[CheckRecord]:
        thread = threading.Thread(target=self._work, name=f"trafficgate-{self._hook.value}", daemon=True)
        thread.start()
        finished = self._done.wait(timeout=max(0.0, deadline - time.monotonic()))
        with self._lock:
            self._abandoned = True
            records = list(self._records)
            if finished or self._done.is_set():  # the worker may finish between the wait and the lock
                return records
            # Report before the deadline: a missing callback hangs the deployment for an hour.
            now = time.monotonic()
            if self._current is not None:
                check_id, since = self._current
                records.append(
                    _error_record(
                        check_id,
                        "deadline: still running when the safety margin before the Lambda timeout was reached",
                        duration_ms=(now - since) * 1000.0,
                    )
                )
            elif not self._pending:
                records.append(_error_record(DEADLINE_CHECK_ID, "deadline: the plan was not ready in time"))
            for check in self._pending:
                records.append(
                    CheckRecord(
                        check_id=check.check_id,
                        enforce=check.enforce,
                        outcome=Outcome.INCONCLUSIVE,
                        reason="deadline: not run",
                    )
                )
        logger.error("deadline reached; reporting Failed without waiting for the remaining checks")
        return records

    def _work(self) -> None:
        try:
            self._run_plan()
        except Exception as exc:  # a bug outside any check: answer now rather than at the deadline
            logger.exception("runner error while running the plan")
            with self._lock:
                self._current = None
                self._records.append(_error_record(RUNNER_CHECK_ID, f"runner error: {type(exc).__name__}"))
        finally:
            self._done.set()

    def _run_plan(self) -> None:
        try:
            checks = list(self._plan(self._hook, self._ctx) if callable(self._plan) else self._plan)
            for check in checks:
                if not isinstance(check, Check):
                    raise PlanError(f"plan entry {check!r:.60} is not a Check")
        except Exception as exc:
            logger.exception("could not build the check plan")
            with self._lock:
                reason = str(exc) if isinstance(exc, PlanError) else f"could not build the plan: {_describe(exc)}"
                self._records.append(_error_record(PLAN_CHECK_ID, reason))
            return
        with self._lock:
            self._pending = list(checks)
        for check in checks:
            with self._lock:
                if self._abandoned:
                    return
                self._pending.remove(check)
                self._current = (check.check_id, time.monotonic())
            record = _run_check(check, self._ctx)
            with self._lock:
                if self._abandoned:
                    return
                self._current = None
                self._records.append(record)


def _run_check(check: Check, ctx: CheckContext) -> CheckRecord:
    """Run one check under its policy: retries, consecutive failures, the no-data rule.

    Each attempt is timed; an exception becomes an ``error`` result with a safe reason. Pauses
    between attempts never run past the hook's deadline.
    """
    policy = check.policy
    started = time.perf_counter()
    attempts = 0
    failures_in_a_row = 0
    retries_left = policy.retries
    while True:
        attempts += 1
        result = _apply_no_data(_attempt(check, ctx), policy)
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
        time.sleep(policy.pause_s)
    duration_ms = (time.perf_counter() - started) * 1000.0
    if attempts > 1:
        result = dataclasses.replace(result, reason=f"{result.reason} (after {attempts} attempts)")
    record = CheckRecord.from_result(
        check.check_id, check.enforce, result, duration_ms, policy=policy, attempts=attempts
    )
    logger.info(
        f"check {record.check_id}: {record.outcome.value}: {record.reason}",
        extra={"check": record.check_id, "outcome": record.outcome.value, "duration_ms": round(duration_ms, 1)},
    )
    return record


def _attempt(check: Check, ctx: CheckContext) -> CheckResult:
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
        return CheckResult.errored(_describe(exc))
    if not isinstance(result, CheckResult):
        return CheckResult.errored(f"check returned {type(result).__name__}, expected CheckResult")
    return result


def _apply_no_data(result: CheckResult, policy: Policy) -> CheckResult:
    """Judge a result that rests on too few samples by the policy's no-data rule."""
    if policy.min_samples is None or result.samples is None or result.samples >= policy.min_samples:
        return result
    note = f"{result.samples} samples < {policy.min_samples} minimum"
    if policy.no_data == "pass":
        return dataclasses.replace(
            result, outcome=Outcome.PASS, reason=f"{note}: not judged", warnings=(*result.warnings, note)
        )
    outcome = Outcome.FAIL if policy.no_data == "fail" else Outcome.INCONCLUSIVE
    return dataclasses.replace(result, outcome=outcome, reason=f"{note} ({result.reason})")


def _describe(exc: BaseException) -> str:
    """A reason that says what failed without echoing messages that may carry secrets."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"AWS error {error.get('Code', 'unknown')} calling {exc.operation_name}"
    if isinstance(exc, CheckError | TrafficgateError):
        return str(exc)
    return f"check raised {type(exc).__name__}"


def _error_record(check_id: str, reason: str, *, duration_ms: float = 0.0) -> CheckRecord:
    return CheckRecord(check_id=check_id, enforce=True, outcome=Outcome.ERROR, reason=reason, duration_ms=duration_ms)


def _verdict(
    hook: Hook, ids: HookEvent, status: str, reason: str, records: tuple[CheckRecord, ...], started: float
) -> Verdict:
    return Verdict(
        hook=hook.value,
        deployment_id=ids.deployment_id,
        execution_id=ids.execution_id,
        status=status,
        reason=reason,
        checks=records,
        duration_ms=(time.monotonic() - started) * 1000.0,
    )


def _summary(verdict: Verdict) -> dict[str, Any]:
    """The verdict summary; a check value that cannot be serialised must not break the hook."""
    try:
        return verdict.to_dict()
    except Exception:
        logger.exception("could not build the full verdict summary; returning the short form")
        return {
            "hook": verdict.hook,
            "deployment_id": verdict.deployment_id,
            "execution_id": verdict.execution_id,
            "status": verdict.status,
            "reason": verdict.reason,
            "duration_ms": round(verdict.duration_ms, 1),
            "checks": [{"id": c.check_id, "outcome": c.outcome.value, "reason": c.reason} for c in verdict.checks],
        }


def _safe_metrics(verdict: Verdict) -> None:
    try:
        record_verdict_metrics(verdict)
    except Exception:
        logger.exception("could not record verdict metrics")


def _default_plan_factory(hook: Hook, ctx: CheckContext) -> Sequence[Check]:
    from trafficgate.plans import plan_for

    return plan_for(hook, ctx)


# --- the container-wide runner ---------------------------------------------------------------

_runner: HookRunner | None = None


def load_settings() -> Settings | ConfigError:
    """Read the configuration at start-up; keep a ConfigError so each hook can report it."""
    try:
        return Settings.from_env()
    except ConfigError as exc:
        logger.error(f"invalid configuration: {exc}")
        return exc


def get_runner() -> HookRunner:
    """The runner of this container, created once (warm containers reuse clients and settings)."""
    global _runner
    if _runner is None:
        _runner = HookRunner(settings=load_settings())
    return _runner


def configure_runner(**options: Any) -> HookRunner:
    """Create the container-wide runner with extra options (e.g. ``on_progress`` for a local CLI)."""
    global _runner
    _runner = HookRunner(settings=load_settings(), **options)
    return _runner


def reset_runner() -> None:
    """Forget the container-wide runner and discovery cache (as a new container would)."""
    global _runner
    from trafficgate.discovery import clear_cache

    _runner = None
    clear_cache()


def run_hook(
    hook: Hook, event: Any, context: LambdaContextLike, *, plan: Sequence[Check] | PlanFactory | None = None
) -> dict[str, Any]:
    """Entry point for the handlers: run ``hook``'s plan and report once. See :meth:`HookRunner.run`."""
    return get_runner().run(hook, event, context, plan=plan)
