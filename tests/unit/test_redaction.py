"""Masking before cutting, and describing within a budget: the rules every output follows."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from trafficgate import redaction
from trafficgate.redaction import MASK, MIN_RUN, Masker, describe

SECRET = "Zq8Lm3Vt7Rk2Pw9Hn4Cb6Dy1Fg5Js0"
ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789 \"'\\/:=,{}"


def runs(secret: str, text: str) -> list[str]:
    return [secret[i : i + MIN_RUN] for i in range(len(secret) - MIN_RUN + 1) if secret[i : i + MIN_RUN] in text]


@settings(max_examples=300, deadline=None)
@given(
    secret=st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ23456789", min_size=MIN_RUN, max_size=40),
    before=st.text(alphabet=ALPHABET, max_size=80),
    after=st.text(alphabet=ALPHABET, max_size=80),
    start=st.integers(0, 40),
    stop=st.integers(0, 40),
    limit=st.integers(0, 200),
)
def test_no_run_of_a_secret_survives_masking_and_cutting(
    secret: str, before: str, after: str, start: int, stop: int, limit: int
) -> None:
    # A piece of the secret (as a broken server echoes it, or as an earlier cut left it) anywhere.
    piece = secret[start : max(start, len(secret) - stop)]
    text = before + piece + after + secret + before
    masker = Masker([secret])
    assert runs(secret, masker(text)) == []
    assert runs(secret, masker.cut(text, limit)) == []


def test_json_and_repr_escaped_secrets_are_masked_too() -> None:
    secret = 'p"a\\ss/word-123'
    masker = Masker([secret])
    assert secret[2:8] not in masker(json.dumps({"h": secret}))
    assert "a\\\\ss/w" not in masker(repr(secret))


def test_masking_keeps_the_rest_and_marks_each_run_once() -> None:
    masker = Masker([SECRET])
    assert masker(f"token={SECRET}; again {SECRET[3:20]}.") == f"token={MASK}; again {MASK}."
    assert masker("nothing to see") == "nothing to see"
    assert Masker()("untouched") == "untouched"


def test_registered_secrets_reach_every_masker_of_the_container() -> None:
    redaction.forget_all()
    try:
        assert redaction.mask(f"x {SECRET}") == f"x {SECRET}"
        redaction.register([SECRET, ""])
        assert redaction.mask(f"x {SECRET}") == f"x {MASK}"
        assert SECRET in redaction.registered()
    finally:
        redaction.forget_all()


def test_describe_builds_no_more_than_it_shows() -> None:
    # 10^9 strings through shared references: walking them all would never end.
    value: object = ["lol"] * 10
    for _ in range(8):
        value = [value] * 10
    text = describe(value, 60)
    assert len(text) <= 60 and text.startswith("[[[[")
    assert describe({"a": 1, "b": [True, None]}, 60) == '{"a": 1, "b": [true, null]}'
    assert describe("x" * 500, 20) == "'" + "x" * 16 + "..."
