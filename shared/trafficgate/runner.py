"""The hook runner: event → plan of checks → verdict → exactly one report.

Layer L4 (orchestration, the top): imports everything below. Whatever happens after a valid
event arrived (a check that raises, a check stuck in I/O, a bad configuration, a bug here),
CodeDeploy gets exactly one answer before the Lambda deadline. A missing answer hangs the
deployment for an hour; a wrong "Succeeded" ships a broken version. So every path below ends in
one call to :meth:`Reporter.report`, and every doubt ends in Failed.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from trafficgate import constants as env
from trafficgate.aws import AwsClients
from trafficgate.checks.base import Check
from trafficgate.config import DEFAULT_REPORT_BUDGET_MS, DEFAULT_REPORT_MAX_ATTEMPTS, ObservabilitySettings, Settings
from trafficgate.context import CheckContext
from trafficgate.continuation import (
    EVENT_KEY,
    HOOK_DETAILS_KEY,
    MAX_CALLS,
    Progress,
    callback_delay,
    codedeploy_wait_until,
    without_resume,
)
from trafficgate.event import EcsHookEvent, HookEvent
from trafficgate.exceptions import ConfigError, InvalidEventError, ReportError
from trafficgate.hooks import EcsStage, Hook
from trafficgate.observability import SETTINGS as IMPORT_TIME_OBSERVABILITY
from trafficgate.observability import begin_invocation, end_invocation, logger
from trafficgate.reporting import CodeDeployReporter, Continuer, LambdaContinuer, Reporter, ReportOutcome
from trafficgate.seal import ProgressSeal, SealError, UntrustedProgress
from trafficgate.telemetry import emit_metrics, emit_report_failed, publish_verdict, summarize
from trafficgate.verdict import (
    CONFIG_CHECK_ID,
    FAILED,
    RUNNER_CHECK_ID,
    CheckRecord,
    Verdict,
    decide,
)
from trafficgate.watchdog import PlanFactory, PlanRun

#: Publishing the verdict to SNS is skipped with less time than this left (it is a courtesy copy).
PUBLISH_MIN_REMAINING_MS = 1500

#: A CodeDeploy link waits in-process only when this much of the invocation is left after the wait
#: (at most half of what is left), for the waiting check's next run and the checks after it; it
#: waits what it can hold, and the next link waits the rest.
RERUN_RESERVE_S = 30.0
#: Clock difference tolerated between two calls of a hook (different hosts).
CLOCK_SKEW_S = 300.0
#: What the waiting check itself is expected to need when it runs again (a read or two).
READ_AGAIN_S = 10.0
#: The ``hookStatus`` of an ECS hook that continues.
IN_PROGRESS = "InProgress"
#: The gate's own id for a hook that could not continue past one invocation.
CONTINUATION_CHECK_ID = "trafficgate.continuation"

#: Numbers the invocations of this container: a duplicate invocation (the same execution id, sent
#: again by CodeDeploy) is a different invocation for its threads' logs.
_invocations = itertools.count(1)


class LambdaContextLike(Protocol):
    """The part of the Lambda context the runner needs."""

    def get_remaining_time_in_millis(self) -> int: ...


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
        Builds the list of checks for a hook; :func:`trafficgate.plan.select.plan_for` by default.
    on_progress
        ``(check_id, done, total)`` callback for long checks (the local CLI draws progress).
    verify_wiring
        Fail when CodeDeploy is running another lifecycle event than the hook (a function listed
        under the wrong appspec key). Off for a dry run, which asks "what if this hook ran now".
    continuer
        Starts the next link of a CodeDeploy hook that continues (:mod:`trafficgate.continuation`);
        :class:`LambdaContinuer` (the function invokes itself) by default.
    """

    def __init__(
        self,
        *,
        settings: Settings | ConfigError,
        clients: AwsClients | None = None,
        reporter: Reporter | None = None,
        plan_factory: PlanFactory | None = None,
        on_progress: Callable[[str, int, int], None] | None = None,
        verify_wiring: bool = True,
        continuer: Continuer | None = None,
    ) -> None:
        self.settings = settings
        self._verify_wiring = verify_wiring
        self.clients = clients or AwsClients()
        self._reporter = reporter
        self._plan_factory = plan_factory
        self._on_progress = on_progress
        self._continuer = continuer
        # Seals the progress a continuing hook carries to its next call (trafficgate.seal).
        self.seal = ProgressSeal(self.clients, settings.progress_key_arn if isinstance(settings, Settings) else None)

    @property
    def reporter(self) -> Reporter:
        if self._reporter is None:
            valid = self.settings if isinstance(self.settings, Settings) else None
            self._reporter = CodeDeployReporter(
                self.clients,
                budget_s=(valid.report_budget_ms if valid else DEFAULT_REPORT_BUDGET_MS) / 1000.0,
                max_attempts=valid.report_max_attempts if valid else DEFAULT_REPORT_MAX_ATTEMPTS,
            )
            self.clients.reporting_client()  # built now, not in the last seconds before the deadline
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
        link_s = context.get_remaining_time_in_millis() / 1000.0  # this invocation's whole time
        reporter = self.reporter  # created now, not in the last seconds before the deadline
        # This invocation's threads log under its ids; threads left behind by an earlier one go quiet.
        owner = begin_invocation(f"{ids.execution_id}#{next(_invocations)}")
        try:
            logger.append_keys(
                service=self._observability.service_name,
                hook=hook.value,
                deployment_id=ids.deployment_id,
                execution_id=ids.execution_id,
            )
            try:
                judged = self._judge_codedeploy(hook, ids, event, context, plan, started, link_s)
            except Exception:
                logger.exception("runner error; reporting Failed")
                record = CheckRecord.errored(RUNNER_CHECK_ID, "runner error (see logs)")
                status, reason = decide([record])
                judged = _verdict(hook.value, ids, status, reason, (record,), started)
            if not isinstance(judged, Verdict):
                return judged  # the next link goes on and reports; this one must not
            return self._report(judged, reporter, context)
        finally:
            end_invocation(owner)

    def _judge_codedeploy(
        self,
        hook: Hook,
        ids: HookEvent,
        event: Any,
        context: LambdaContextLike,
        plan: Sequence[Check] | PlanFactory | None,
        started: float,
        link_s: float,
    ) -> Verdict | dict[str, Any]:
        """The verdict to report, or the summary of a link that handed over to the next one."""
        try:
            progress = _progress(
                event.get(EVENT_KEY) if isinstance(event, Mapping) else None, self.seal, _binding(hook.value, ids)
            )
        except UntrustedProgress as exc:
            logger.error(f"{exc}; reporting Failed")
            return _untrusted(hook.value, ids, exc, started)
        function_arn = getattr(context, "invoked_function_arn", None)
        can_continue = (
            isinstance(self.settings, Settings)
            and self.settings.continuation
            and isinstance(function_arn, str)
            and bool(function_arn)
        )
        judged: Verdict | None = None  # this link's own verdict so far, once it ran the plan
        while True:
            latest = codedeploy_wait_until(progress.started_at, link_s)
            if progress.calls + 1 >= MAX_CALLS or time.time() >= latest:
                # The chain's bounds: a link past them (however its event came to say so) judges now.
                can_continue = False
            # Never wait past the chain's bound, whatever the progress asks.
            wait_s = min(progress.not_before, latest) - time.time()
            # A link that may not continue (continuation switched off mid-chain) judges now.
            if wait_s > 0 and can_continue:
                left_s = self._left_s(context)
                reserve = _reserve(left_s, progress.rest_s)
                if left_s - wait_s < reserve:
                    # Not all in this invocation: wait what it can hold, then the next link waits the rest.
                    time.sleep(max(0.0, left_s - reserve))
                    interim = judged or _verdict(
                        hook.value,
                        ids,
                        IN_PROGRESS,
                        f"waiting {progress.not_before - time.time():.0f} s more for {progress.waiting_id}",
                        progress.done,
                        started,
                    )
                    # A link that ran the plan is counted already (Progress.resumed); one that only waited is not.
                    following = progress if judged is not None else progress.hop()
                    return self._hop(interim, event, following, str(function_arn), started)
                time.sleep(wait_s)
            wait_until = latest if can_continue else None
            verdict, following_or_none = self._judge(
                hook, ids, context, plan, started, progress=progress, wait_until=wait_until
            )
            if following_or_none is None:
                return verdict
            # The next round of this loop waits here what the invocation can hold, then hands over.
            judged, progress = verdict, following_or_none

    def _hop(
        self, interim: Verdict, event: Mapping[str, Any], following: Progress, function_arn: str, started: float
    ) -> Verdict | dict[str, Any]:
        """Start the next link with ``following``; a Failed verdict to report when it cannot be started."""
        try:
            sealed = self.seal.seal(following.to_dict(), binding=_binding(interim.hook, interim))
            self.continuer.continue_hook(function_arn=function_arn, event={**event, EVENT_KEY: sealed})
        except Exception as exc:
            logger.exception("could not start the next link; reporting Failed")
            records = (*following.done, _cannot_continue(exc))
            status, reason = decide(records)
            duration_ms = (time.monotonic() - started) * 1000.0
            return dataclasses.replace(interim, status=status, reason=reason, checks=records, duration_ms=duration_ms)
        # The next link runs and will report: nothing here may turn into a second answer.
        summary: dict[str, Any] = {"report": "continued", "call": following.calls}
        try:
            summary = {**summarize(interim), **summary}
            logger.info(
                f"continuing in the next invocation (call {following.calls + 1}): {interim.reason}",
                extra={"verdict": summary},
            )
        except Exception:
            logger.exception("could not log the hand-over; the next link goes on")
        return summary

    @property
    def continuer(self) -> Continuer:
        if self._continuer is None:
            self._continuer = LambdaContinuer(self.clients)
        return self._continuer

    def _left_s(self, context: LambdaContextLike) -> float:
        margin_ms = (
            self.settings.deadline_margin_ms if isinstance(self.settings, Settings) else DEFAULT_REPORT_BUDGET_MS
        )
        return (context.get_remaining_time_in_millis() - margin_ms) / 1000.0

    def run_ecs(
        self, event: Any, context: LambdaContextLike, *, plan: Sequence[Check] | PlanFactory | None = None
    ) -> dict[str, Any]:
        """Judge one Amazon ECS lifecycle hook call and return its answer: ``{"hookStatus": ...}``.

        ECS reads the verdict from the return value, so the one answer is the return: nothing is
        reported elsewhere, and nothing is raised. A stage runs its plan: a plan entry under the
        stage's own name, else that of the CodeDeploy hook it corresponds to (:attr:`EcsStage.hook`),
        else its built-in checks (none but PRODUCTION_TRAFFIC_SHIFT's step gate). An event
        that is not an ECS lifecycle hook event, and anything that goes wrong, answer ``FAILED``
        (ECS rolls back; a raised error or a missing status would roll back too, with less said).
        """
        started = time.monotonic()
        try:
            ids = EcsHookEvent.parse(event)
        except InvalidEventError as exc:
            logger.error(f"invalid ECS lifecycle hook event; answering FAILED: {exc}")
            return {"hookStatus": "FAILED"}
        owner = begin_invocation(f"{ids.execution_id}#{next(_invocations)}")
        try:
            logger.append_keys(
                service=self._observability.service_name,
                hook=ids.stage.value,
                deployment_id=ids.resource_arn,
                execution_id=ids.execution_id,
            )
            hook = ids.stage.hook
            label = ids.stage.value if hook is None else f"{ids.stage.value} ({hook.value} plan)"
            following: Progress | None = None
            try:
                # Every stage runs its plan; a stage without a CodeDeploy hook at its moment's place.
                progress = _progress(
                    ids.hook_details.get(HOOK_DETAILS_KEY), self.seal, _binding(ids.stage.value, ids)
                )
                settings = self.settings
                wait_until = (
                    progress.started_at + settings.max_wait_s
                    if isinstance(settings, Settings) and settings.continuation and progress.calls + 1 < MAX_CALLS
                    else None
                )
                verdict, following = self._judge(
                    hook or ids.stage.moment,
                    ids,
                    context,
                    plan,
                    started,
                    ecs_stage=ids.stage,
                    label=label,
                    progress=progress,
                    wait_until=wait_until,
                )
            except UntrustedProgress as exc:
                logger.error(f"{exc}; answering FAILED")
                verdict = _untrusted(label, ids, exc, started)
                following = None
            except Exception:
                logger.exception("runner error; answering FAILED")
                record = CheckRecord.errored(RUNNER_CHECK_ID, "runner error (see logs)")
                status, reason = decide([record])
                verdict = _verdict(label, ids, status, reason, (record,), started)
                following = None
            answer: dict[str, Any]
            sealed: dict[str, Any] | None = None
            if following is not None:
                try:
                    sealed = self.seal.seal(following.to_dict(), binding=_binding(ids.stage.value, ids))
                except SealError as exc:
                    # Unsealed, the next call would not trust it: fail now, saying why.
                    logger.error(f"could not continue: {exc}; answering FAILED")
                    records = (*following.done, _cannot_continue(exc))
                    status, reason = decide(records)
                    verdict = _verdict(label, ids, status, reason, records, started)
                    following = None
            if following is not None and sealed is not None:
                # ECS calls again after callBackDelay with these hookDetails: the hook's own
                # configured details are kept, ours go under one key.
                kept = {key: value for key, value in ids.hook_details.items() if key != HOOK_DETAILS_KEY}
                answer = {
                    "hookStatus": "IN_PROGRESS",
                    "callBackDelay": callback_delay(following.not_before - time.time()),
                    "hookDetails": {**kept, HOOK_DETAILS_KEY: sealed},
                }
            else:
                answer = {"hookStatus": "SUCCEEDED" if verdict.succeeded else "FAILED"}
            try:
                summary = summarize(verdict)
                summary["report"] = "returned"
                summary["hookStatus"] = answer["hookStatus"]
                log = logger.info if verdict.succeeded or following is not None else logger.warning
                log(f"verdict {verdict.status}: {verdict.reason}", extra={"verdict": summary})
                if following is None:
                    self._metrics(verdict)
                    self._publish(summary, context)
            except Exception:  # presenting the verdict must never change or lose the answer
                logger.exception("could not log or publish the verdict; answering anyway")
            return answer
        finally:
            end_invocation(owner)

    def _judge(
        self,
        hook: Hook,
        ids: HookEvent | EcsHookEvent,
        context: LambdaContextLike,
        plan: Sequence[Check] | PlanFactory | None,
        started: float,
        *,
        ecs_stage: EcsStage | None = None,
        label: str | None = None,
        progress: Progress | None = None,
        wait_until: float | None = None,
    ) -> tuple[Verdict, Progress | None]:
        """This call's verdict, and the progress to continue with when a check waits (else None).

        ``progress`` says what earlier calls of the hook did; ``wait_until`` is the latest epoch
        second a check may ask to wait until (None: decide now).
        """
        label = label or hook.value
        progress = progress or Progress(started_at=time.time())
        if isinstance(self.settings, ConfigError):
            record = CheckRecord.errored(CONFIG_CHECK_ID, f"invalid configuration: {self.settings}")
            return _verdict(label, ids, FAILED, f"{CONFIG_CHECK_ID}: {record.reason}", (record,), started), None

        margin_s = self.settings.deadline_margin_ms / 1000.0
        remaining_ms = context.get_remaining_time_in_millis()
        read_at = time.monotonic()  # the deadline counts from this reading, not from the start
        remaining_s = max(0.0, remaining_ms / 1000.0)
        if margin_s >= remaining_s:
            reason = (
                f"{env.DEADLINE_MARGIN_MS}={self.settings.deadline_margin_ms} leaves no time for the checks: "
                f"the function had {remaining_ms} ms left; lower the margin or raise the function's Timeout"
            )
            record = CheckRecord.errored(CONFIG_CHECK_ID, reason)
            return _verdict(label, ids, FAILED, f"{CONFIG_CHECK_ID}: {reason}", (record,), started), None
        deadline = read_at + remaining_s - margin_s
        ctx = CheckContext(
            hook=hook,
            deployment_id=ids.deployment_id,
            execution_id=ids.execution_id,
            settings=self.settings,
            aws=self.clients,
            deadline=deadline,
            on_progress=self._on_progress,
            platform="codedeploy" if ecs_stage is None else "ecs",
            test_traffic_shifted=ecs_stage is not None and ecs_stage.test_traffic_shifted,
            first_called_at=progress.started_at,
            wait_until=wait_until,
            ecs_stage=ecs_stage,
            production_traffic_weights=ids.production_traffic_weights if isinstance(ids, EcsHookEvent) else {},
            target_revision_arn=ids.target_revision_arn if isinstance(ids, EcsHookEvent) else None,
        )
        chosen = plan if plan is not None else (self._plan_factory or _configured_plan)
        # The wiring check asks CodeDeploy which lifecycle event runs: there is none on ECS.
        wiring = self._verify_wiring and ecs_stage is None
        resumed = (progress.waiting_id, progress.waiting_state) if progress.waiting_id is not None else None
        ran = PlanRun(hook, ctx, chosen, verify_wiring=wiring, done=progress.done_ids, resumed=resumed).wait(deadline)
        records = [*progress.done, *ran]
        waiting = next((record for record in ran if record.resume is not None), None)
        if waiting is not None:
            # A dry run never blocks, so it never holds the hook either: it is judged as it stands.
            blocked = any(record.blocks and record.resume is None for record in records)
            if wait_until is not None and not waiting.dry_run and not blocked:
                # What the waiting check and the ones after it need when it runs again.
                rest_s = ctx.time_after_s + READ_AGAIN_S
                following = progress.resumed(ran, waiting, time.time(), rest_s=rest_s)
                reason = f"waiting: {waiting.check_id}: {waiting.reason}"
                return _verdict(label, ids, IN_PROGRESS, reason, tuple(records), started), following
            # Judged as it stands: a failure elsewhere decides already, or the hook cannot continue.
            records = [without_resume(record) for record in records]
        status, reason = decide(records, empty_reason=ctx.empty_plan_reason)
        return _verdict(label, ids, status, reason, tuple(records), started), None

    def _report(self, verdict: Verdict, reporter: Reporter, context: LambdaContextLike) -> dict[str, Any]:
        # Report first: nothing about presenting the verdict may stand between it and CodeDeploy.
        try:
            outcome = reporter.report(
                deployment_id=verdict.deployment_id,
                execution_id=verdict.execution_id,
                status="Succeeded" if verdict.succeeded else "Failed",
            )
        except ReportError:
            summary = summarize(verdict)
            summary["report"] = "error"
            logger.error("verdict could not be reported; raising so Lambda retries", extra={"verdict": summary})
            emit_report_failed(self._observability)  # the template's alarm watches this
            self._metrics(verdict)
            raise
        summary = summarize(verdict)
        summary["report"] = outcome.value
        log = logger.info if verdict.succeeded and outcome is ReportOutcome.REPORTED else logger.warning
        log(f"verdict {verdict.status}: {verdict.reason}", extra={"verdict": summary})
        self._metrics(verdict)
        self._publish(summary, context)
        return summary

    def _publish(self, summary: dict[str, Any], context: LambdaContextLike) -> None:
        topic = self.settings.verdict_topic_arn if isinstance(self.settings, Settings) else None
        if not topic:
            return
        if context.get_remaining_time_in_millis() < PUBLISH_MIN_REMAINING_MS:
            logger.warning("verdict not published to SNS: too little time left before the deadline")
            return
        publish_verdict(self.clients, topic, summary)

    @property
    def _observability(self) -> ObservabilitySettings:
        """The validated observability settings; the ones read at import when the config is bad."""
        return self.settings.observability if isinstance(self.settings, Settings) else IMPORT_TIME_OBSERVABILITY

    def _metrics(self, verdict: Verdict) -> None:
        emit_metrics(verdict, self._observability)


