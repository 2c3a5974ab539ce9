"""The pictures of a page, as inline SVG: latency CDFs with their limits, counts over time, the timeline.

Pure functions from data to markup: no scripts, no fonts, nothing fetched. Every text goes through
:func:`~trafficgate_local.report_html.text.esc`; every number placed in an attribute is computed here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from trafficgate_local.report_html.evidence import Bins, Limit, Series
from trafficgate_local.report_html.text import esc, fmt_ms

__all__ = ["COLOURS", "Interval", "Mark", "cdf_chart", "over_time_chart", "timeline_chart"]

COLOURS = {"green": "#1a9850", "blue": "#2166ac", "": "#1a9850", "limit": "#d73027", "fail": "#d73027"}
_STATUS_COLOURS = {"Succeeded": "#1a9850", "Failed": "#d73027", "NoReport": "#984ea3"}
_W, _H = 640, 300
_LEFT, _RIGHT, _TOP, _BOTTOM = 56, 16, 14, 40


def _f(value: float) -> str:
    return f"{value:.1f}"


def _svg(width: int, height: int, label: str, body: Sequence[str], css_class: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{esc(label, 200)}">'
        f"<title>{esc(label, 200)}</title>{''.join(body)}</svg>"
    )


def _nice_step(span: float, most: int) -> float:
    raw = span / max(most, 1)
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)


@dataclass(frozen=True)
class _Scale:
    lo: float
    hi: float
    a: float  # pixel of lo
    b: float  # pixel of hi
    log: bool

    def __call__(self, value: float) -> float:
        if self.log:
            value = max(value, self.lo)
            share = (math.log10(value) - math.log10(self.lo)) / (math.log10(self.hi) - math.log10(self.lo))
        else:
            share = (value - self.lo) / (self.hi - self.lo)
        return self.a + min(max(share, 0.0), 1.0) * (self.b - self.a)

    def ticks(self) -> list[float]:
        if self.log:
            found = [
                m * 10.0**d
                for d in range(math.floor(math.log10(self.lo)), math.ceil(math.log10(self.hi)) + 1)
                for m in (1, 2, 5)
            ]
            return [v for v in found if self.lo <= v <= self.hi]
        step = _nice_step(self.hi - self.lo, 6)
        return [self.lo + i * step for i in range(int((self.hi - self.lo) / step + 1e-9) + 1)]


def _latency_scale(values: Sequence[float], a: float, b: float) -> _Scale:
    lo, hi = min(values), max(values)
    if lo > 0 and hi / lo >= 20:
        return _Scale(max(lo, 0.05) / 1.25, hi * 1.25, a, b, log=True)
    return _Scale(0.0, hi * 1.1 if hi > 0 else 1.0, a, b, log=False)


def _step_path(values: Sequence[float], x: _Scale, y: _Scale) -> str:
    n = len(values)
    parts = [f"M{_f(x(values[0]))},{_f(y(0.0))}"]
    for i, value in enumerate(values, 1):
        parts.append(f"H{_f(x(value))}V{_f(y(i / n))}")
    parts.append(f"H{_f(x.b)}")
    return "".join(parts)


def _label(side: str, listener: str) -> str:
    return side or (f"{listener} listener" if listener else "responses")


def cdf_chart(series: Sequence[Series], limits: Sequence[Limit], *, title: str, listener: str = "") -> str:
    """The latency CDF of each side (green over blue) with each limit: a dashed line at ``limit_ms``.

    A limit ``q`` passes when the curve reaches ``q`` to the left of its line; the measured
    quantile is a dot on the ``q`` line.
    """
    everything = [v for s in series for v in s.values] + [lim.limit_ms for lim in limits]
    left, right, bottom = _LEFT, _W - _RIGHT, _H - _BOTTOM
    x = _latency_scale(everything or [1.0], left, right)
    y = _Scale(0.0, 1.0, bottom, _TOP, log=False)
    body = [f'<rect x="{left}" y="{_TOP}" width="{right - left}" height="{bottom - _TOP}" class="plot"/>']
    for tick in x.ticks():
        px = _f(x(tick))
        body.append(f'<line x1="{px}" y1="{_TOP}" x2="{px}" y2="{bottom}" class="grid"/>')
        body.append(f'<text x="{px}" y="{bottom + 14}" class="tick" text-anchor="middle">{esc(fmt_ms(tick))}</text>')
    for share in (0.0, 0.25, 0.5, 0.75, 0.9, 1.0):
        py = _f(y(share))
        body.append(f'<line x1="{left}" y1="{py}" x2="{right}" y2="{py}" class="grid"/>')
        body.append(f'<text x="{left - 6}" y="{py}" class="tick" text-anchor="end" dy="0.35em">{share:.0%}</text>')
    body.append(
        f'<text x="{(left + right) / 2}" y="{_H - 6}" class="axis" text-anchor="middle">'
        f"latency ({'log scale' if x.log else 'linear'}); share of responses at most that fast</text>"
    )
    for s in series:  # blue first: green is drawn on top
        body.append(
            f'<path class="cdf cdf-{esc(s.side or "single")}" d="{_step_path(s.values, x, y)}" fill="none" '
            f'stroke="{COLOURS.get(s.side, COLOURS[""])}" stroke-width="2">'
            f"<title>{esc(_label(s.side, listener))}: {len(s.values)} latencies</title></path>"
        )
    for lim in limits:
        px, py = _f(x(lim.limit_ms)), _f(y(lim.q / 100))
        text = f"p{lim.q:g} ≤ {fmt_ms(lim.limit_ms)}"
        body.append(
            f'<g class="threshold" data-quantile="{lim.q:g}" data-limit-ms="{lim.limit_ms:g}">'
            f'<line x1="{px}" y1="{_TOP}" x2="{px}" y2="{bottom}" stroke="{COLOURS["limit"]}" stroke-dasharray="5,3"/>'
            f'<line x1="{left}" y1="{py}" x2="{px}" y2="{py}" stroke="{COLOURS["limit"]}" stroke-dasharray="2,3"/>'
            f'<text x="{px}" y="{_f(y(0.5))}" dx="-4" class="limit" text-anchor="end">{esc(text)}</text>'
            f"<title>limit: {esc(text)}</title></g>"
        )
        if lim.measured_ms is not None:
            colour = COLOURS["fail"] if lim.ok is False else "#333"
            body.append(
                f'<circle class="measured" cx="{_f(x(lim.measured_ms))}" cy="{py}" r="4" fill="{colour}">'
                f"<title>measured p{lim.q:g}: {esc(fmt_ms(lim.measured_ms))}</title></circle>"
            )
    for row, s in enumerate(reversed(series)):  # the legend, bottom right, where a CDF is never drawn
        ly = bottom - 12 - 16 * row
        stats = f"{_label(s.side, listener)}: n={len(s.values)}, median {fmt_ms(s.values[(len(s.values) - 1) // 2])}"
        body.append(
            f'<line x1="{right - 230}" y1="{ly}" x2="{right - 212}" y2="{ly}" '
            f'stroke="{COLOURS.get(s.side, COLOURS[""])}" stroke-width="3"/>'
            f'<text x="{right - 206}" y="{ly}" dy="0.35em" class="legend">{esc(stats, 60)}</text>'
        )
    return _svg(_W, _H, title, body, "chart cdf-chart")


def over_time_chart(bins: Sequence[Bins], *, title: str) -> str:
    """Requests and failures per time bin since each side's burst began: grey bars, failures in red."""
    left, right, bottom = _LEFT, _W - _RIGHT, 170 - 34
    height = 170
    span_ms = max(len(b.requests) * b.bin_ms for b in bins)
    most = max(max(b.requests) for b in bins) or 1
    x = _Scale(0.0, span_ms / 1000, left, right, log=False)
    y = _Scale(0.0, float(most), bottom, _TOP, log=False)
    body = [f'<rect x="{left}" y="{_TOP}" width="{right - left}" height="{bottom - _TOP}" class="plot"/>']
    for tick in x.ticks():
        body.append(f'<text x="{_f(x(tick))}" y="{bottom + 14}" class="tick" text-anchor="middle">{tick:g} s</text>')
    for tick in (0, most):
        body.append(f'<text x="{left - 6}" y="{_f(y(tick))}" dy="0.35em" class="tick" text-anchor="end">{tick}</text>')
    body.append(
        f'<text x="{(left + right) / 2}" y="{height - 6}" class="axis" text-anchor="middle">seconds since the burst '
        f"began; bars: requests ended per {esc(fmt_ms(bins[0].bin_ms))}, red: failed</text>"
    )
    for k, b in enumerate(bins):
        bar_w = max((x(b.bin_ms / 1000) - x(0)) / len(bins) - 1, 1.0)
        for i, (count, failed) in enumerate(zip(b.requests, b.failures, strict=True)):
            if not count and not failed:
                continue
            bx = x(i * b.bin_ms / 1000) + k * (bar_w + 1)
            t0, t1 = i * b.bin_ms / 1000, (i + 1) * b.bin_ms / 1000
            tip = f"{esc(b.side or 'requests')} {t0:g}-{t1:g} s: {count} ended, {failed} failed"
            colour = COLOURS.get(b.side, "#999") if b.side else "#999"
            body.append(
                f'<rect class="requests" x="{_f(bx)}" y="{_f(y(count))}" width="{_f(bar_w)}" '
                f'height="{_f(bottom - y(count))}" fill="{colour}" opacity="0.45"><title>{tip}</title></rect>'
            )
            if failed:
                body.append(
                    f'<rect class="failures" data-failures="{failed}" x="{_f(bx)}" y="{_f(y(failed))}" '
                    f'width="{_f(bar_w)}" height="{_f(bottom - y(failed))}" fill="{COLOURS["fail"]}">'
                    f"<title>{tip}</title></rect>"
                )
    return _svg(_W, height, title, body, "chart over-time-chart")


