"""One self-contained HTML page of the evidence: headline, timeline, and each hook's checks with their pictures.

The page holds no script and loads nothing: its style is inline, its pictures are inline SVG, and
its Content-Security-Policy forbids anything else, so that even a string that escaped escaping
could not run or fetch. Everything shown is bounded (:data:`MAX_EVENTS`, :data:`MAX_CHECKS`, ...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from trafficgate_local.report_html.evidence import Bins, bins_of, latency_limits, latency_series
from trafficgate_local.report_html.svg import Interval, Mark, cdf_chart, over_time_chart, timeline_chart
from trafficgate_local.report_html.text import esc, number

__all__ = ["MAX_CHECKS", "MAX_EVENTS", "MAX_HOOKS", "HookView", "PageView", "render"]

MAX_EVENTS = 500
MAX_HOOKS = 20
MAX_CHECKS = 100
#: Detail entries shown per check, and the characters of each value.
MAX_DETAILS, DETAIL_CHARS = 14, 160
MAX_WARNINGS = 5
#: Details drawn as pictures or too long to list; the rest are the "key details", these first.
_DRAWN = frozenset({"latency_samples_ms", "over_time", "assertions", "failure_samples", "warnings"})
_FIRST = (
    "url",
    "listener",
    "completed",
    "successes",
    "failures",
    "status_counts",
    "error_counts",
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "latency_max_ms",
    "stopped_early",
    "deadline_hit",
    "green",
    "blue",
)
_LANES = {
    "setup": "deployment",
    "deployment": "deployment",
    "install": "deployment",
    "traffic": "traffic",
    "target-health": "target health",
    "rollback": "rollback",
}
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 6px}h3{font-size:15px;margin:18px 0 4px}
.status-Succeeded,.outcome-pass .outcome{color:#1a7f37}.status-Failed{color:#c62828}
.outcome-fail .outcome,.outcome-error .outcome{color:#c62828;font-weight:600}
.status-NoReport,.outcome-inconclusive .outcome{color:#8a5a00}.headline{font-size:16px}
table{border-collapse:collapse;width:100%;margin:6px 0}td,th{border-top:1px solid #ddd;padding:4px 6px;
text-align:left;vertical-align:top}th{background:#f4f4f4}td.reason{max-width:420px;overflow-wrap:anywhere}
.kv{margin:0;padding:0;list-style:none;font-size:12px;overflow-wrap:anywhere}.kv b{font-weight:600}
ol.events{font:12px/1.4 ui-monospace,monospace;padding-left:0;list-style:none;overflow-wrap:anywhere}
.warn{color:#8a5a00;font-size:12px}figure{margin:10px 0 18px}figcaption{font-weight:600}
svg.chart{display:block;max-width:100%;height:auto;margin:4px 0}.plot{fill:#fafafa;stroke:#ccc}
.grid{stroke:#e3e3e3}.tick,.legend,.bar-label,.limit{font:11px sans-serif;fill:#444}.bar-label{fill:#fff}
.axis{font:11px sans-serif;fill:#666}.limit{fill:#c62828}.note{color:#666;font-size:12px}
"""


@dataclass
class HookView:
    """One hook's verdict: its name, status, reason, duration (s) and the summary's checks."""

    hook: str
    status: str
    reason: str
    checks: Sequence[Mapping[str, Any]]
    start_s: float | None = None
    end_s: float | None = None


@dataclass
class PageView:
    """Everything one page shows; ``started_at`` (Unix time) places the probe bursts on the timeline."""

    title: str
    status: str
    headline: str
    facts: Sequence[tuple[str, Any]]
    hooks: Sequence[HookView]
    events: Sequence[Mapping[str, Any]]
    duration_s: float
    started_at: float | None = None
    notes: list[str] = field(default_factory=list)


def render(view: PageView) -> str:
    """The whole page as one string of HTML."""
    hooks = list(view.hooks)[:MAX_HOOKS]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(view.title, 200)}</title><style>{_STYLE}</style></head><body>",
        f"<header><h1>{esc(view.title, 200)}</h1>",
        f'<p class="headline" id="verdict"><b class="status-{_token(view.status)}">{esc(view.status, 40)}</b>: '
        f"{esc(view.headline)}</p>",
        '<ul class="kv facts">'
        + "".join(f"<li><b>{esc(k, 60)}</b>: {esc(v, 200)}</li>" for k, v in view.facts)
        + "</ul></header>",
        _timeline(view, hooks),
    ]
    if len(view.hooks) > MAX_HOOKS:
        parts.append(f'<p class="note">{len(view.hooks) - MAX_HOOKS} more hooks not shown</p>')
    parts.extend(_hook(h) for h in hooks)
    parts.extend(f'<p class="note">{esc(note)}</p>' for note in view.notes)
    parts.append("</body></html>")
    return "\n".join(parts)


def _token(text: str) -> str:
    """A class-name token from a status or outcome: letters only, so it can never leave the attribute."""
    return "".join(c for c in text if c.isascii() and c.isalpha())[:60] or "unknown"