def _configured_plan(hook: Hook, ctx: CheckContext) -> Sequence[Check]:
    # Deferred for cold start: the plan machinery and every check module load on the first hook,
    # inside the watchdog's time, not while the container starts.
    from trafficgate.plan.select import plan_for

    return plan_for(hook, ctx)


def _verdict(
    hook: str,
    ids: HookEvent | EcsHookEvent,
    status: str,
    reason: str,
    records: Sequence[CheckRecord],
    started: float,
) -> Verdict:
    return Verdict(
        hook=hook,
        deployment_id=ids.deployment_id,
        execution_id=ids.execution_id,
        status=status,
        reason=reason,
        checks=tuple(records),
        duration_ms=(time.monotonic() - started) * 1000.0,
    )


def _reserve(left_s: float, rest_s: float = 0.0) -> float:
    """Invocation time kept after an in-process wait: what the checks need when the waiting one runs
    again (at least :data:`RERUN_RESERVE_S`), but never more than half of what is left, so that a
    link always waits some of the wait."""
    return min(max(RERUN_RESERVE_S, rest_s), max(0.0, left_s) / 2)


def _binding(hook: str, ids: Any) -> str:
    """What a progress seal is bound to: the hook execution it belongs to.

    CodeDeploy: the deployment, the lifecycle event's execution id (every link of a chain carries
    the same event) and the hook. ECS: the service deployment and the stage, not ``executionId``,
    which AWS does not document as the same across the IN_PROGRESS calls of one stage.
    """
    if isinstance(ids, EcsHookEvent):
        return f"{ids.deployment_id}|{hook}"
    return f"{ids.deployment_id}|{ids.execution_id}|{hook}"


