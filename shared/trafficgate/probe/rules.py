"""The per-response assertions of a spec (body regex, JSON, headers), compiled once per burst.

Layer L1 (probe engine). Everything here reads what green sent, so everything here is bounded
and total: patterns run in linear time (RE2), an unknown or broken charset falls back to UTF-8,
and a value is described within a few dozen characters, masked before it is cut.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Mapping

from trafficgate.probe.jsonquery import compile_expression, json_equal
from trafficgate.probe.kinds import ASSERTION_BODY_REGEX, ASSERTION_HEADER, ASSERTION_JSON_PATH, SAMPLE_BYTES
from trafficgate.probe.regex import compile_pattern
from trafficgate.probe.spec import ProbeSpec
from trafficgate.redaction import Masker, describe

#: Characters of a value shown in an assertion's detail (after masking).
DETAIL_CHARS = 60
_CHARSET = re.compile(r"charset=[\"']?([A-Za-z0-9._:-]{1,40})", re.IGNORECASE)


class Rules:
    """The spec's per-response assertions, compiled once per burst.

    Parameters
    ----------
    spec
        The assertions.
    mask
        Masks the spec's secrets in any detail built from what green sent.
    """

    def __init__(self, spec: ProbeSpec, mask: Masker | None = None) -> None:
        self.accepted = spec.accepted_status
        self.mask = mask or Masker()
        self.body_re = compile_pattern(spec.body_regex) if spec.body_regex is not None else None
        self.json_equals = [(e, compile_expression(e), v) for e, v in spec.json_equals.items()]
        self.json_exists = [(e, compile_expression(e)) for e in spec.json_exists]
        self.headers = [(name, compile_pattern(pattern)) for name, pattern in spec.header_matches.items()]
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
                return ASSERTION_HEADER, f"header {name} {self.short(value)} does not match {pattern.pattern!r}"
        return None

    def short(self, value: object) -> str:
        """A value green sent, masked, then cut (strings in full are masked before the cut)."""
        if isinstance(value, str):
            return self.mask.cut(repr(value), DETAIL_CHARS)
        # describe() never builds more than it shows; mask that, with room for a run cut at its end.
        return self.mask.cut(describe(value, DETAIL_CHARS + 40), DETAIL_CHARS)

    def _check_json(self, body: bytes, truncated: bool, max_body: int) -> str | None:
        if truncated:
            return f"body truncated at {max_body} bytes; JSON not parsed"
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            return "body is not JSON"
        # JMESPath answers null for a path that is absent: "missing" means absent or null.
        for text, expression, expected in self.json_equals:
            actual = expression.search(document)
            if actual is None and expected is not None:
                return f"{text} missing, expected {describe(expected, DETAIL_CHARS)}"
            if not json_equal(actual, expected):
                return f"{text} is {self.short(actual)}, expected {describe(expected, DETAIL_CHARS)}"
        for text, expression in self.json_exists:
            if expression.search(document) is None:
                return f"{text} missing"
        return None


def decode_body(body: bytes, headers: Mapping[str, str]) -> str:
    """The body as text, in its declared charset when that is a real text codec, else UTF-8.

    ``charset=undefined`` (a codec that always raises) or ``charset=idna`` must not turn a
    failing probe into an error: anything that does not decode falls back to UTF-8 with
    replacement characters.
    """
    match = _CHARSET.search(headers.get("Content-Type", ""))
    if match:
        try:
            info = codecs.lookup(match.group(1))
            if getattr(info, "_is_text_encoding", True) and info.name not in {"undefined", "idna"}:
                return body.decode(info.name, "replace")
        except (LookupError, UnicodeError, ValueError, TypeError):
            pass
    return body.decode("utf-8", "replace")
