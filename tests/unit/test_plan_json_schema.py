"""The published plan JSON Schema: current, valid draft-07, and in agreement with the loader.

The schema is generated from the same declarations the loader reads (check fields, ranges,
patterns). These tests prove the two agree: every plan one accepts the other accepts, and every
plan one refuses the other refuses, over hypothesis-generated plans mixing good and bad values.
The loader-only rules the schema cannot express are listed, each with a plan that shows it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import hypothesis
import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trafficgate.hooks import Hook
from trafficgate.plan import BUILTIN_TYPES, PlanError, parse_plan
from trafficgate.plan.json_schema import build_schema

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "schemas" / "plan.schema.json"
SCHEMA = build_schema()
VALIDATOR = jsonschema.Draft7Validator(SCHEMA)


def loader_accepts(document: Any) -> bool:
    try:
        parse_plan(document, source="test")
    except PlanError:
        return False
    return True


def schema_accepts(document: Any) -> bool:
    return VALIDATOR.is_valid(document)


def test_the_published_file_is_the_generated_schema() -> None:
    # Regenerate with `make schema` after changing a check's fields, a range or a pattern.
    assert json.loads(SCHEMA_FILE.read_text()) == SCHEMA


def test_the_schema_is_valid_draft_07() -> None:
    jsonschema.Draft7Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", [ROOT / "examples" / "custom_check" / "plan.yaml"])
def test_example_plans_validate(path: Path) -> None:
    document = yaml.safe_load(path.read_text())
    assert list(VALIDATOR.iter_errors(document)) == []


def test_the_example_plan_carries_the_editor_comment() -> None:
    first = (ROOT / "examples" / "custom_check" / "plan.yaml").read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../../schemas/plan.schema.json"


# --- agreement --------------------------------------------------------------------------------

# Values whose meaning only the loader can judge are drawn from a pool the schema can judge too:
# JMESPath expressions and regular expressions that compile, status strings whose codes are real.
EXPRESSIONS = st.sampled_from(["status", "items[0].id", "length(items)", "a.b"])
REGEXES = st.sampled_from(["ok", "^2\\.", "healthy|ready"])
STATUS_STRINGS = st.sampled_from(["200-399", "200,204", "500", "2xx", "", "200-", "abc", " 200 - 299 "])
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-5, max_value=20_000),
    st.floats(min_value=-10, max_value=1e6, allow_nan=False),
    st.sampled_from(["", "x", "/", "/health", "GET", "get", "test", "prod", "fail", "pass", "inconclusive"]),
)
ANY_JSON = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=3), max_leaves=4)


def value_for(name: str) -> st.SearchStrategy[Any]:
    """Good and bad values for a plan key, loader-only meanings kept out of the bad ones."""
    if name in {"json_exists"}:
        return st.one_of(st.lists(EXPRESSIONS, max_size=2), ANY_JSON)
    if name == "json_equals":
        return st.one_of(st.dictionaries(EXPRESSIONS, JSON_SCALARS, max_size=2), ANY_JSON)
    if name == "header_matches":
        names = st.sampled_from(["X-Version", "Content-Type", "bad name"])
        return st.one_of(st.dictionaries(names, REGEXES, max_size=2), ANY_JSON)
    if name == "body_regex":
        return st.one_of(REGEXES, st.none(), st.integers())
    if name == "accepted_status":
        return st.one_of(STATUS_STRINGS, st.integers(min_value=0, max_value=700), st.booleans(), st.none())
    if name == "alarms":
        return st.one_of(st.lists(st.sampled_from(["a", "b*"]), max_size=2), ANY_JSON)
    return ANY_JSON


def entries() -> st.SearchStrategy[dict[str, Any]]:
    names = sorted(BUILTIN_TYPES)

    @st.composite
    def entry(draw: st.DrawFn) -> dict[str, Any]:
        name = draw(st.sampled_from(names))
        cls, fixed = BUILTIN_TYPES[name]
        from trafficgate.plan.build import plan_fields

        keys = sorted(k for k in plan_fields(cls) if k not in fixed)
        keys += ["retries", "consecutive_failures", "pause_s", "min_samples", "no_data", "on_error", "dry_run"]
        chosen = draw(st.lists(st.sampled_from(keys), unique=True, max_size=3))
        out: dict[str, Any] = {}
        if draw(st.booleans()):
            out["id"], out["check"] = f"my.{name}", name
        else:
            out["id"] = name
        for key in chosen:
            out[key] = draw(value_for(key))
        if draw(st.integers(0, 9)) == 0:
            out[draw(st.sampled_from(["pathh", "enforce", "listener", "timeout"]))] = 1
        return out

    return entry()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hook=st.sampled_from([h.value for h in Hook]), items=st.lists(entries(), max_size=2))
def test_schema_and_loader_agree_on_every_plan(hook: str, items: list[dict[str, Any]]) -> None:
    # Duplicate ids are a loader-only rule (below); give each entry its own id.
    for index, item in enumerate(items):
        if "check" in item:
            item["id"] = f"{item['id']}.{index}"
    if len({i["id"] for i in items}) < len(items):
        return
    document = {"version": 1, "hooks": {hook: items}}
    # One rule spans fields in a way no JSON Schema states: a sequential burst needs enough requests
    # for its min_success_rate and alpha (327 at 0.99). The schema lets such plans through, and the
    # loader names the field (test_too_few_requests_for_a_sequential_burst_are_the_loaders_to_refuse).
    hypothesis.assume(not (schema_accepts(document) and _too_few_for_sequential(document)))
    assert schema_accepts(document) == loader_accepts(document), json.dumps(document)


def _too_few_for_sequential(document: Any) -> bool:
    try:
        parse_plan(document, source="test")
    except PlanError as exc:
        return "is too few for the sequential decision" in str(exc)
    return False


def test_too_few_requests_for_a_sequential_burst_are_the_loaders_to_refuse() -> None:
    document = {"version": 1, "hooks": {"AfterAllowTraffic": [{"id": "http.prod_listener", "requests": 1}]}}
    assert schema_accepts(document)
    with pytest.raises(PlanError, match=r"requests: 1 is too few for the sequential decision at min_success_rate"):
        parse_plan(document, source="test")


@pytest.mark.parametrize(
    "document",
    [
        {"hooks": {"AfterInstall": []}},
        {"version": 1, "hooks": {}},
        {"version": 2, "hooks": {}},
        {"version": True, "hooks": {}},
        {"hooks": {"AfterTraffic": []}},
        {"hooks": {"AfterInstall": None}},
        {"hooks": []},
        {"hooks": {}, "checks": []},
        [],
        {"hooks": {"AfterInstall": [{"path": "/x"}]}},
        {"hooks": {"AfterInstall": [{"id": "  "}]}},
        {"hooks": {"AfterInstall": [{"id": "http.nope"}]}},
        {"hooks": {"AfterInstall": [{"id": "x", "check": "nope"}]}},
        {"hooks": {"AfterInstall": [{"id": "x", "check": "mychecks.orders:SchemaVersion", "expected": 3}]}},
        {"hooks": {"AfterInstall": [{"id": "http.test_listener", "listener": "prod"}]}},
        {"hooks": {"AfterInstall": [{"id": "p", "check": "http_probe", "listener": "prod"}]}},
    ],
)
def test_schema_and_loader_agree_on_document_shapes(document: Any) -> None:
    assert schema_accepts(document) == loader_accepts(document), json.dumps(document)


LOADER_ONLY = {
    "duplicate ids in one hook": [{"id": "http.test_listener"}, {"id": "http.test_listener"}],
    "JMESPath syntax": [{"id": "http.test_listener", "json_exists": ["items[0"]}],
    "regular expression syntax": [{"id": "http.test_listener", "body_regex": "("}],
    "status codes outside 100-599 in a string": [{"id": "http.test_listener", "accepted_status": "600"}],
    "a backwards status range": [{"id": "http.test_listener", "accepted_status": "399-200"}],
    "a custom check's own parameters": [{"id": "x", "check": "mychecks.orders:SchemaVersion", "version": 2}],
    "body assertions with max_body_bytes 0": [{"id": "http.test_listener", "max_body_bytes": 0, "body_regex": "x"}],
}


@pytest.mark.parametrize("rule", sorted(LOADER_ONLY))
def test_what_only_the_loader_judges_is_listed_and_refused_by_it(rule: str) -> None:
    document = {"version": 1, "hooks": {"AfterAllowTestTraffic": LOADER_ONLY[rule]}}
    assert schema_accepts(document)
    assert not loader_accepts(document)


@pytest.mark.parametrize(
    ("entry", "valid"),
    [
        ({"ignore": ["$.meta.requestId", "$.items[].price", '$["a key"]', "$"]}, True),
        ({"ignore": [""]}, False),
        ({"ignore": ["$\n"]}, False),  # "$" in a pattern would let a final newline through
        ({"ignore": ['$["\\q"]']}, False),  # not a JSON escape
        ({"ignore": ['$["a\u0001"]']}, False),  # a raw control character in a quoted key
        ({"ignore": ["$.1abc"]}, False),
        ({"paths": ["/items?limit=2", "/"]}, True),
        ({"paths": ["/a\n"]}, False),
        ({"paths": ["items"]}, False),
    ],
)
def test_the_diff_paths_and_ignore_patterns_match_the_loader(entry: dict[str, Any], valid: bool) -> None:
    document = {"version": 1, "hooks": {"AfterAllowTestTraffic": [{"id": "http.diff", **entry}]}}
    assert (schema_accepts(document), loader_accepts(document)) == (valid, valid)
