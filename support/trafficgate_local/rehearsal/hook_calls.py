"""Calling one hook's real handler in this process, as a warm Lambda container would, and judging it.

Each function's module is loaded once and kept (a warm container); each call gets the function's
environment from the template, a fresh execution id from the stand-in and a Lambda-like context.
The verdict is the status the stand-in recorded for that execution id before the function's
timeout, never the handler's return value: a hook that does not report in time is ``NoReport``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from trafficgate import constants
from trafficgate.continuation import CODEDEPLOY_HOOK_LIMIT_S
from trafficgate.hooks import Hook
from trafficgate.observability import logger, send_logs_to
from trafficgate.runner import configure_runner, reset_runner
from trafficgate_local.chain import LocalChain, run_chain
from trafficgate_local.handlers import load_handler, packages_in
from trafficgate_local.invoke import function_environment
from trafficgate_local.lambda_context import LocalLambdaContext
from trafficgate_local.rehearsal.apps import HEALTHY_BODY_REGEX, SCENARIO_SETTINGS
from trafficgate_local.rehearsal.options import RehearsalOptions
from trafficgate_local.rehearsal.timeline import HookRun, Timeline, check_lines
from trafficgate_local.template import FunctionSpec

if TYPE_CHECKING:
    from trafficgate.checks.base import Check
    from trafficgate.context import CheckContext
    from trafficgate_local.standin import StandIn

__all__ = ["HookCaller"]

#: Variables of this process a hook's environment must not replace (the process keeps running).
_KEEP = frozenset({"PATH", "HOME", "LANG", "TZ", "PYTHONPATH"})


class HookCaller:
    """Runs the hooks of one deployment through their real handlers, in this process.

    Parameters
    ----------
    options : RehearsalOptions
        Timeouts, probe size, plan and extra environment of the rehearsal.
    stand_in : StandIn
        Hands out execution ids and holds the reported statuses.
    deployment_id : str
        The deployment the hooks judge.
    dns_name : str
        The load balancer's name, resolved to 127.0.0.1 for the hooks' probes.
    timeline : Timeline
        Where each call and its verdict are recorded.
    stack : ExitStack
        Closes the log file and restores the log stream when the rehearsal ends.
    log_path : Path
        File that receives the handlers' log lines and metrics.
    """

    def __init__(
        self,
        options: RehearsalOptions,
        stand_in: StandIn,
        deployment_id: str,
        *,
        dns_name: str,
        timeline: Timeline,
        stack: contextlib.ExitStack,
        log_path: Path,
    ) -> None:
        self.options = options
        self.stand_in = stand_in
        self.deployment_id = deployment_id
        self.dns_name = dns_name
        self.timeline = timeline
        self.log_path = log_path
        self._stack = stack
        self._handlers: dict[Hook, Callable[..., Any]] = {}
        self._log: TextIO | None = None
        #: Called once, when ``--approve-after`` puts approval.gate in a plan (the approver's clock starts).
        self.on_gate: Callable[[], None] | None = None
        #: The stand-in's HMAC key standing for the stack's ProgressKey (set by the conductor).
        self.progress_key_arn: str | None = None

    def environment(self, spec: FunctionSpec) -> dict[str, str]:
        """Return the function's environment: the template's, then the rehearsal's settings on top."""
        options = self.options
        env = function_environment(spec, region=options.region, shell=os.environ)
        env[constants.RESOLVE] = f"{self.dns_name}=127.0.0.1"
        if options.green_is_ours and not env.get(constants.BODY_REGEX):
            # Our demo apps answer {"status": "ok"}; a wrong body must fail the probe.
            env[constants.BODY_REGEX] = HEALTHY_BODY_REGEX
        if options.probe_requests is not None:
            env[constants.PROBE_REQUESTS] = str(options.probe_requests)
        if constants.BAKE_SECONDS not in options.env:
            # The bake follows the time scale like every other wait of the rehearsal.
            bake = float(env.get(constants.BAKE_SECONDS) or 60)
            env[constants.BAKE_SECONDS] = f"{bake * options.time_scale:g}"
        if options.plan is not None:
            env[constants.PLAN_FILE] = str(options.plan.resolve())
        if options.check_paths:
            # The packages in --check-path are the ones a plan may import (TRAFFICGATE_CHECK_PACKAGES).
            env[constants.CHECK_PACKAGES] = ",".join(packages_in(options.check_paths))
        if options.green_is_ours:
            env.update(SCENARIO_SETTINGS.get(options.scenario, {}))
        if self.progress_key_arn and not env.get(constants.PROGRESS_KEY_ARN):
            # The stack's HMAC key, made in the stand-in: a hook that continues seals its progress.
            env[constants.PROGRESS_KEY_ARN] = self.progress_key_arn
        env.update(options.env)
        return env

    def configure(self) -> LocalChain:
        """Set up the container-wide runner as the rehearsal's functions use it; the chain of next links.

        - progress goes to the timeline;
        - a CodeDeploy hook that outlasts its invocation hands over to a next link, which runs here
          (:mod:`trafficgate_local.chain`) as Lambda would run the function's self-invocation;
        - with ``--approve-after``, BeforeAllowTraffic's plan (PRE_PRODUCTION_TRAFFIC_SHIFT's on ECS)
          starts with ``approval.gate``, looking every second.
        """
        reset_runner()
        chain = LocalChain()
        configure_runner(
            on_progress=lambda check, done, total: self.timeline.progress(check, done, total),
            continuer=chain,
            plan_factory=self._plan_factory if self.options.approve_after_s is not None else None,
        )
        return chain

    def _plan_factory(self, hook: Hook, ctx: CheckContext) -> Sequence[Check]:
        from trafficgate.checks.approval import APPROVAL_CHECK_ID, ApprovalGate
        from trafficgate.plan.select import plan_for

        checks = list(plan_for(hook, ctx))
        if hook is Hook.BEFORE_ALLOW_TRAFFIC and not any(c.check_id == APPROVAL_CHECK_ID for c in checks):
            wait = self.options.approve_after_s or 0.0
            checks.insert(0, ApprovalGate(poll_s=1.0, timeout_s=max(60.0, 4 * wait)))
            if self.on_gate is not None:  # the person starts reading once the gate waits, not before
                on_gate, self.on_gate = self.on_gate, None
                on_gate()
        return checks

    def handler(self, hook: Hook, spec: FunctionSpec) -> Callable[..., Any]:
        """Return the handler of ``hook``'s function, loading its module on first use only."""
        # One module per function, loaded once: like a warm Lambda container.
        if hook not in self._handlers:
            self._handlers[hook] = load_handler(spec.code_dir, spec.handler)
        return self._handlers[hook]

    def call(self, hook: Hook, spec: FunctionSpec) -> HookRun:
        """Invoke ``hook`` once with a fresh execution id and return the verdict the stand-in recorded.

        Parameters
        ----------
        hook : Hook
            The lifecycle event.
        spec : FunctionSpec
            Its function from the template.

        Returns
        -------
        HookRun
            ``status`` is the first status recorded for the execution id before the timeout, or
            ``NoReport``.
        """
        timeout = self.options.hook_timeout_s or spec.timeout_s
        for name, value in self.environment(spec).items():
            if name not in _KEEP:
                os.environ[name] = value
        execution_id = self.stand_in.register_hook_execution(self.deployment_id, hook.value)
        self.timeline.emit(
            "hook-start", f"{hook.value} → {spec.function_name}", hook=hook.value, execution_id=execution_id
        )
        handler = self.handler(hook, spec)
        chain = self.configure()

        def new_context() -> LocalLambdaContext:
            return LocalLambdaContext(function_name=spec.function_name, timeout_s=timeout, region=self.options.region)

        def links(event: dict[str, Any], context: LocalLambdaContext) -> Any:
            return run_chain(chain, handler(event, context), handler, new_context)

        context = new_context()
        event = {"DeploymentId": self.deployment_id, "LifecycleEventHookExecutionId": execution_id}
        log = self._open_log()
        send_logs_to(log)
        started = time.monotonic()
        # A real function is killed at its timeout and cannot report after it; this thread cannot be
        # killed, so a report it makes later (margin 0) must not count, however the threads race.
        cutoff = datetime.now(UTC) + timedelta(seconds=timeout)
        outcome = _call_in_thread(
            links, event, context, timeout_s=timeout, log=log, name=f"hook-{hook.value}", chain=chain
        )
        duration = time.monotonic() - started
        if chain.links:  # the last link reports, within CodeDeploy's hour of the first
            cutoff = datetime.now(UTC)
        records = [
            r for r in self.stand_in.statuses(self.deployment_id) if r.execution_id == execution_id and r.time <= cutoff
        ]
        summary = outcome.get("summary")
        if records:
            status = records[0].status
            reason = (summary or {}).get("reason", "") or outcome.get("error", "")
        else:
            status = "NoReport"
            reason = f"no status recorded within the function timeout of {timeout:.0f} s" + (
                f" ({outcome['error']})" if "error" in outcome else ""
            )
        self.timeline.emit(
            "hook",
            f"{hook.value}: {status} in {duration * 1000:.0f} ms — {reason}",
            detail=check_lines(summary) if summary else [],
            hook=hook.value,
            status=status,
            reason=reason,
            checks=(summary or {}).get("checks", []),
        )
        return HookRun(hook.value, spec.function_name, execution_id, status, reason, summary, round(duration, 3))

    def _open_log(self) -> TextIO:
        if self._log is None:
            self._log = self._stack.enter_context(open(self.log_path, "a"))  # noqa: SIM115
            # Runs before the file closes (LIFO): a later rehearsal in this process must not find
            # the log handler writing to a closed file.
            previous = getattr(logger.registered_handler, "stream", sys.stdout)
            self._stack.callback(send_logs_to, previous)
        return self._log


def _call_in_thread(
    handler: Callable[..., Any],
    event: dict[str, Any],
    context: LocalLambdaContext,
    *,
    timeout_s: float,
    log: TextIO,
    name: str,
    chain: LocalChain | None = None,
) -> dict[str, Any]:
    """Call ``handler`` in a daemon thread for at most ``timeout_s``; return ``summary`` and/or ``error``.

    Once ``chain`` has started a next link (a CodeDeploy hook that outlasts its invocation), the
    wait goes on for the chain, up to CodeDeploy's hour.
    """
    outcome: dict[str, Any] = {}

    def call() -> None:
        try:
            with contextlib.redirect_stdout(log):
                outcome["summary"] = handler(event, context)
        except Exception as exc:
            outcome["error"] = f"{type(exc).__name__}: {exc}"

    worker = threading.Thread(target=call, name=name, daemon=True)
    worker.start()
    started = time.monotonic()
    worker.join(timeout_s)
    if chain is not None and chain.links:
        worker.join(max(0.0, CODEDEPLOY_HOOK_LIMIT_S - (time.monotonic() - started)))
    return outcome
