"""JSON assertions written in JMESPath, AWS's own query language (the AWS CLI's ``--query``).

Layer L1 (probe engine). jmespath ships with boto3, so it costs the layer nothing; it is imported
on first use, which keeps it off the cold start of hooks without JSON assertions. Expressions are
compiled when a spec is built, so a bad expression is a configuration or plan error that names its
field, never a surprise at run time.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from trafficgate.probe.exceptions import ProbeConfigError

if TYPE_CHECKING:
    from jmespath.parser import ParsedResult


@lru_cache(maxsize=256)
def compile_expression(expression: str) -> ParsedResult:
    """Compile a JMESPath expression such as ``status``, ``items[0].id`` or ``length(items)``.

    Raises
    ------
    ProbeConfigError
        With the position and the parser's complaint; a JSONPath-style ``$.a.b`` gets the
        JMESPath spelling as a hint.
    """
    import jmespath
    from jmespath.exceptions import JMESPathError

    text = expression.strip() if isinstance(expression, str) else ""
    if not text:
        raise ProbeConfigError("JMESPath expression is empty; write e.g. 'status' or 'items[0].id'")
    if text.startswith("$"):
        # A JSONPath habit. Suggest the JMESPath spelling where there is a plain one.
        hint = "@" if text == "$" else text[2:] if text.startswith("$.") and not text.startswith("$..") else None
        suggestion = f"; write {hint!r}" if hint else "; see https://jmespath.org for the syntax"
        raise ProbeConfigError(f"{expression!r}: JMESPath has no '$' root{suggestion}")
    try:
        return jmespath.compile(text)
    except JMESPathError as exc:
        position = getattr(exc, "lex_position", None)
        if type(exc).__name__ == "IncompleteExpressionError":
            complaint = "the expression ends too early"
        else:
            complaint = getattr(exc, "message", None) or getattr(exc, "msg", None) or type(exc).__name__
        where = f" at position {position}" if isinstance(position, int) else ""
        raise ProbeConfigError(f"{expression!r} is not a valid JMESPath expression{where}: {complaint}") from None


def json_equal(actual: Any, expected: Any) -> bool:
    """Compare JSON values the way JSON means them: ``true`` is not ``1``, ``1`` is ``1.0``."""
    if isinstance(actual, bool) or isinstance(expected, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and actual is expected
    if isinstance(actual, dict) and isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(json_equal(actual[k], expected[k]) for k in actual)
    if isinstance(actual, list) and isinstance(expected, list | tuple):
        return len(actual) == len(expected) and all(json_equal(a, e) for a, e in zip(actual, expected, strict=True))
    return bool(actual == expected)
