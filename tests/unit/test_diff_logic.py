"""http.diff's pure parts: JSON shapes, their differences, the path notation, and one path's answers compared."""

from __future__ import annotations

import json
from typing import Any

import pytest

from trafficgate.checks.base import Check
from trafficgate.checks.diff import HttpDiff, compare_answers
from trafficgate.hooks import Hook
from trafficgate.plan import PlanError, parse_plan
from trafficgate.probe.request import RequestOutcome
from trafficgate.probe.samples import Answers, PathSamples
from trafficgate.probe.shape import (
    MAX_DEPTH,
    MAX_PATHS,
    diff_shapes,
    json_shape,
    media_type,
    parse_path,
    render,
)


def shape_of(document: object) -> dict[str, str]:
    return {render(p): "|".join(sorted(t)) for p, t in json_shape(document).types.items()}


def test_shape_names_every_path_with_its_type() -> None:
    document = {"a": 1, "b": "x", "c": True, "d": None, "e": {"f": 1.5}, "g": [], "h b": 0}
    assert shape_of(document) == {
        "$": "object",
        "$.a": "number",
        "$.b": "string",
        "$.c": "boolean",
        "$.d": "null",
        "$.e": "object",
        "$.e.f": "number",
        "$.g": "array",
        '$["h b"]': "number",
    }


def test_arrays_are_summarised_as_the_union_of_their_elements() -> None:
    document = {"items": [{"id": 1, "tags": ["a"]}, {"id": "2", "extra": None}, {"id": 3, "tags": [[1]]}]}
    shape = shape_of(document)
    assert shape["$.items[]"] == "object"
    assert shape["$.items[].id"] == "number|string"
    assert shape["$.items[].tags[]"] == "array|string"
    assert shape["$.items[].tags[][]"] == "number"
    assert shape["$.items[].extra"] == "null"
    # One element or a hundred: the same shape.
    assert shape_of({"x": [1] * 100}) == shape_of({"x": [7]})


def test_a_dropped_field_and_a_changed_type_are_named_by_path() -> None:
    blue = json_shape({"total": 3, "items": [{"price": 1.0, "name": "a"}]})
    green = json_shape({"items": [{"price": "1.00", "name": "a"}], "next": None})
    assert diff_shapes(blue, green) == [
        "$.items[].price: number → string",
        "$.next: missing in blue",
        "$.total: missing in green",
    ]


def test_only_the_top_of_a_changed_subtree_is_reported() -> None:
    blue = json_shape({"meta": {"a": 1, "b": {"c": 2}}})
    green = json_shape({"meta": "gone"})
    assert diff_shapes(blue, green) == ["$.meta: object → string"]
    assert diff_shapes(json_shape({"m": {"a": 1}}), json_shape({})) == ["$.m: missing in green"]


def test_ignore_paths_cover_themselves_and_everything_under_them() -> None:
    blue = json_shape({"meta": {"requestId": "x", "at": 1}, "items": [{"updatedAt": "t", "id": 1}]})
    green = json_shape({"meta": {"requestId": 5}, "items": [{"updatedAt": 1, "id": 1}]})
    assert diff_shapes(blue, green) == [
        "$.items[].updatedAt: string → number",
        "$.meta.at: missing in green",
        "$.meta.requestId: string → number",
    ]
    ignore = [parse_path("$.items[].updatedAt"), parse_path("$.meta")]
    assert diff_shapes(blue, green, ignore) == []


def test_values_are_never_compared_or_shown() -> None:
    blue = json_shape({"token": "s3cr3t-blue", "n": 1})
    green = json_shape({"token": "s3cr3t-green", "n": 2})
    assert diff_shapes(blue, green) == []
    found = diff_shapes(json_shape({"token": "s3cr3t-blue"}), json_shape({"token": 1}))
    assert found == ["$.token: string → number"] and "s3cr3t" not in found[0]


@pytest.mark.parametrize("path", ["$", "$.a", "$.items[].price", '$["a b"].c', '$["quo\\"te"][]', "$[][]"])
def test_the_notation_reads_back_what_it_writes(path: str) -> None:
    assert render(parse_path(path)) == path


@pytest.mark.parametrize("text", ["items", "$.", "$.a..b", "$[0]", "$.a[*]", "$['a']", "$.1a", ""])
def test_the_notation_refuses_what_it_does_not_write(text: str) -> None:
    with pytest.raises(ValueError, match="shape path"):
        parse_path(text)


def test_depth_is_bounded() -> None:
    document: object = 1
    for _ in range(MAX_DEPTH + 30):
        document = {"a": document}
    shape = json_shape(document)
    assert shape.deep and not shape.over
    assert max(len(p) for p in shape.types) == MAX_DEPTH  # the deepest container is typed, not entered


