"""``--html FILE``: a picture of the evidence, one self-contained page for a person to judge a canary by.

``trafficgate check --html`` and ``trafficgate rehearse --html`` write it: the timeline, each
HTTP check's latency distribution (a CDF; green against blue when a check's details carry both
sides) with its limits, requests and failures over time, and every check's verdict. The modules:
:mod:`.text` (hostile strings made safe), :mod:`.evidence` (what a check's details give to draw),
:mod:`.svg` (the pictures) and :mod:`.page` (the HTML around them). Local tooling only, never in
the Lambda layer.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from trafficgate_local.report_html.page import HookView, PageView, render
from trafficgate_local.report_html.text import number

__all__ = ["check_page", "html_target", "rehearsal_page", "write_page"]


def html_target(text: str) -> Path:
    """The file ``--html`` names, checked before anything runs.

    Raises
    ------
    ValueError
        Naming ``--html`` and what is wrong: no name, a directory, a missing or unwritable directory.
    """
    if not text.strip():
        raise ValueError("--html needs a file name")
    path = Path(text).expanduser()
    if path.is_dir():
        raise ValueError(f"--html {text}: is a directory, expected a file name")
    parent = path.parent
    if not parent.is_dir():
        raise ValueError(f"--html {text}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ValueError(f"--html {text}: not writable")
    return path


def write_page(path: Path, page: str) -> None:
    """Write ``page`` to ``path`` whole or not at all (a temporary file in the same directory, then renamed).

    Raises
    ------
    OSError
        When the file cannot be written.
    """
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(page)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _checks(summary: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    checks = (summary or {}).get("checks")
    return [c for c in checks if isinstance(c, Mapping)] if isinstance(checks, list) else []


def check_page(summary: Mapping[str, Any], *, target: str = "", started_at: float | None = None) -> str:
    """The page of one ``trafficgate check`` run: the hook's verdict summary.

    Parameters
    ----------
    summary : mapping
        What the runner returned (``hook``, ``status``, ``reason``, ``duration_ms``, ``checks``).
    target : str
        What was judged (the URLs or the deployment), for the headline.
    started_at : float, optional
        Unix time the hook started: places the probe bursts on the timeline.
    """
    hook, status = str(summary.get("hook", "?")), str(summary.get("status", "?"))
    duration = (number(summary.get("duration_ms")) or 0.0) / 1000
    reason = str(summary.get("reason", ""))
    events = [
        {"t": 0.0, "kind": "hook-start", "text": f"{hook} (dry run, nothing reported)"},
        {"t": round(duration, 3), "kind": "hook", "text": f"{hook}: {status} in {duration * 1000:.0f} ms — {reason}"},
    ]
    view = PageView(
        title=f"Trafficgate check: {hook}",
        status=status,
        headline=reason,
        facts=[("judged", target or "-"), ("deployment", summary.get("deployment_id", "-"))],
        hooks=[HookView(hook, status, reason, _checks(summary), 0.0, duration)],
        events=events,
        duration_s=duration,
        started_at=started_at,
    )
    return render(view)


def rehearsal_page(record: Mapping[str, Any], *, started_at: float | None = None) -> str:
    """The page of one rehearsal: ``RehearsalResult.to_dict()`` and the Unix time the rehearsal started."""
    events = [e for e in record.get("timeline") or [] if isinstance(e, Mapping)]
    starts: dict[str, list[float]] = {}
    ends: dict[str, list[float]] = {}
    for event in events:
        t, hook = number(event.get("t")), event.get("hook")
        if t is not None and isinstance(hook, str):
            {"hook-start": starts, "hook": ends}.get(str(event.get("kind")), {}).setdefault(hook, []).append(t)
    hooks = []
    for run in record.get("hooks") or []:
        if not isinstance(run, Mapping):
            continue
        name = str(run.get("hook", "?"))
        start = starts.get(name, []).pop(0) if starts.get(name) else None
        end = ends.get(name, []).pop(0) if ends.get(name) else None
        hooks.append(
            HookView(
                name, str(run.get("status", "?")), str(run.get("reason", "")), _checks(run.get("summary")), start, end
            )
        )
    status = str(record.get("status", "?"))
    production = record.get("production_target_groups")
    where = ", ".join(f"{k} {v}%" for k, v in production.items()) if isinstance(production, Mapping) else "-"
    view = PageView(
        title=f"Trafficgate rehearsal: {record.get('deployment_id', '?')} ({record.get('scenario', '?')})",
        status="Succeeded" if status == "Succeeded" else "Failed",
        headline=("succeeded: " if status == "Succeeded" else "rolled back: ") + str(record.get("reason", "")),
        facts=[
            ("deployment config", record.get("deployment_config", "-")),
            ("production listener", where),
            ("duration", f"{number(record.get('duration_s')) or 0.0:.1f} s"),
        ],
        hooks=hooks,
        events=events,
        duration_s=number(record.get("duration_s")) or 0.0,
        started_at=started_at,
    )
    return render(view)
