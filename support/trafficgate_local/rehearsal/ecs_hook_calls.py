"""Calling the ECS lifecycle hook function's real handler in this process, as ECS would, and reading its answer.

ECS reads the verdict from the function's *return value*: ``{"hookStatus": "SUCCEEDED" |
"FAILED" | "IN_PROGRESS", "callBackDelay": N, "hookDetails": {...}}``. A missing or invalid
``hookStatus``, a raised error, or no answer within the function's timeout all mean FAILED, as
on ECS. The checks behind the answer are read where a person would read them on AWS: the
function's own log lines (the runner logs each verdict with its checks), never from inside the runner.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO, cast

from trafficgate.hooks import EcsStage
from trafficgate.observability import send_logs_to
from trafficgate_local.handlers import load_handler
from trafficgate_local.lambda_context import LocalLambdaContext
from trafficgate_local.rehearsal.hook_calls import _KEEP, HookCaller, _call_in_thread
from trafficgate_local.rehearsal.timeline import HookRun, check_lines
from trafficgate_local.template import FunctionSpec

__all__ = ["DEFAULT_CALLBACK_DELAY_S", "HOOK_STATUSES", "EcsAnswer", "EcsHookCaller"]

#: What ECS waits before calling an IN_PROGRESS hook again when it names no ``callBackDelay``.
DEFAULT_CALLBACK_DELAY_S = 30.0
HOOK_STATUSES = ("SUCCEEDED", "FAILED", "IN_PROGRESS")
#: ``hookStatus`` in CodeDeploy's words, as the timeline, the summary and the page show statuses.
_SHOWN = {"SUCCEEDED": "Succeeded", "FAILED": "Failed", "IN_PROGRESS": "InProgress"}


@dataclass(frozen=True)
class EcsAnswer:
    """One call's answer as ECS takes it: the status, when to call again, the details to pass back."""

    hook_status: str
    callback_delay_s: float
    hook_details: dict[str, Any]
    reason: str


class _CapturedLog:
    """A log stream that writes through to the rehearsal's log file and keeps the lines of one call."""

    def __init__(self, file: TextIO) -> None:
        self._file = file
        self._lock = threading.Lock()
        self._text: list[str] = []

    def write(self, text: str) -> int:
        with self._lock:
            self._text.append(text)
        return self._file.write(text)

    def flush(self) -> None:
        self._file.flush()

    def lines(self) -> list[str]:
        with self._lock:
            return "".join(self._text).splitlines()


