"""Readable rendering of verdict summaries for terminals."""

from __future__ import annotations

import json
import os
import sys
from typing import Any, TextIO

_COLOURS = {"pass": "32", "fail": "31", "error": "31", "inconclusive": "33", "Succeeded": "32", "Failed": "31"}


def use_colour(stream: TextIO) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ


def paint(text: str, key: str, colour: bool) -> str:
    code = _COLOURS.get(key)
    return f"\033[{code}m{text}\033[0m" if colour and code else text


def short(value: Any, limit: int = 40) -> str:
    if value is None:
        return "-"
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def progress_bar(label: str, done: int, total: int, *, width: int = 24) -> str:
    """``label [#####.......] 12/50`` for a one-line progress display."""
    filled = int(width * done / max(total, 1))
    return f"{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} "


def verdict_lines(summary: dict[str, Any], *, colour: bool = False, indent: str = "") -> list[str]:
    """The verdict and one line per check: id, outcome, value, threshold, reason."""
    status = str(summary.get("status", "?"))
    lines = [
        f"{indent}{summary.get('hook', '?')}: {paint(status, status, colour)} "
        f"in {summary.get('duration_ms', 0):.0f} ms (report: {summary.get('report', '?')})",
        f"{indent}  reason: {summary.get('reason', '')}",
    ]
    checks = summary.get("checks") or []
    if checks:
        width = max(len(str(c["id"])) for c in checks)
        for c in checks:
            outcome = str(c["outcome"])
            flag = " (dry run)" if c.get("dry_run") else ""
            lines.append(
                f"{indent}  {str(c['id']).ljust(width)}  {paint(outcome.ljust(12), outcome, colour)}"
                f" value={short(c.get('value'))} threshold={short(c.get('threshold'))}"
                f" {c.get('duration_ms', 0):.0f}ms{flag}"
            )
            lines.append(f"{indent}  {' ' * width}  ↳ {c.get('reason', '')}")
            for warning in c.get("warnings") or []:
                lines.append(f"{indent}  {' ' * width}  ! {warning}")
    return lines


def print_verdict(summary: dict[str, Any], stream: TextIO = sys.stdout) -> None:
    for line in verdict_lines(summary, colour=use_colour(stream)):
        print(line, file=stream)
