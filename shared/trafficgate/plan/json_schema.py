"""The plan format as a JSON Schema (draft-07), generated from the same declarations the loader reads.

Layer L3 (composition). Each built-in check's parameters come from its plan fields (for the HTTP
probe, :class:`~trafficgate.probe.spec.ProbeSpec`; for the comparison,
:class:`~trafficgate.probe.compare_spec.CompareSpec` and part of the probe's), the policy keys from
:class:`~trafficgate.policy.Policy`, ranges from their :class:`~trafficgate.ranges.Range`
declarations and descriptions from the numpy docstrings. ``schemas/plan.schema.json`` in the
repository is this function's output (a test keeps them equal), for editors::

    # yaml-language-server: $schema=../schemas/plan.schema.json

What only the loader can judge (the schema accepts it; the loader names the field): duplicate
check ids in one hook, the syntax of JMESPath expressions and regular expressions, the meaning of
status ranges (``500-200``), a custom check's own parameters, and ``max_body_bytes: 0`` together
with body assertions.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, Union

from trafficgate.checks.base import Check
from trafficgate.checks.compare import HttpCompare
from trafficgate.checks.http import HttpProbe
from trafficgate.hooks import EcsStage, Hook
from trafficgate.plan.build import plan_fields
from trafficgate.plan.builtins import BUILTIN_TYPES, CheckType
from trafficgate.policy import Policy
from trafficgate.probe.compare_spec import CompareSpec
from trafficgate.probe.spec import ProbeSpec
from trafficgate.ranges import Range, range_of

SCHEMA_ID = "https://trafficgate.dev/schemas/plan.schema.json"
#: A code or an inclusive range of codes, comma-separated: ``200-399,404``.
STATUS_PATTERN = r"^\s*\d{3}\s*(-\s*\d{3}\s*)?(,\s*\d{3}\s*(-\s*\d{3}\s*)?)*$"


def build_schema(types_: Mapping[str, CheckType] = BUILTIN_TYPES) -> dict[str, Any]:
    """The JSON Schema of a plan document whose built-in checks are ``types_``."""
    policy = _properties(Policy, {f.name: _hint(Policy, f.name) for f in dataclasses.fields(Policy)})
    # The keys every entry has; typed once on the entry, named again in each check's key list.
    common = {
        "id": {"type": "string", "pattern": r"\S", "description": "Stable id of the check, shown in every reason."},
        "check": {
            "type": "string",
            "description": "A built-in type, or a custom check by dotted path such as mychecks.orders:SchemaVersion.",
        },
        **policy,
    }
    definitions: dict[str, Any] = {}
    branches: list[dict[str, Any]] = []
    for name, (cls, fixed) in sorted(types_.items()):
        key = "check:" + cls.__name__
        params = plan_fields(cls)
        properties = _properties(_owner(cls), params)
        definitions.setdefault(key, {"description": _summary(cls), "properties": properties})
        allowed = sorted({*common, *(p for p in properties if p not in fixed)})
        named = {"required": ["check"], "properties": {"check": {"const": name}}}
        by_id = {"not": {"required": ["check"]}, "properties": {"id": {"const": name}}}
        then = {"allOf": [{"$ref": f"#/definitions/{_ref(key)}"}], "propertyNames": {"enum": allowed}}
        branches.append({"if": {"anyOf": [named, by_id]}, "then": then})
    builtin_names = sorted(types_)
    custom = {"required": ["check"], "properties": {"check": {"pattern": ":"}}}
    known = {
        "anyOf": [
            custom,
            {"required": ["check"], "properties": {"check": {"enum": builtin_names}}},
            {"not": {"required": ["check"]}, "properties": {"id": {"enum": builtin_names}}},
        ]
    }
    definitions["entry"] = {
        "type": "object",
        "required": ["id"],
        "properties": common,
        "allOf": [known, *branches],
    }
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_ID,
        "title": "Trafficgate check plan",
        "description": "Per CodeDeploy lifecycle hook (or Amazon ECS native lifecycle stage), the checks "
        "Trafficgate runs. A hook the plan does not name keeps its built-in checks; an empty list runs none. "
        "On ECS, a stage's own entry wins over the entry of the CodeDeploy hook it maps to.",
        "type": "object",
        "required": ["hooks"],
        "additionalProperties": False,
        "properties": {
            "version": {"const": 1, "description": "The plan format's version."},
            "hooks": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    key.value: {"type": "array", "items": {"$ref": "#/definitions/entry"}}
                    for key in (*Hook, *EcsStage)
                },
            },
        },
        "definitions": definitions,
    }


def _ref(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _owner(cls: type[Check]) -> tuple[type, ...]:
    """The classes whose docstrings and ranges describe a check's plan parameters, first one first.

    The spec, for probes; the comparison's spec and then the probe's, for the comparison.
    """
    if issubclass(cls, HttpProbe):
        return (ProbeSpec,)
    if issubclass(cls, HttpCompare):
        return (CompareSpec, ProbeSpec)
    return (cls,)


def _properties(owners: type | tuple[type, ...], fields: Mapping[str, Any]) -> dict[str, Any]:
    descriptions: dict[str, str] = {}
    declared: dict[str, dataclasses.Field[Any]] = {}
    for owner in reversed(owners if isinstance(owners, tuple) else (owners,)):
        descriptions.update(_parameter_docs(owner))
        if dataclasses.is_dataclass(owner):
            declared.update({f.name: f for f in dataclasses.fields(owner)})
    out: dict[str, Any] = {}
    for name, annotation in fields.items():
        spec_field = declared.get(name)
        schema = _schema_for(annotation, range_of(spec_field) if spec_field else None)
        pattern = spec_field.metadata.get("pattern") if spec_field else None
        if pattern:
            schema = _with_pattern(schema, pattern)
        items_pattern = spec_field.metadata.get("items_pattern") if spec_field else None
        if items_pattern and isinstance(schema.get("items"), dict):
            schema = {**schema, "items": _with_pattern(schema["items"], items_pattern)}
        key_pattern = spec_field.metadata.get("key_pattern") if spec_field else None
        if key_pattern:
            schema = {**schema, "propertyNames": {"pattern": key_pattern}}
        description = descriptions.get(name)
        if name == "listener":
            description = "Which listener: test (green from AllowTestTraffic on) or prod (after AllowTraffic)."
        if description:
            schema = {**schema, "description": description}
        out[name] = schema
    return out


def _with_pattern(schema: dict[str, Any], pattern: str) -> dict[str, Any]:
    if "anyOf" in schema:  # an optional string: the pattern goes on the string branch
        return {"anyOf": [_with_pattern(s, pattern) if s.get("type") == "string" else s for s in schema["anyOf"]]}
    return {**schema, "pattern": pattern}


def _hint(cls: type, name: str) -> Any:
    return typing.get_type_hints(cls)[name]


def _schema_for(annotation: Any, valid: Range | None = None) -> dict[str, Any]:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is Any:
        return {}
    if origin in (Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        inner = _schema_for(options[0], valid) if len(options) == 1 else {"anyOf": [_schema_for(a) for a in options]}
        return {"anyOf": [inner, {"type": "null"}]} if type(None) in args else inner
    if origin is Literal:
        return {"enum": list(args)}
    if annotation is bool:
        return {"type": "boolean"}
    if annotation in (int, float):
        schema = valid.json_schema() if valid else {"type": "integer" if annotation is int else "number"}
        return schema
    if annotation is str:
        return {"type": "string"}
    if origin is tuple:
        return {"type": "array", "items": _schema_for(args[0]) if args else {}}
    if origin in (Mapping, dict) or annotation in (Mapping, dict):
        value = args[1] if len(args) == 2 else Any
        return {"type": "object", "additionalProperties": _schema_for(value)}
    if callable(getattr(annotation, "parse", None)):
        # StatusSet: "200-399,404", or one code as a number.
        return {"type": ["string", "integer"], "pattern": STATUS_PATTERN, "minimum": 100, "maximum": 599}
    return {}


def _summary(cls: type) -> str:
    doc = inspect.getdoc(cls) or ""
    return doc.split("\n\n", 1)[0].replace("\n", " ")


def _parameter_docs(cls: type) -> dict[str, str]:
    """``name -> description`` from the numpy ``Parameters`` section of a class docstring."""
    lines = (inspect.getdoc(cls) or "").splitlines()
    try:
        start = lines.index("Parameters") + 2  # skip the dashes
    except ValueError:
        return {}
    docs: dict[str, str] = {}
    names: list[str] = []
    text: list[str] = []
    for line in lines[start:]:
        if line and not line.startswith(" "):
            if line.strip().startswith("-") or not line.strip():
                break
            for name in names:
                docs[name] = " ".join(text)
            names, text = [n.strip() for n in line.split(",")], []
        elif line.strip():
            text.append(line.strip())
    for name in names:
        docs[name] = " ".join(text)
    return docs
