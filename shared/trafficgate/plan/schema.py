"""Validation of plan values against the annotations of the dataclass they configure.

Messages name the exact field: ``hooks.AfterAllowTestTraffic[2].max_p95_ms: expected a number``.

Layer L3 (composition); imports only its own exceptions.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, Union

from trafficgate.plan.exceptions import PlanError


def convert(value: Any, annotation: Any, where: str) -> Any:
    """Check ``value`` against a type annotation and return it in that type's form."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is Any:
        return value
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        if len(options) == 1:
            return convert(value, options[0], where)
        errors = []
        for option in options:
            try:
                return convert(value, option, where)
            except PlanError as exc:
                errors.append(str(exc).split(": ", 1)[-1])
        raise PlanError(f"{where}: " + " or ".join(errors))
    if origin is Literal:
        if value not in args:
            raise PlanError(f"{where}: expected one of: {', '.join(str(a) for a in args)}")
        return value
    if annotation is bool:
        if not isinstance(value, bool):
            raise PlanError(f"{where}: expected true or false")
        return value
    if annotation is int:
        # JSON (and JSON Schema) has numbers, not ints: 2.0 is the integer 2; 2.5 and true are not.
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise PlanError(f"{where}: expected an integer")
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise PlanError(f"{where}: expected a number")
        return float(value)
    if annotation is str:
        if not isinstance(value, str):
            raise PlanError(f"{where}: expected a string")
        return value
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise PlanError(f"{where}: expected a list")
        item = args[0] if args else Any
        return tuple(convert(v, item, f"{where}[{i}]") for i, v in enumerate(value))
    if origin in (Mapping, dict) or annotation in (Mapping, dict):
        if not isinstance(value, Mapping):
            raise PlanError(f"{where}: expected a mapping")
        key_t, val_t = args if len(args) == 2 else (Any, Any)
        return {convert(k, key_t, where): convert(v, val_t, f"{where}.{k}") for k, v in value.items()}
    parse = getattr(annotation, "parse", None)
    if callable(parse):  # e.g. StatusSet.parse("200-399")
        if not isinstance(value, str | int):
            raise PlanError(f"{where}: expected a string such as 200-399")
        try:
            return parse(str(value))
        except ValueError as exc:
            raise PlanError(f"{where}: {exc}") from None
    if isinstance(annotation, type) and isinstance(value, annotation):
        return value
    raise PlanError(f"{where}: unsupported value {value!r}")


def dataclass_fields(cls: type, *, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The init fields of a dataclass with their resolved annotations."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.init and f.name not in exclude}


def convert_fields(values: Mapping[str, Any], fields: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Validate a mapping of parameters against ``fields``; unknown names are errors."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name not in fields:
            known = ", ".join(sorted(fields)) or "none"
            raise PlanError(f"{where}.{name}: unknown parameter; expected one of: {known}")
        out[name] = convert(value, fields[name], f"{where}.{name}")
    return out
