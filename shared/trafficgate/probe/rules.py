"""The per-response assertions of a spec (body regex, JSON, headers), compiled once per burst.

Layer L1 (probe engine).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from trafficgate.probe.jsonquery import compile_expression, json_equal
from trafficgate.probe.kinds import ASSERTION_BODY_REGEX, ASSERTION_HEADER, ASSERTION_JSON_PATH, SAMPLE_BYTES
from trafficgate.probe.spec import ProbeSpec


class Rules:
    """The spec's per-response assertions, compiled once per burst."""

    def __init__(self, spec: ProbeSpec) -> None:
        self.accepted = spec.accepted_status
        self.body_re = re.compile(spec.body_regex) if spec.body_regex is not None else None
        self.json_equals = [(e, compile_expression(e), v) for e, v in spec.json_equals.items()]
        self.json_exists = [(e, compile_expression(e)) for e in spec.json_exists]
        self.headers = [(name, re.compile(pattern)) for name, pattern in spec.header_matches.items()]
        self.keep_bytes = spec.max_body_bytes if spec.has_body_assertions else SAMPLE_BYTES
        self.needs_json = bool(self.json_equals or self.json_exists)

    def check(self, headers: Mapping[str, str], body: bytes, truncated: bool, max_body: int) -> tuple[str, str] | None:
        """(kind, detail) of the first failed assertion, or None."""
        if self.body_re is not None and not self.body_re.search(decode_body(body, headers)):
            note = f" (first {max_body} bytes)" if truncated else ""
            return ASSERTION_BODY_REGEX, f"body does not match {self.body_re.pattern!r}{note}"
        if self.needs_json:
            failure = self._check_json(body, truncated, max_body)
            if failure is not None:
                return ASSERTION_JSON_PATH, failure
        for name, pattern in self.headers:
            value = headers.get(name)
            if value is None:
                return ASSERTION_HEADER, f"header {name} missing"
            if not pattern.search(value):
                return ASSERTION_HEADER, f"header {name} {short(value)} does not match {pattern.pattern!r}"
        return None

    def _check_json(self, body: bytes, truncated: bool, max_body: int) -> str | None:
        if truncated:
            return f"body truncated at {max_body} bytes; JSON not parsed"
        try:
            document = json.loads(body)
        except ValueError:
            return "body is not JSON"
        # JMESPath answers null for a path that is absent: "missing" means absent or null.
        for text, expression, expected in self.json_equals:
            actual = expression.search(document)
            if actual is None and expected is not None:
                return f"{text} missing"
            if not json_equal(actual, expected):
                return f"{text} = {short(actual)}, expected {short(expected)}"
        for text, expression in self.json_exists:
            if expression.search(document) is None:
                return f"{text} missing"
        return None


def decode_body(body: bytes, headers: Mapping[str, str]) -> str:
    charset = "utf-8"
    match = re.search(r"charset=[\"']?([\w.:-]+)", headers.get("Content-Type", ""), re.IGNORECASE)
    if match:
        charset = match.group(1)
    try:
        return body.decode(charset, "replace")
    except LookupError:
        return body.decode("utf-8", "replace")


def short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
