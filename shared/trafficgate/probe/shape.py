"""The shape of a JSON document (key paths and value types), and the differences between two shapes.

Layer L1 (probe engine), pure: no I/O. ``http.diff`` compares green's answers with blue's by
shape only: values are never compared or shown (they may be secrets), only where a value sits
and what type it has. The notation is the one the report and a plan's ``ignore`` use:

* ``$`` is the document; ``$.items`` a key; ``$["a b"]`` a key that is not a plain name
  (letters, digits, ``_``, not starting with a digit), JSON-quoted;
* ``$.items[]`` stands for every element of an array: the elements' shapes are united, so a list
  of 1 element and a list of 100 have the same shape, and an element type seen anywhere counts.

A type is one of ``object``, ``array``, ``string``, ``number``, ``boolean``, ``null``; a path whose
elements differ (``[1, "a"]``) has several (``number|string``). Whatever the server sent, the
walk is bounded: :data:`MAX_DEPTH` levels (deeper values are typed, not entered) and
:data:`MAX_PATHS` distinct paths (beyond them the shape is marked ``over`` and not compared).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

#: Levels below ``$`` that are entered; a container deeper than this is typed, not walked.
MAX_DEPTH = 20
#: Distinct paths recorded; a document with more is ``over`` and its shape is not compared.
MAX_PATHS = 500
#: Differences reported; the rest are counted.
MAX_DIFFERENCES = 10
#: Characters of a key kept in a path (a longer key is cut, and marked with "...").
MAX_KEY_CHARS = 80

#: One segment of a path: ``.name`` for a key, ``[]`` for "every element".
ARRAY = "[]"
Path = tuple[str, ...]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: One JSON string as JSON writes it: no raw control character, only JSON's escapes.
_JSON_STRING = r'"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"'
_SEGMENT = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[\]|\[(" + _JSON_STRING + r")\]")
#: A whole shape path, as the plan JSON Schema checks it (the same grammar as :func:`parse_path`).
#: It ends with "nothing follows", not "$": "$" also matches before a final newline.
SHAPE_PATH_PATTERN = r"^\$(?:\.[A-Za-z_][A-Za-z0-9_]*|\[\]|\[" + _JSON_STRING + r"\])*(?![\s\S])"


@dataclass
class Shape:
    """Paths of a document (or of several, united) with the value types seen at each."""

    types: dict[Path, set[str]] = field(default_factory=dict)
    #: More than :data:`MAX_PATHS` paths: incomplete, so not compared.
    over: bool = False
    #: Some container lay deeper than :data:`MAX_DEPTH` and was typed, not entered.
    deep: bool = False

    def add(self, path: Path, kind: str) -> bool:
        """Record ``kind`` at ``path``; False once the path bound is reached."""
        seen = self.types.get(path)
        if seen is None:
            if len(self.types) >= MAX_PATHS:
                self.over = True
                return False
            seen = self.types[path] = set()
        seen.add(kind)
        return True

    def merge(self, other: Shape) -> None:
        """Unite ``other`` into this shape (several answers of one side)."""
        self.over = self.over or other.over
        self.deep = self.deep or other.deep
        for path, kinds in other.types.items():
            for kind in kinds:
                if not self.add(path, kind):
                    return


def type_name(value: object) -> str:
    """The JSON type of a parsed value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def json_shape(document: object) -> Shape:
    """The shape of a parsed JSON document, walked breadth first within the bounds."""
    shape = Shape()
    level: list[tuple[Path, object]] = [((), document)]
    depth = 0
    while level:
        below: list[tuple[Path, object]] = []
        for path, value in level:
            if not shape.add(path, type_name(value)):
                return shape
            if not isinstance(value, dict | list):
                continue
            if depth >= MAX_DEPTH:
                shape.deep = shape.deep or bool(value)
                continue
            if isinstance(value, dict):
                below.extend(((*path, _key(k)), v) for k, v in value.items())
            else:
                below.extend(((*path, ARRAY), v) for v in value)
        level = below
        depth += 1
    return shape