class EcsHookCaller(HookCaller):
    """Runs the ECS lifecycle hook function through its real handler, one stage call at a time.

    Takes :class:`~.hook_calls.HookCaller`'s parameters; ``deployment_id`` is the service
    deployment's ARN. The function's module is loaded once (a warm container) and serves every stage.
    """

    _ecs_handler: Callable[..., Any] | None = None

    def call_stage(
        self, stage: EcsStage, spec: FunctionSpec, event: dict[str, Any], *, rollback: bool = False
    ) -> tuple[HookRun, EcsAnswer]:
        """Invoke the function with ``event`` and return the call's record and the answer ECS takes from it.

        Parameters
        ----------
        stage : EcsStage
            The event's ``lifecycleStage``.
        spec : FunctionSpec
            The EcsLifecycleHook function from the template.
        event : dict
            The ECS lifecycle hook event.
        rollback : bool
            A call made while rolling back (recorded as such; its answer is taken but cannot stop it).
        """
        timeout = self.options.hook_timeout_s or spec.timeout_s
        for name, value in self.environment(spec).items():
            if name not in _KEEP:
                os.environ[name] = value
        execution_id = str(event["executionId"])
        label = f"{stage.value} (rollback)" if rollback else stage.value
        self.timeline.emit(
            "hook-start",
            f"{label} → {spec.function_name}"
            + (f" · hookDetails {_short(event['hookDetails'])}" if event.get("hookDetails") else ""),
            hook=stage.value,
            execution_id=execution_id,
            rollback=rollback,
        )
        if self._ecs_handler is None:
            self._ecs_handler = load_handler(spec.code_dir, spec.handler)
        self.configure()  # ECS calls again itself (IN_PROGRESS): the chain stays unused
        context = LocalLambdaContext(function_name=spec.function_name, timeout_s=timeout, region=self.options.region)
        # A stream (write and flush) is all the log handler and redirect_stdout use.
        captured = _CapturedLog(self._open_log())
        log = cast(TextIO, captured)
        send_logs_to(log)
        started = time.monotonic()
        outcome = _call_in_thread(
            self._ecs_handler,
            event,
            context,
            timeout_s=timeout,
            log=log,
            name=f"hook-{stage.value}",
        )
        duration = time.monotonic() - started
        if "summary" not in outcome and "error" not in outcome:
            outcome["error"] = f"no answer within the function timeout of {timeout:g} s"
        answer = interpret(outcome)
        summary = _verdict_logged(captured.lines(), execution_id)
        reason = answer.reason
        if summary and summary.get("reason"):
            reason = f"{reason} — {summary['reason']}"
        shown = _SHOWN[answer.hook_status]
        self.timeline.emit(
            "hook",
            f"{label}: {answer.hook_status} in {duration * 1000:.0f} ms — {reason}",
            detail=check_lines(summary) if summary else [],
            hook=stage.value,
            status=shown,
            hook_status=answer.hook_status,
            reason=reason,
            rollback=rollback,
            checks=(summary or {}).get("checks", []),
        )
        raw = outcome.get("summary")
        run = HookRun(
            stage.value,
            spec.function_name,
            execution_id,
            shown,
            reason,
            summary,
            round(duration, 3),
            hook_status=answer.hook_status,
            answer=raw if isinstance(raw, dict) else None,
            rollback=rollback,
        )
        return run, answer


def interpret(outcome: dict[str, Any]) -> EcsAnswer:
    """What ECS makes of one call: a raised error, no answer, or a missing or invalid ``hookStatus`` is FAILED.

    Parameters
    ----------
    outcome : dict
        ``summary``: what the handler returned; ``error``: what it raised (or why there is no answer).
    """
    if "error" in outcome:
        return EcsAnswer("FAILED", 0.0, {}, f"the function failed ({outcome['error']}): ECS rolls back")
    answer = outcome.get("summary")
    if not isinstance(answer, dict):
        return EcsAnswer(
            "FAILED", 0.0, {}, f"the function returned {type(answer).__name__}, expected an object with hookStatus"
        )
    status = answer.get("hookStatus")
    if status not in HOOK_STATUSES:
        seen = "no hookStatus" if status is None else f"hookStatus {str(status)[:40]!r}"
        return EcsAnswer("FAILED", 0.0, {}, f"{seen}, expected one of {', '.join(HOOK_STATUSES)}: ECS rolls back")
    details = answer.get("hookDetails")
    delay = answer.get("callBackDelay")
    reason = f"returned hookStatus {status}"
    if status == "IN_PROGRESS":
        if isinstance(delay, int | float) and not isinstance(delay, bool) and delay >= 0:
            delay_s = float(delay)
        else:
            if delay is not None:
                reason += f" (callBackDelay {str(delay)[:20]!r} is not a number of seconds: ECS's default used)"
            delay_s = DEFAULT_CALLBACK_DELAY_S
        reason += f", callBackDelay {delay_s:g} s"
    else:
        delay_s = 0.0
    return EcsAnswer(str(status), delay_s, dict(details) if isinstance(details, dict) else {}, reason)


def _verdict_logged(lines: list[str], execution_id: str) -> dict[str, Any] | None:
    """The verdict summary the runner logged for this execution id (its last), if any."""
    found: dict[str, Any] | None = None
    for line in lines:
        if '"verdict"' not in line:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        verdict = record.get("verdict") if isinstance(record, dict) else None
        if isinstance(verdict, dict) and record.get("execution_id") in (None, execution_id):
            found = verdict
    return found


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, default=str, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"