@dataclass(frozen=True)
class Interval:
    """A hook on the timeline: from ``start`` to ``end`` seconds, coloured by its status."""

    label: str
    start: float
    end: float
    status: str


@dataclass(frozen=True)
class Mark:
    """One moment on the timeline: ``lane`` is ``deployment``, ``traffic``, ``target health`` or ``rollback``."""

    lane: str
    t: float
    text: str


_LANES = ("hooks", "deployment", "traffic", "target health", "rollback", "failures")


def timeline_chart(
    intervals: Sequence[Interval],
    marks: Sequence[Mark],
    placed: Sequence[tuple[float, Bins]],
    *,
    duration_s: float,
    title: str,
) -> str:
    """The whole run on one time axis: hooks as bars, events as ticks, failed requests where they happened.

    ``placed`` are the probe bursts with their start in seconds on this axis.
    """
    lanes = [lane for lane in _LANES if lane == "hooks" or any(m.lane == lane for m in marks)]
    if placed:
        lanes.append("failures")
    left, right = 110, _W + 200 - _RIGHT
    width, lane_h = _W + 200, 30
    bottom = _TOP + lane_h * len(lanes)
    height = bottom + 34
    x = _Scale(0.0, max(duration_s, 0.001), left, right, log=False)
    row = {lane: _TOP + lane_h * i for i, lane in enumerate(lanes)}
    body = [f'<rect x="{left}" y="{_TOP}" width="{right - left}" height="{bottom - _TOP}" class="plot"/>']
    for lane, top in row.items():
        body.append(
            f'<text x="{left - 6}" y="{top + lane_h / 2}" dy="0.35em" class="tick" text-anchor="end">{lane}</text>'
        )
    for tick in x.ticks():
        px = _f(x(tick))
        body.append(f'<line x1="{px}" y1="{_TOP}" x2="{px}" y2="{bottom}" class="grid"/>')
        body.append(f'<text x="{px}" y="{bottom + 14}" class="tick" text-anchor="middle">{tick:g} s</text>')
    body.append(f'<text x="{(left + right) / 2}" y="{height - 6}" class="axis" text-anchor="middle">seconds</text>')
    for iv in intervals:
        x0, x1 = x(iv.start), x(iv.end)
        top = row["hooks"] + 4
        colour = _STATUS_COLOURS.get(iv.status, "#777")
        body.append(
            f'<g class="hook-bar" data-status="{esc(iv.status, 20)}"><rect x="{_f(x0)}" y="{top}" '
            f'width="{_f(max(x1 - x0, 2.0))}" height="{lane_h - 14}" fill="{colour}">'
            f"<title>{esc(iv.label, 80)}: {esc(iv.status, 20)} ({iv.end - iv.start:.2f} s)</title></rect>"
            f'<text x="{_f(x0)}" y="{top + 12}" dx="3" class="bar-label">'
            f"{esc(_initials(iv.label), 12)}</text></g>"
        )
    for m in marks:
        px, top = _f(x(m.t)), row[m.lane]
        colour = COLOURS["fail"] if m.lane == "rollback" else "#555"
        body.append(
            f'<line class="mark" x1="{px}" y1="{top + 4}" x2="{px}" y2="{top + lane_h - 4}" stroke="{colour}" '
            f'stroke-width="2"><title>{m.t:.2f} s: {esc(m.text, 200)}</title></line>'
        )
    if placed:
        top = row["failures"]
        most = max(max(b.requests) for _, b in placed) or 1
        for start, b in placed:
            for i, (count, failed) in enumerate(zip(b.requests, b.failures, strict=True)):
                if not count:
                    continue
                t0 = start + i * b.bin_ms / 1000
                x0, x1 = x(t0), x(t0 + b.bin_ms / 1000)
                for value, colour, css in ((count, "#999", "requests"), (failed, COLOURS["fail"], "failures")):
                    if value:
                        h = (lane_h - 6) * value / most
                        body.append(
                            f'<rect class="{css}" x="{_f(x0)}" y="{_f(top + lane_h - 2 - h)}" '
                            f'width="{_f(max(x1 - x0, 1.0))}" height="{_f(h)}" fill="{colour}">'
                            f"<title>{t0:.2f} s: {count} ended, {failed} failed</title></rect>"
                        )
    return _svg(width, height, title, body, "chart timeline-chart")


def _initials(label: str) -> str:
    """``AfterAllowTestTraffic`` → ``AATT``: a hook's bar is too short for its name."""
    capitals = "".join(c for c in label if c.isupper())
    return capitals or label[:4]