def _key(key: object) -> str:
    text = str(key)
    return "." + (text if len(text) <= MAX_KEY_CHARS else text[:MAX_KEY_CHARS] + "...")


def render(path: Path) -> str:
    """A path in the report's notation: ``$.items[].price``, ``$["a b"]``."""
    parts = ["$"]
    for segment in path:
        if segment == ARRAY:
            parts.append(ARRAY)
        else:
            name = segment[1:]
            parts.append(f".{name}" if _NAME.fullmatch(name) else f"[{json.dumps(name)}]")
    return "".join(parts)


def parse_path(text: str) -> Path:
    """Parse a path written in the report's notation (the inverse of :func:`render`).

    Raises
    ------
    ValueError
        Saying where the text stops being a path.
    """
    if not isinstance(text, str) or not text.startswith("$"):
        raise ValueError(f"{text!r} is not a shape path: it must start with '$', e.g. '$.meta.requestId'")
    path: list[str] = []
    position = 1
    while position < len(text):
        match = _SEGMENT.match(text, position)
        if match is None:
            raise ValueError(
                f"{text!r} is not a shape path at position {position}: expected '.name', '[]' or "
                "'[\"any key\"]', e.g. '$.items[].updatedAt'"
            )
        name, quoted = match.group(1), match.group(2)
        if name is not None:
            path.append("." + name)
        elif quoted is not None:
            path.append("." + str(json.loads(quoted)))
        else:
            path.append(ARRAY)
        position = match.end()
    return tuple(path)


def _under(path: Path, prefixes: Iterable[Path]) -> bool:
    return any(path[: len(p)] == p for p in prefixes)


def _types(kinds: set[str] | None) -> str:
    return "|".join(sorted(kinds)) if kinds else "missing"


def diff_shapes(blue: Shape, green: Shape, ignore: Iterable[Path] = ()) -> list[str]:
    """Where green's shape differs from blue's, by path, as ``$.a: blue → green``.

    A path present on one side only is ``missing in green`` (or ``missing in blue``); a path whose
    types differ is ``number → string``. Only the topmost difference of a subtree is reported
    (an object that became a string does not also list each of its keys as missing). An ignored
    path ignores itself and everything under it. Every difference is returned, in path order.
    """
    ignored = tuple(ignore)
    reported: list[Path] = []
    found: list[str] = []
    for path in sorted(blue.types.keys() | green.types.keys()):
        if _under(path, ignored) or _under(path, reported):
            continue
        was, now = blue.types.get(path), green.types.get(path)
        if was == now:
            continue
        reported.append(path)
        if now is None:
            found.append(f"{render(path)}: missing in green")
        elif was is None:
            found.append(f"{render(path)}: missing in blue")
        else:
            found.append(f"{render(path)}: {_types(was)} → {_types(now)}")
    return found


def status_class(status: int | None) -> str:
    """``2xx`` for 204: the class of a status code."""
    return "no answer" if status is None else f"{status // 100}xx"


_MEDIA = re.compile(r"[A-Za-z0-9!#$&^_.+-]{1,64}/[A-Za-z0-9!#$&^_.+-]{1,64}")


def media_type(content_type: str | None) -> str:
    """The media type of a Content-Type value, lower case, without parameters (``none`` if absent)."""
    if content_type is None:
        return "none"
    head = content_type.split(";", 1)[0].strip().lower()
    return head if _MEDIA.fullmatch(head) else "invalid"


def is_json_media(media: str) -> bool:
    """``application/json`` and ``application/<anything>+json``."""
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def describe_sets(values: Mapping[str, int]) -> str:
    """``2xx`` or ``2xx|5xx``: what one side showed, without counts."""
    return "|".join(sorted(values)) or "nothing"
