"""The deadline watchdog: run a plan in a worker thread, and walk away from it at the deadline.

Layer L4 (orchestration): imports the check API, the verdict's record type and the attempt loop.
Report before the deadline: a missing callback hangs the deployment for an hour, so whatever a
check does (stuck in I/O, sleeping, spinning), the runner gets a list of records in time.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from trafficgate.attempts import describe_exception, run_check
from trafficgate.checks.base import DEFAULT_EXPECTED_S, Check
from trafficgate.context import CheckContext
from trafficgate.hooks import Hook
from trafficgate.observability import logger
from trafficgate.outcome import Outcome
from trafficgate.plan.exceptions import PlanError
from trafficgate.verdict import DEADLINE_CHECK_ID, PLAN_CHECK_ID, RUNNER_CHECK_ID, CheckRecord
from trafficgate.wiring import wiring_record

PlanFactory = Callable[[Hook, CheckContext], Sequence[Check]]


def _expected(checks: Sequence[Check], ctx: CheckContext) -> float:
    """What ``checks`` are expected to need; a check that cannot say counts as a default one."""
    total = 0.0
    for check in checks:
        try:
            total += float(check.expected_s(ctx))
        except Exception:
            total += DEFAULT_EXPECTED_S
    return total


class PlanRun:
    """Runs a plan's checks one after another in a worker thread the runner can walk away from.

    The worker is a daemon thread: a check stuck in I/O cannot hold back the report, and cannot
    keep a local process alive once the verdict is out. When the plan ends, the worker closes what
    the checks opened (:meth:`CheckContext.close`).

    Parameters
    ----------
    hook
        The lifecycle event, for the plan factory and the thread's name.
    ctx
        The checks' context.
    plan
        The checks, or a factory that builds them in the worker (a plan read from SSM takes time
        that must count against the deadline too).
    verify_wiring
        First make sure CodeDeploy is running ``hook`` (see :mod:`trafficgate.wiring`).
    done
        Ids of the plan's leading checks that an earlier call of the hook judged: not run again.
        When the plan no longer starts with them (it changed meanwhile), a record says so and
        nothing runs.
    resumed
        ``(check_id, state)``: the first check to run asked to wait last time; it gets ``state``
        back in :attr:`CheckContext.resumed`.

    A check that asks to wait (:meth:`CheckResult.wait`) ends the run: the checks after it run
    once it is done, on a later call, so the plan keeps its order.
    """

    def __init__(
        self,
        hook: Hook,
        ctx: CheckContext,
        plan: Sequence[Check] | PlanFactory,
        *,
        verify_wiring: bool = False,
        done: Sequence[str] = (),
        resumed: tuple[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self._hook = hook
        self._ctx = ctx
        self._plan = plan
        self._verify_wiring = verify_wiring
        self._done_ids = tuple(done)
        self._resumed = resumed
        self._lock = threading.Lock()
        self._records: list[CheckRecord] = []
        self._current: tuple[str, float] | None = None
        self._pending: list[Check] = []
        self._abandoned = False
        self._done = threading.Event()
        self._finished = False

    def wait(self, deadline: float) -> list[CheckRecord]:
        """Start the worker and return the records at the end of the plan or at ``deadline``.

        At the deadline, the running check gets an ``error`` record and the ones not started an
        ``inconclusive`` one; the worker is abandoned and its late results are dropped.
        """
        # A copy of this thread's context: the worker logs for this invocation, and only this one.
        thread = threading.Thread(
            target=contextvars.copy_context().run,
            args=(self._work,),
            name=f"trafficgate-{self._hook.value}",
            daemon=True,
        )
        thread.start()
        finished = self._done.wait(timeout=max(0.0, deadline - time.monotonic()))
        with self._lock:
            self._abandoned = True
            records = list(self._records)
            # The worker may finish between the wait and the lock: _finished is set under the lock
            # with its last record, so a plan that ended is never taken for one cut at the deadline.
            if finished or self._finished:
                return records
            # Walk away, and tell the worker: probes stop starting requests and lose their sockets,
            # waits end, so the abandoned thread and its probe threads are gone within moments.
            self._ctx.cancel()
            now = time.monotonic()
            if self._current is not None:
                check_id, since = self._current
                records.append(
                    CheckRecord.errored(
                        check_id,
                        "deadline: still running when the safety margin before the Lambda timeout was reached",
                        duration_ms=(now - since) * 1000.0,
                    )
                )
            elif not self._pending:
                records.append(CheckRecord.errored(DEADLINE_CHECK_ID, "deadline: the plan was not ready in time"))
            for check in self._pending:
                records.append(
                    CheckRecord(
                        check_id=check.check_id,
                        outcome=Outcome.INCONCLUSIVE,
                        reason="deadline: not run",
                        dry_run=check.policy.dry_run,
                        counts=check.policy.blocks(Outcome.INCONCLUSIVE),
                    )
                )
        logger.error("deadline reached; reporting Failed without waiting for the remaining checks")
        return records

    def _work(self) -> None:
        try:
            self._run_plan()
            with self._lock:
                self._finished = True
        except Exception as exc:  # a bug outside any check: answer now rather than at the deadline
            logger.exception("runner error while running the plan")
            with self._lock:
                self._current = None
                self._records.append(CheckRecord.errored(RUNNER_CHECK_ID, f"runner error: {type(exc).__name__}"))
        finally:
            self._done.set()
            try:
                self._ctx.close()
            except Exception:
                logger.exception("could not close the checks' sessions")

    def _run_plan(self) -> None:
        try:
            checks = list(self._plan(self._hook, self._ctx) if callable(self._plan) else self._plan)
            for check in checks:
                if not isinstance(check, Check):
                    raise PlanError(f"plan entry {check!r:.60} is not a Check")
        except Exception as exc:
            logger.exception("could not build the check plan")
            with self._lock:
                reason = (
                    str(exc)
                    if isinstance(exc, PlanError)
                    else f"could not build the plan: {describe_exception(exc, 'plan factory')}"
                )
                self._records.append(CheckRecord.errored(PLAN_CHECK_ID, reason))
            return
        if self._verify_wiring:
            miswired = wiring_record(self._hook, self._ctx)
            if miswired is not None:
                with self._lock:
                    self._records.append(miswired)
                return
        if self._done_ids:
            leading = tuple(check.check_id for check in checks[: len(self._done_ids)])
            if leading != self._done_ids:
                with self._lock:
                    self._records.append(
                        CheckRecord.errored(
                            PLAN_CHECK_ID,
                            f"the plan changed while the hook waited: it began with {', '.join(self._done_ids)}, "
                            f"now with {', '.join(leading) or 'nothing'}",
                        )
                    )
                return
            checks = checks[len(self._done_ids) :]
        with self._lock:
            self._pending = list(checks)
        for index, check in enumerate(checks):
            with self._lock:
                if self._abandoned:
                    return
                self._pending.remove(check)
                self._current = (check.check_id, time.monotonic())
                after = list(self._pending)
            self._ctx.time_after_s = _expected(after, self._ctx)
            resumed = self._resumed
            self._ctx.resumed = resumed[1] if index == 0 and resumed and resumed[0] == check.check_id else None
            try:
                record = run_check(check, self._ctx)
            finally:
                self._ctx.resumed = None
            with self._lock:
                if self._abandoned:
                    return
                self._current = None
                self._records.append(record)
            if record.resume is not None:
                return