def _untrusted(label: str, ids: Any, exc: UntrustedProgress, started: float) -> Verdict:
    """The Failed verdict of a hook that got a progress it cannot trust: it fails rather than start
    over, since starting over would also restart its bounds (the hour, the wait, the call count)."""
    record = CheckRecord.errored(
        CONTINUATION_CHECK_ID,
        f"{exc}: the hook does not trust it, and does not start over with fresh bounds",
    )
    status, reason = decide([record])
    return _verdict(label, ids, status, reason, (record,), started)


def _cannot_continue(exc: Exception) -> CheckRecord:
    """The record of a hook that could not hand its progress on (seal it, or start the next link)."""
    why = str(exc) if isinstance(exc, ReportError) else type(exc).__name__
    needs = "kms:GenerateMac on its progress key" if isinstance(exc, SealError) else "lambda:InvokeFunction on itself"
    return CheckRecord.errored(
        CONTINUATION_CHECK_ID,
        f"could not continue past this invocation ({why}); the function needs {needs}, "
        f"or set {env.CONTINUATION}=off to decide within one invocation",
    )


def _progress(data: Any, seal: ProgressSeal, binding: str) -> Progress:
    """The progress an earlier call left (event or hookDetails), or a fresh one from now.

    Raises
    ------
    UntrustedProgress
        A seal is required and this progress has no valid one.
    """
    if data is None:
        return Progress(started_at=time.time())
    checked = seal.check(data, binding=binding)
    try:
        progress = Progress.parse(checked)
    except (ValueError, TypeError, OverflowError) as exc:
        # Not ours, or damaged: start again rather than trust it (the checks run again).
        logger.error(f"ignoring the progress carried by the event: {exc}")
        return Progress(started_at=time.time())
    if progress.started_at > time.time() + CLOCK_SKEW_S:
        # A first call in the future would stretch every bound: not a progress we wrote.
        logger.error("ignoring the progress carried by the event: its first call is in the future")
        return Progress(started_at=time.time())
    return progress


