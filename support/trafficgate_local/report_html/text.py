"""Text that came from green, made safe for a page: cut to a bound, control characters shown, escaped.

Whatever a check reports may carry what green sent: reasons, details and warnings hold response
bodies, header values and error text. Secrets are masked before they reach a verdict summary; here
every string is cut first (so an entity is never cut in half), then its control, bidirectional and
surrogate characters are written as visible escapes, then it is HTML-escaped, quotes included.
"""

from __future__ import annotations

import html
import json
import math
import re
from typing import Any

__all__ = ["MAX_TEXT", "clean", "esc", "fmt_ms", "number"]

#: The most characters of one string a page shows (a reason, a detail value, a timeline line).
MAX_TEXT = 400
#: C0 and C1 controls (tab and newline kept), DEL, line and paragraph separators, bidirectional
#: marks, overrides and isolates (they reorder what a reader sees), zero-width characters and the
#: byte-order mark (they hide text), lone surrogates (not encodable).
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"
)


def clean(value: Any, limit: int = MAX_TEXT) -> str:
    """Return ``value`` as text of at most ``limit`` characters (plus a note of what was cut), not escaped.

    Parameters
    ----------
    value : Any
        A string is taken as it is; anything else is shown as compact JSON.
    limit : int
        Characters kept before the note ``… (N more characters)``.
    """
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, default=str, ensure_ascii=False, separators=(", ", ": "))
        except (TypeError, ValueError):  # circular references, NaN in strict mode, ...
            text = type(value).__name__
    if len(text) > limit:
        text = f"{text[:limit]}… ({len(text) - limit} more characters)"
    return _UNSAFE.sub(
        lambda m: f"\\u{ord(m.group()):04x}" if ord(m.group()) > 0xFF else f"\\x{ord(m.group()):02x}", text
    )


def esc(value: Any, limit: int = MAX_TEXT) -> str:
    """:func:`clean`, then HTML-escaped (``<``, ``>``, ``&`` and both quotes): safe in text and attributes."""
    return html.escape(clean(value, limit), quote=True)


#: No measurement on the page (milliseconds, counts, Unix seconds) comes near this; beyond it a
#: value is taken for what it is, hostile or broken, and scales and ticks would overflow on it.
MAX_NUMBER = 1e12


def number(value: Any) -> float | None:
    """``value`` as a finite float within ±:data:`MAX_NUMBER`, or None for anything else
    (booleans, strings, NaN, infinities, integers too large for a float)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        result = float(value)
    except OverflowError:
        return None
    return result if math.isfinite(result) and abs(result) <= MAX_NUMBER else None


def fmt_ms(value: float) -> str:
    """A latency for an axis or a label: ``0.4 ms``, ``12 ms``, ``1.5 s``."""
    if value >= 1000:
        return f"{value / 1000:g} s"
    if value >= 10:
        return f"{value:.0f} ms"
    return f"{value:.1f} ms".replace(".0 ms", " ms")
