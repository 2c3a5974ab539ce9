"""Check an answer against botocore's service model: the stand-in must speak the service's shapes.

botocore parses whatever a server sends, so a key the service never returns, a missing required
member or a value outside an enum would reach the code under test unnoticed. :func:`shape_problems`
walks a parsed answer together with its output shape and lists every such difference.
"""

from __future__ import annotations

import datetime
from functools import cache
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, ServiceModel, Shape, StructureShape


@cache
def service_model(service: str) -> ServiceModel:
    """botocore's model of ``service`` (``"elbv2"``, ``"codedeploy"``)."""
    return botocore.session.get_session().get_service_model(service)


def output_shape(service: str, operation: str) -> StructureShape:
    """The output shape of one operation."""
    shape = service_model(service).operation_model(operation).output_shape
    assert isinstance(shape, StructureShape), f"{service} {operation} has no output shape"
    return shape


def shape_problems(value: Any, shape: Shape, path: str = "$") -> list[str]:
    """Every difference between ``value`` (as boto3 parsed it) and ``shape``; empty when it fits.

    Structures may hold only their members, and must hold their required ones; enum strings must be
    one of their values; no member may be None. ``ResponseMetadata`` is botocore's, not the service's.
    A document (a structure marked ``document``, e.g. ECS ``hookDetails``) holds any JSON value.
    """
    if value is None:
        return [f"{path}: null (absent members are omitted, never null)"]
    if isinstance(shape, StructureShape) and shape.is_document_type:
        return _document_problems(value, path)
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            return [f"{path}: expected a structure {shape.name}, got {type(value).__name__}"]
        problems = [
            f"{path}.{key}: not a member of {shape.name}"
            for key in value
            if key not in shape.members and key != "ResponseMetadata"
        ]
        problems += [
            f"{path}.{key}: required member of {shape.name} missing"
            for key in shape.required_members
            if key not in value
        ]
        for key, member in shape.members.items():
            if key in value:
                problems += shape_problems(value[key], member, f"{path}.{key}")
        return problems
    if isinstance(shape, ListShape):
        if not isinstance(value, list):
            return [f"{path}: expected a list, got {type(value).__name__}"]
        return [p for i, item in enumerate(value) for p in shape_problems(item, shape.member, f"{path}[{i}]")]
    if isinstance(shape, MapShape):
        if not isinstance(value, dict):
            return [f"{path}: expected a map, got {type(value).__name__}"]
        return [p for key, item in value.items() for p in shape_problems(item, shape.value, f"{path}[{key}]")]
    return _scalar_problems(value, shape, path)


def _document_problems(value: Any, path: str) -> list[str]:
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in _document_problems(item, f"{path}[{key}]")]
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in _document_problems(item, f"{path}[{i}]")]
    if value is None or isinstance(value, str | int | float | bool):
        return []
    return [f"{path}: {type(value).__name__} is not a JSON value"]


def _scalar_problems(value: Any, shape: Shape, path: str) -> list[str]:
    kind = shape.type_name
    expected: tuple[type, ...] = {
        "string": (str,),
        "integer": (int,),
        "long": (int,),
        "float": (float, int),
        "double": (float, int),
        "boolean": (bool,),
        "timestamp": (datetime.datetime,),
        "blob": (bytes,),
    }.get(kind, (object,))
    if not isinstance(value, expected) or (kind in {"integer", "long"} and isinstance(value, bool)):
        return [f"{path}: expected {kind}, got {type(value).__name__} {value!r}"]
    enum = shape.enum if kind == "string" else []
    if enum and value not in enum:
        return [f"{path}: {value!r} is not one of {shape.name} {enum}"]
    return []


def assert_fits(service: str, operation: str, answer: dict[str, Any]) -> None:
    """Fail, listing every difference, unless ``answer`` fits the output shape of ``operation``."""
    problems = shape_problems(answer, output_shape(service, operation))
    assert not problems, f"{service} {operation} answer does not fit the service model:\n" + "\n".join(problems)