# --- the container-wide runner ---------------------------------------------------------------

_runner: HookRunner | None = None


def load_settings() -> Settings | ConfigError:
    """Read the configuration at start-up; keep a ConfigError so each hook can report it.

    Whatever goes wrong while reading (a parser bug included) becomes a ConfigError: a hook that
    cannot read its configuration still answers, Failed, rather than crash without a report.
    """
    try:
        return Settings.from_env()
    except ConfigError as exc:
        logger.error(f"invalid configuration: {exc}")
        return exc
    except Exception as exc:
        logger.exception("configuration could not be read")
        return ConfigError(f"the configuration could not be read ({type(exc).__name__})")


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
    """Forget the container-wide runner and the discovery and plan caches (as a new container would)."""
    # Deferred like the plan itself: plan.sources pulls in every check module (see _configured_plan).
    from trafficgate.discovery import clear_cache as clear_discovery_cache
    from trafficgate.plan.sources import clear_cache as clear_plan_cache

    global _runner
    _runner = None
    clear_discovery_cache()
    clear_plan_cache()


def run_hook(
    hook: Hook, event: Any, context: LambdaContextLike, *, plan: Sequence[Check] | PlanFactory | None = None
) -> dict[str, Any]:
    """Entry point for the handlers: run ``hook``'s plan and report once. See :meth:`HookRunner.run`."""
    return get_runner().run(hook, event, context, plan=plan)


def run_ecs_hook(
    event: Any, context: LambdaContextLike, *, plan: Sequence[Check] | PlanFactory | None = None
) -> dict[str, Any]:
    """Entry point for the ECS lifecycle hook function: judge the stage, return ``{"hookStatus": ...}``.

    See :meth:`HookRunner.run_ecs`.
    """
    return get_runner().run_ecs(event, context, plan=plan)
