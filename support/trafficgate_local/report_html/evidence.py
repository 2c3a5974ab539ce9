"""What a page can draw from a check's record: latency samples per side, latency limits, counts over time.

The record is a verdict summary's check (``id``, ``outcome``, ``reason``, ``details``...), as the
hooks return it. Nothing in it is trusted: a custom check may put anything in its details, so every
value is checked for its type, every number for being finite, and every list is bounded.

Where the figures come from:

* ``details["latency_samples_ms"]``: one side (the HTTP probe checks: green, through a listener);
* ``details["green"]["latency_samples_ms"]`` and ``details["blue"]["latency_samples_ms"]``: both
  sides of a comparison; drawn as green against blue;
* ``details["assertions"]``: entries named ``latency_p<q>_ms`` with a numeric ``threshold`` are
  the latency limits (drawn at quantile ``q``);
* ``details["over_time"]`` (or per side): ``started_at``, ``bin_ms``, ``requests``, ``failures``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trafficgate.probe.stats import spread
from trafficgate_local.report_html.text import number

__all__ = ["MAX_BINS", "MAX_POINTS", "Bins", "Limit", "Series", "bins_of", "latency_limits", "latency_series"]

#: The most points of one CDF (a hostile check may report millions of values).
MAX_POINTS = 1000
#: The most time bins of one series.
MAX_BINS = 200
#: The sides of a comparison, in the order they are drawn (blue first, under green).
SIDES = ("blue", "green")
_LIMIT_NAME = re.compile(r"latency_p(\d{1,2}(?:\.\d+)?)_ms")


@dataclass(frozen=True)
class Series:
    """Sorted latencies of one side, in milliseconds (finite, not negative, at most :data:`MAX_POINTS`)."""

    side: str  # "green", "blue", or "" for a single side
    values: tuple[float, ...]


@dataclass(frozen=True)
class Limit:
    """A latency limit: quantile ``q`` (0-100) must be at most ``limit_ms``; ``measured_ms`` when known."""

    q: float
    limit_ms: float
    measured_ms: float | None
    ok: bool | None


@dataclass(frozen=True)
class Bins:
    """Judged and failed requests per time bin of one side, from ``started_at`` (Unix time) when known."""

    side: str
    started_at: float | None
    bin_ms: float
    requests: tuple[int, ...]
    failures: tuple[int, ...]


def _details(check: Mapping[str, Any]) -> Mapping[str, Any]:
    details = check.get("details")
    return details if isinstance(details, Mapping) else {}


def _sides(details: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """``[("blue", …), ("green", …)]`` when the details carry both sides, else ``[("", details)]``."""
    both = [(side, details[side]) for side in SIDES if isinstance(details.get(side), Mapping)]
    return both if len(both) == len(SIDES) else [("", details)]


def _samples(raw: Any) -> tuple[float, ...]:
    if not isinstance(raw, (list, tuple)):
        return ()
    values = sorted(v for v in (number(x) for x in raw[: MAX_POINTS * 100]) if v is not None and v >= 0)
    return tuple(spread(values, MAX_POINTS))


def latency_series(check: Mapping[str, Any]) -> list[Series]:
    """The latency samples of a check, one :class:`Series` per side that has any."""
    found = [Series(side, _samples(part.get("latency_samples_ms"))) for side, part in _sides(_details(check))]
    return [s for s in found if s.values]


def latency_limits(check: Mapping[str, Any]) -> list[Limit]:
    """The latency limits the check judged, from its ``assertions`` (at most 10)."""
    assertions = _details(check).get("assertions")
    if not isinstance(assertions, (list, tuple)):
        return []
    limits = []
    for entry in assertions[:50]:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            continue
        match = _LIMIT_NAME.fullmatch(entry["name"])
        limit = number(entry.get("threshold"))
        if match is None or limit is None or limit <= 0 or not 0 < float(match.group(1)) <= 100:
            continue
        ok = entry.get("ok")
        limits.append(
            Limit(float(match.group(1)), limit, number(entry.get("value")), ok if isinstance(ok, bool) else None)
        )
    return limits[:10]


def _counts(raw: Any) -> tuple[int, ...] | None:
    if not isinstance(raw, (list, tuple)) or len(raw) > MAX_BINS:
        return None
    values = [number(x) for x in raw]
    if any(v is None or v < 0 for v in values):
        return None
    return tuple(int(v) for v in values if v is not None)


def bins_of(check: Mapping[str, Any]) -> list[Bins]:
    """Requests and failures over time, one :class:`Bins` per side that reports them well formed."""
    found = []
    for side, part in _sides(_details(check)):
        over = part.get("over_time")
        if not isinstance(over, Mapping):
            continue
        width = number(over.get("bin_ms"))
        requests, failures = _counts(over.get("requests")), _counts(over.get("failures"))
        # A bin under a microsecond is no picture of anything (and would divide the axis by zero).
        if width is None or width < 1e-3 or requests is None or failures is None or len(requests) != len(failures):
            continue
        if not requests:
            continue
        found.append(Bins(side, number(over.get("started_at")), width, requests, failures))
    return found