def test_paths_are_bounded() -> None:
    shape = json_shape({f"k{i}": i for i in range(MAX_PATHS * 3)})
    assert shape.over and len(shape.types) == MAX_PATHS


def test_long_keys_are_cut() -> None:
    (path,) = [p for p in json_shape({"k" * 10_000: 1}).types if p]
    assert len(render(path)) < 100


@pytest.mark.parametrize(
    ("header", "media"),
    [
        ("application/json; charset=utf-8", "application/json"),
        ("Text/HTML", "text/html"),
        (None, "none"),
        ("<script>", "invalid"),
        ("a" * 500 + "/json", "invalid"),
    ],
)
def test_media_type_without_parameters(header: str | None, media: str) -> None:
    assert media_type(header) == media


# --- one path's answers ---------------------------------------------------------------------------


def answer(
    status: int | None = 200, body: object = None, *, content_type: str = "application/json", **kw: Any
) -> RequestOutcome:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return RequestOutcome(
        index=0, ok=status is not None, status=status, latency_ms=1.0, content_type=content_type, body=raw, **kw
    )


def compared(green: list[RequestOutcome], blue: list[RequestOutcome], ignore: tuple[str, ...] = ()) -> list[str]:
    samples = PathSamples(path="/items", green=Answers.of(green), blue=Answers.of(blue))
    differences, _ = compare_answers(samples, tuple(parse_path(i) for i in ignore))
    return differences


def test_status_class_and_content_type_differences() -> None:
    green = [answer(503, b"<html>down</html>", content_type="text/html; charset=utf-8")]
    blue = [answer(200, {"ok": True})]
    assert compared(green, blue) == ["status: 2xx → 5xx", "content-type: application/json → text/html"]


def test_a_non_json_body_under_a_json_content_type_is_a_difference_not_a_crash() -> None:
    assert compared([answer(200, b"{not json")], [answer(200, {"a": 1})]) == ["$: object → not JSON"]
    assert compared([answer(200, b"[" * 100_000)], [answer(200, [])]) == ["$: array → not JSON"]
    assert compared([answer(200, b"{}", truncated=True)], [answer(200, {})]) == ["$: object → truncated JSON"]


def test_a_failed_request_is_a_status_difference() -> None:
    failed = RequestOutcome(index=0, ok=False, kind="connection_refused")
    assert compared([failed], [answer(200, {})]) == ["status: 2xx → no answer (connection_refused)"]


def test_answers_of_one_side_are_united() -> None:
    # Blue sometimes has "next"; green never lists it in these samples but has it once: no difference.
    blue = [answer(200, {"a": 1, "next": "x"}), answer(200, {"a": 1})]
    green = [answer(200, {"a": 2}), answer(200, {"a": 3, "next": "y"})]
    assert compared(green, blue) == []
    assert compared([answer(200, {"a": 1})], blue) == ["$.next: missing in green"]
    assert compared([answer(200, {"a": 1})], blue, ignore=("$.next",)) == []


def test_a_shape_over_the_path_bound_is_not_compared() -> None:
    big = {f"k{i}": i for i in range(MAX_PATHS + 1)}
    samples = PathSamples(path="/", green=Answers.of([answer(200, big)]), blue=Answers.of([answer(200, {"other": 1})]))
    differences, notes = compare_answers(samples)
    assert differences == [] and "more than 500 paths" in notes[0]


# --- plan validation ------------------------------------------------------------------------------


def plan(entry: dict[str, object]) -> list[Check]:
    document = {"hooks": {"AfterAllowTestTraffic": [{"id": "http.diff", **entry}]}}
    return parse_plan(document, source="test").checks_for(Hook.AFTER_ALLOW_TEST_TRAFFIC) or []


def test_plan_entry_is_enforced_unless_it_says_dry_run() -> None:
    (check,) = plan({"paths": ["/items?limit=2"], "ignore": ["$.meta.requestId"]})
    assert isinstance(check, HttpDiff) and not check.policy.dry_run
    (advisory,) = plan({"dry_run": True})
    assert advisory.policy.dry_run


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"ignore": ["$.ok", "meta.requestId"]},
            r"hooks\.AfterAllowTestTraffic\[0\]\.ignore\[1\]: .*must start with '\$'",
        ),
        ({"ignore": ["$.a[0]"]}, r"\.ignore\[0\]: .*at position 3"),
        ({"paths": ["items"]}, r"\.paths\[0\]: "),
        ({"samples": 0}, r"\.samples"),
        ({"enforce": True}, r"\.enforce: no longer supported"),
    ],
)
def test_plan_errors_name_the_field(entry: dict[str, object], message: str) -> None:
    with pytest.raises(PlanError, match=message):
        plan(entry)
