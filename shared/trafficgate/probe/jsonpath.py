"""A tiny JSON path resolver: ``$.a.b[0].c``, ``a.b[0]``, ``$['key.with.dots']``.

Only member access and list indexes are supported (no wildcards, filters or slices): the
probe checks one known field of a health document, and a full JSONPath dependency would be
out of proportion for that.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Final

from trafficgate.probe.exceptions import ProbeConfigError

#: One step of a parsed path: a member name (str) or a list index (int).
Step = str | int


class _Missing:
    """Sentinel type for "the path does not exist in the document"."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


#: Returned by :func:`resolve` when the path is absent.
MISSING: Final = _Missing()

_NAME = re.compile(r"[^.\[\]'\"\s]+")
_INDEX = re.compile(r"\[(-?\d+)\]")
_QUOTED = re.compile(r"""\[(?:'([^']*)'|"([^"]*)")\]""")


@lru_cache(maxsize=256)
def parse(path: str) -> tuple[Step, ...]:
    """Parse a path into steps.

    Parameters
    ----------
    path
        ``$`` (the whole document), ``$.a.b[0]``, ``a.b[0]``, ``$[2].name`` or
        ``$['key.with.dots']``.

    Returns
    -------
    tuple
        Member names (``str``) and list indexes (``int``) in order.

    Raises
    ------
    ProbeConfigError
        With the position of the first character that could not be parsed.
    """
    text = path.strip()
    if not text:
        raise ProbeConfigError("JSON path is empty; use e.g. '$.status' or 'items[0].id'")
    pos = 0
    steps: list[Step] = []
    if text.startswith("$"):
        pos = 1
    else:
        # Bare form "a.b[0]": the first member name has no leading dot.
        m = _NAME.match(text)
        if m is None:
            raise _syntax_error(path, 0)
        steps.append(m.group(0))
        pos = m.end()
    while pos < len(text):
        ch = text[pos]
        if ch == ".":
            m = _NAME.match(text, pos + 1)
            if m is None:
                raise _syntax_error(path, pos + 1)
            steps.append(m.group(0))
            pos = m.end()
        elif ch == "[":
            if m_index := _INDEX.match(text, pos):
                steps.append(int(m_index.group(1)))
                pos = m_index.end()
            elif m_quoted := _QUOTED.match(text, pos):
                steps.append(m_quoted.group(1) if m_quoted.group(1) is not None else m_quoted.group(2))
                pos = m_quoted.end()
            else:
                raise _syntax_error(path, pos)
        else:
            raise _syntax_error(path, pos)
    return tuple(steps)


def _syntax_error(path: str, pos: int) -> ProbeConfigError:
    return ProbeConfigError(f"invalid JSON path {path!r} at position {pos}; supported: $.a.b[0].c, a.b[0], $['a.b']")


def resolve(document: Any, path: str | tuple[Step, ...]) -> Any:
    """Return the value at ``path`` in ``document``, or :data:`MISSING`.

    A list index may be negative (``[-1]`` is the last item). Member access on a list or
    an index on an object does not match: the result is :data:`MISSING`.
    """
    steps = parse(path) if isinstance(path, str) else path
    current = document
    for step in steps:
        if isinstance(step, int):
            if not isinstance(current, list) or not -len(current) <= step < len(current):
                return MISSING
            current = current[step]
        else:
            if not isinstance(current, dict) or step not in current:
                return MISSING
            current = current[step]
    return current


def json_equal(actual: Any, expected: Any) -> bool:
    """Compare JSON values the way JSON means them: ``true`` is not ``1``, ``1`` is ``1.0``."""
    if isinstance(actual, bool) or isinstance(expected, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and actual is expected
    if isinstance(actual, dict) and isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(json_equal(actual[k], expected[k]) for k in actual)
    if isinstance(actual, list) and isinstance(expected, list | tuple):
        return len(actual) == len(expected) and all(json_equal(a, e) for a, e in zip(actual, expected, strict=True))
    return bool(actual == expected)
