"""The accepted range of every number a user can set, declared once next to the field it bounds.

Layer L0 (leaves): imports nothing of ours. A dataclass field says ``bounded(50, Range(1, 10_000,
integer=True))``; the same declaration then validates the value in Python, names the range in
error messages, and becomes ``minimum``/``maximum`` in the published plan JSON Schema, so that the
three can never disagree.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

_METADATA_KEY = "trafficgate.range"


class RangeError(ValueError):
    """A field's value is outside its declared range; ``field`` names it, the message starts with it."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Range:
    """Closed (or, with ``exclusive_minimum``/``exclusive_maximum``, half-open or open) range of a number.

    Parameters
    ----------
    minimum, maximum
        Bounds; ``None`` leaves that side open (avoid it: every user-set number deserves both).
    integer
        Whole numbers only (``True`` and ``False`` are never numbers here).
    exclusive_minimum
        The minimum itself is not allowed (a timeout of 0 s, say).
    exclusive_maximum
        The maximum itself is not allowed (a test's level alpha of 0.5, say).
    """

    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is out of range (``"must be an integer within [1, 10000]"``), or None."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"must be {self.describe()}"
        if self.integer and not isinstance(value, int):
            return f"must be {self.describe()}"
        if not math.isfinite(value):
            return f"must be {self.describe()}"
        low_ok = (
            self.minimum is None
            or (value > self.minimum if self.exclusive_minimum else value >= self.minimum)
        )
        high_ok = (
            self.maximum is None
            or (value < self.maximum if self.exclusive_maximum else value <= self.maximum)
        )
        return None if low_ok and high_ok else f"must be {self.describe()}"

    def describe(self) -> str:
        """``an integer within [1, 10000]``, ``a number > 0 and <= 900``."""
        kind = "an integer" if self.integer else "a number"
        low, high = _text(self.minimum), _text(self.maximum)
        closed = not (self.exclusive_minimum or self.exclusive_maximum)
        if self.minimum is not None and self.maximum is not None and closed:
            return f"{kind} within [{low}, {high}]"
        parts = []
        if self.minimum is not None:
            parts.append(f"{'>' if self.exclusive_minimum else '>='} {low}")
        if self.maximum is not None:
            parts.append(f"{'<' if self.exclusive_maximum else '<='} {high}")
        return f"{kind} {' and '.join(parts)}" if parts else kind

    def json_schema(self) -> dict[str, Any]:
        """The same range in JSON Schema (draft-07) keywords."""
        schema: dict[str, Any] = {"type": "integer" if self.integer else "number"}
        if self.minimum is not None:
            schema["exclusiveMinimum" if self.exclusive_minimum else "minimum"] = self.minimum
        if self.maximum is not None:
            schema["exclusiveMaximum" if self.exclusive_maximum else "maximum"] = self.maximum
        return schema


def bounded(default: Any, valid: Range, **kwargs: Any) -> Any:
    """A dataclass field whose value must lie in ``valid`` (checked by the class's own validation)."""
    return dataclasses.field(default=default, metadata={_METADATA_KEY: valid}, **kwargs)


def range_of(field: dataclasses.Field[Any]) -> Range | None:
    """The range declared on a dataclass field, if any."""
    found = field.metadata.get(_METADATA_KEY)
    return found if isinstance(found, Range) else None


def check_ranges(instance: Any) -> None:
    """Raise :class:`RangeError` for the first bounded field of ``instance`` that is out of range."""
    bad = out_of_range(instance)
    if bad is not None:
        name, problem = bad
        raise RangeError(f"{name} {getattr(instance, name)!r} {problem}", field=name)


def out_of_range(instance: Any) -> tuple[str, str] | None:
    """``(field, problem)`` of the first bounded field of a dataclass instance that is out of range.

    ``None`` values pass: an optional field that is unset has nothing to bound.
    """
    for field in dataclasses.fields(instance):
        valid = range_of(field)
        if valid is None:
            continue
        value = getattr(instance, field.name)
        if value is None:
            continue
        problem = valid.problem(value)
        if problem is not None:
            return field.name, problem
    return None


def _text(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
