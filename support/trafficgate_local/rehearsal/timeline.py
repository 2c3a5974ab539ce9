"""What a rehearsal records and shows: the timeline of events, a progress bar, and the run's records.

:class:`Timeline` keeps every event as data (the ``--json`` output and the tests read it) and,
when given a stream, prints each one as it happens. :class:`HookRun` and :class:`RehearsalResult`
are the records a rehearsal hands back.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any, TextIO

__all__ = ["HookRun", "RehearsalResult", "Timeline", "check_lines"]


@dataclass
class HookRun:
    """One hook of the rehearsal: which function ran and the verdict the stand-in recorded.

    Attributes
    ----------
    hook, function_name, execution_id : str
        The lifecycle event, the function that ran for it, the execution id it was given.
    status : str
        ``Succeeded`` or ``Failed`` as reported, or ``NoReport`` when nothing was recorded in time.
    reason : str
        The handler's reason, or why there is no verdict.
    summary : dict or None
        What the handler returned, when it returned.
    duration_s : float
        Wall time of the call, rounded to milliseconds.
    hook_status : str or None
        ECS only: the ``hookStatus`` the function returned (``SUCCEEDED``, ``FAILED``,
        ``IN_PROGRESS``), or ``FAILED`` when it returned none or raised (``status`` says it in
        CodeDeploy's words: ``Succeeded``, ``Failed``, ``InProgress``).
    answer : dict or None
        ECS only: what the function returned, as returned.
    rollback : bool
        ECS only: a call made while rolling back, whose answer cannot stop the rollback.
    """

    hook: str
    function_name: str
    execution_id: str
    status: str  # Succeeded, Failed, or "NoReport" (ECS: also InProgress)
    reason: str
    summary: dict[str, Any] | None
    duration_s: float
    hook_status: str | None = None
    answer: dict[str, Any] | None = None
    rollback: bool = False


@dataclass
class RehearsalResult:
    """The record of one rehearsal: its verdict, its hooks, where production traffic ended, the timeline."""

    scenario: str
    deployment_config: str
    deployment_id: str
    status: str  # Succeeded or Failed (rolled back)
    reason: str
    failed_hook: str | None
    hooks: list[HookRun]
    production_target_groups: dict[str, int]
    timeline: list[dict[str, Any]]
    duration_s: float
    #: Unix time the timeline's 0 stands for: places the probe bursts on the ``--html`` page.
    started_at: float | None = None
    #: ``codedeploy`` or ``ecs``.
    platform: str = "codedeploy"
    #: The deployment's final status in the platform's words (CodeDeploy ``Succeeded``/``Failed``,
    #: ECS ``SUCCESSFUL``/``ROLLBACK_SUCCESSFUL``).
    deployment_status: str = ""

    @property
    def succeeded(self) -> bool:
        """True when every hook reported Succeeded and production traffic ended on green."""
        return self.status == "Succeeded"

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form that ``trafficgate rehearse --json`` prints."""
        return {
            "platform": self.platform,
            "scenario": self.scenario,
            "deployment_config": self.deployment_config,
            "deployment_id": self.deployment_id,
            "status": self.status,
            "reason": self.reason,
            "failed_hook": self.failed_hook,
            "deployment_status": self.deployment_status,
            "production_target_groups": self.production_target_groups,
            "duration_s": round(self.duration_s, 3),
            "hooks": [h.__dict__ for h in self.hooks],
            "timeline": self.timeline,
        }


class Timeline:
    """Records every event and, when live, prints it as it happens.

    Parameters
    ----------
    out : text stream or None
        Where to print each event; ``None`` records silently.
    """

    def __init__(self, out: TextIO | None) -> None:
        self.events: list[dict[str, Any]] = []
        self._out = out
        self._started = time.monotonic()
        self.started_at = time.time()
        self._progress_shown = False

    def elapsed(self) -> float:
        """Seconds since the timeline started."""
        return time.monotonic() - self._started

    def emit(self, kind: str, text: str, *, detail: list[str] | None = None, **data: Any) -> None:
        """Record one event (``kind``, ``text`` and ``data``) and print it with its ``detail`` lines."""
        event = {"t": round(self.elapsed(), 3), "kind": kind, "text": text, **data}
        self.events.append(event)
        if self._out is not None:
            self._clear_progress()
            print(f"[{event['t']:6.2f}s] {text}", file=self._out)
            for line in detail or []:
                print(f"          {line}", file=self._out)
            self._out.flush()

    def progress(self, label: str, done: int, total: int) -> None:
        """A one-line progress bar on a terminal; nothing on a pipe (pasted output stays clean)."""
        if self._out is None or not sys.stderr.isatty():
            return
        from trafficgate_local.render import progress_bar

        sys.stderr.write("\r          " + progress_bar(label, done, total))
        sys.stderr.flush()
        self._progress_shown = True

    def sleep(self, seconds: float, label: str) -> None:
        """Wait ``seconds``, showing the wait as progress in tenths of a second."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            done = int((seconds - left) * 10)
            self.progress(label, done, int(seconds * 10))
            time.sleep(min(0.1, left))

    def _clear_progress(self) -> None:
        if self._progress_shown:
            sys.stderr.write("\r" + " " * 72 + "\r")
            sys.stderr.flush()
            self._progress_shown = False


def check_lines(summary: dict[str, Any]) -> list[str]:
    """Return one line per check of a verdict summary (and one per warning), for a hook's detail.

    Parameters
    ----------
    summary : dict
        What a handler returned (``checks``: id, outcome, value, threshold, reason, warnings).

    Returns
    -------
    list of str
        ``<id>: <outcome>[ flag] · value … · threshold … · <reason>``, then ``  ! <warning>`` lines.
    """
    from trafficgate_local.render import short

    lines = []
    for c in summary.get("checks", []):
        flag = " [dry run]" if c.get("dry_run") else ""
        lines.append(
            f"{c['id']}: {c['outcome']}{flag} · value {short(c.get('value'))} · threshold {short(c.get('threshold'))}"
            f" · {c.get('reason', '')}"
        )
        lines.extend(f"  ! {w}" for w in c.get("warnings") or [])
    return lines
