"""Regular expressions that run in linear time: RE2, for every pattern a user gives the probe.

Layer L1 (probe engine). Python's ``re`` backtracks: ``.*healthy`` over a 300 KB one-line body
costs seconds, ``^(a|a)*$`` forever, and it holds the GIL meanwhile, so the deadline guard cannot
even run. RE2 (``google-re2``, Google's engine, the one Go and many linters use) matches in time
linear in the text, with bounded memory; a pattern it cannot run that way (a backreference, a
lookaround) is refused when the configuration or plan is read, with the reason.

RE2 is imported on first use: hooks without a body or header pattern never load it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Protocol

from trafficgate.probe.exceptions import ProbeConfigError

#: Longest pattern accepted (a pattern is configuration, not data).
MAX_PATTERN_CHARS = 1000
#: RE2's memory budget for one compiled pattern (its default is 8 MiB).
MAX_PATTERN_MEMORY = 8 << 20


class Pattern(Protocol):
    """What the probe needs of a compiled pattern."""

    pattern: str

    def search(self, text: str) -> Any: ...


@lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> Pattern:
    """Compile ``pattern`` with RE2 (linear time), or raise :class:`ProbeConfigError` saying why not.

    Raises
    ------
    ProbeConfigError
        The pattern is too long, is not a valid regular expression, or uses what RE2 does not run
        in linear time (backreferences ``\\1``, lookarounds ``(?=...)``, possessive quantifiers).
    """
    if not isinstance(pattern, str):
        raise ProbeConfigError("must be a regular expression string")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise ProbeConfigError(f"is {len(pattern)} characters long; at most {MAX_PATTERN_CHARS} are accepted")
    import re2

    options = re2.Options()
    options.log_errors = False  # the reason goes into our error, not to stderr
    options.max_mem = MAX_PATTERN_MEMORY
    try:
        compiled: Pattern = re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        reason = reason.split(": ", 1)[0] if len(reason) > 120 else reason
        raise ProbeConfigError(
            f"{_show(pattern)} is not a regular expression RE2 accepts ({reason}); "
            "RE2 runs in linear time and has no backreferences or lookarounds"
        ) from None
    except Exception as exc:  # anything else RE2 raises on a hostile pattern: still a named refusal
        raise ProbeConfigError(f"{_show(pattern)} was refused by RE2 ({type(exc).__name__})") from None
    return compiled


def _show(pattern: str) -> str:
    return repr(pattern) if len(pattern) <= 80 else repr(pattern[:77] + "...")