def _timeline(view: PageView, hooks: Sequence[HookView]) -> str:
    events = list(view.events)[:MAX_EVENTS]
    intervals = [
        Interval(h.hook, h.start_s, h.end_s, h.status) for h in hooks if h.start_s is not None and h.end_s is not None
    ]
    marks = []
    for event in events:
        lane, t = _LANES.get(str(event.get("kind"))), number(event.get("t"))
        if lane is not None and t is not None:
            marks.append(Mark(lane, t, str(event.get("text", ""))))
    placed: list[tuple[float, Bins]] = []
    if view.started_at is not None:
        for h in hooks:
            for check in list(h.checks)[:MAX_CHECKS]:
                for b in bins_of(check):
                    if b.started_at is not None and 0 <= b.started_at - view.started_at <= view.duration_s + 60:
                        placed.append((b.started_at - view.started_at, b))
    duration = max([view.duration_s, *(iv.end for iv in intervals), *(m.t for m in marks)])
    chart = timeline_chart(intervals, marks, placed, duration_s=duration, title="timeline of the run")
    items = "".join(
        f'<li data-kind="{esc(e.get("kind"), 30)}"><span class="t">[{number(e.get("t")) or 0.0:7.2f}s]</span> '
        f"{esc(e.get('text', ''))}</li>"
        for e in events
    )
    more = (
        f'<p class="note">{len(view.events) - MAX_EVENTS} more events not shown</p>'
        if len(view.events) > MAX_EVENTS
        else ""
    )
    return f'<section id="timeline"><h2>Timeline</h2>{chart}<ol class="events">{items}</ol>{more}</section>'


def _hook(h: HookView) -> str:
    checks = [c for c in h.checks if isinstance(c, Mapping)][:MAX_CHECKS]
    rows = "".join(_check_row(c) for c in checks)
    figures = "".join(_figures(h.hook, c) for c in checks)
    more = len(h.checks) - len(checks)
    return (
        f'<section class="hook" id="hook-{_token(h.hook)}" data-hook="{esc(h.hook, 60)}">'
        f'<h2>{esc(h.hook, 60)}: <span class="status status-{_token(h.status)}">{esc(h.status, 40)}</span></h2>'
        f'<p class="reason">{esc(h.reason)}</p>'
        + (
            '<table class="checks"><tr><th>check</th><th>outcome</th><th>reason</th><th>value</th>'
            f"<th>threshold</th><th>key details</th></tr>{rows}</table>"
            if rows
            else '<p class="note">no check results</p>'
        )
        + (f'<p class="note">{more} more checks not shown</p>' if more > 0 else "")
        + figures
        + "</section>"
    )


def _check_row(check: Mapping[str, Any]) -> str:
    outcome = str(check.get("outcome", "?"))
    flag = " (dry run)" if check.get("dry_run") is True else ""
    raw = check.get("warnings")
    warnings: list[Any] = raw if isinstance(raw, list) else []
    warned = "".join(f'<div class="warn">! {esc(w, 300)}</div>' for w in warnings[:MAX_WARNINGS])
    if len(warnings) > MAX_WARNINGS:
        warned += f'<div class="warn">… {len(warnings) - MAX_WARNINGS} more warnings</div>'
    return (
        f'<tr class="check outcome-{_token(outcome)}" data-check="{esc(check.get("id", "?"), 100)}">'
        f'<td class="check-id"><code>{esc(check.get("id", "?"), 100)}</code></td>'
        f'<td class="outcome">{esc(outcome, 20)}{flag}</td>'
        f'<td class="reason">{esc(check.get("reason", ""))}{warned}</td>'
        f'<td class="value">{esc(check.get("value"), 80)}</td>'
        f'<td class="threshold">{esc(check.get("threshold"), 80)}</td>'
        f"<td>{_key_details(check.get('details'))}</td></tr>"
    )


def _key_details(details: Any) -> str:
    if not isinstance(details, Mapping):
        return ""
    keys = [k for k in _FIRST if k in details] + [k for k in details if k not in _DRAWN and k not in _FIRST]
    shown = "".join(
        f"<li><b>{esc(k, 40)}</b>: {esc(_undrawn(details[k]), DETAIL_CHARS)}</li>" for k in keys[:MAX_DETAILS]
    )
    if len(keys) > MAX_DETAILS:
        shown += f"<li>… {len(keys) - MAX_DETAILS} more</li>"
    return f'<ul class="kv">{shown}</ul>'


def _undrawn(value: Any) -> Any:
    """A side of a comparison (``green``, ``blue``) without what its pictures already show."""
    if isinstance(value, Mapping):
        return {k: v for k, v in value.items() if k not in _DRAWN}
    return value


def _figures(hook: str, check: Mapping[str, Any]) -> str:
    series, bins = latency_series(check), bins_of(check)
    if not series and not bins:
        return ""
    check_id = esc(check.get("id", "?"), 100)
    details = check.get("details")
    listener = details.get("listener") if isinstance(details, Mapping) else None
    listener = listener if isinstance(listener, str) else ""
    sides = " vs ".join(s.side for s in reversed(series) if s.side) or (f"{listener} listener" if listener else "")
    parts = [
        f'<figure class="evidence" data-check="{check_id}"><figcaption>{esc(hook, 60)} · {check_id}'
        f"{' · ' + esc(sides, 80) if sides else ''}</figcaption>"
    ]
    if series:
        parts.append(
            cdf_chart(series, latency_limits(check), title=f"latency CDF of {check.get('id', '?')}", listener=listener)
        )
    else:
        parts.append('<p class="note">no latencies: no response came back</p>')
    if bins:
        parts.append(over_time_chart(bins, title=f"requests and failures over time, {check.get('id', '?')}"))
    parts.append("</figure>")
    return "".join(parts)
