"""Check plans: parsing, validation messages that name the exact field, and the checks they build."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml
from mychecks.orders import SchemaVersion

from trafficgate.checks.base import Policy
from trafficgate.checks.http import HttpProbe
from trafficgate.hooks import Hook
from trafficgate.plan import (
    BUILTIN_TYPES,
    FunctionCheck,
    Plan,
    PlanError,
    checks_or_defaults,
    parse_plan,
    parse_plan_text,
)
from trafficgate.probe import StatusSet

AATT = "hooks.AfterAllowTestTraffic"

PLAN_YAML = """\
version: 1
hooks:
  AfterAllowTestTraffic:
    - id: http.test_listener
      path: /health
      requests: 20
      decision: fixed
      max_p95_ms: 500
      accepted_status: "200-299,304"
      consecutive_failures: 3
      pause_s: 5
    - id: orders.schema_version
      check: mychecks.orders:SchemaVersion
      expected: 3
      retries: 2
      no_data: fail
      min_samples: 4
    - id: orders.version_header
      check: mychecks.orders:version_header
      expected: green
      dry_run: true
      on_error: pass
      on_inconclusive: pass
  AfterAllowTraffic:
    - id: http.prod_listener
      requests: 5
      decision: fixed
      dry_run: true
"""


def parse(text: str) -> Plan:
    return parse_plan_text(text, source="test-plan", types=BUILTIN_TYPES)


def build(entries: list[dict[str, Any]], hook: str = "AfterAllowTestTraffic") -> Plan:
    return parse_plan({"version": 1, "hooks": {hook: entries}}, source="test-plan", types=BUILTIN_TYPES)


def error_of(document: Any) -> str:
    with pytest.raises(PlanError) as caught:
        parse_plan(document, source="test-plan", types=BUILTIN_TYPES)
    return str(caught.value)


def entry_error(*entries: dict[str, Any]) -> str:
    return error_of({"version": 1, "hooks": {"AfterAllowTestTraffic": list(entries)}})


def describe(plan: Plan, hook: Hook) -> list[tuple[Any, ...]]:
    """What a built check amounts to: its type, id, policy and parameters."""
    checks = plan.checks_for(hook)
    assert checks is not None
    out: list[tuple[Any, ...]] = []
    for check in checks:
        if isinstance(check, HttpProbe):
            params: Any = (check.listener, dict(check.overrides))
        elif isinstance(check, FunctionCheck):
            params = (check.function, dict(check.params))
        else:
            params = repr(check)
        out.append((type(check), check.check_id, check.policy, params))
    return out


# --- valid plans --------------------------------------------------------------------------------


def test_yaml_and_json_build_the_same_checks() -> None:
    from_yaml = parse(PLAN_YAML)
    from_json = parse(json.dumps(yaml.safe_load(PLAN_YAML)))

    for hook in Hook:
        if from_yaml.checks_for(hook) is None:
            assert from_json.checks_for(hook) is None
        else:
            assert describe(from_yaml, hook) == describe(from_json, hook)
    assert set(from_yaml.hooks) == {Hook.AFTER_ALLOW_TEST_TRAFFIC, Hook.AFTER_ALLOW_TRAFFIC}


def test_the_yaml_plan_builds_typed_checks_with_their_policies() -> None:
    plan = parse(PLAN_YAML)
    probe, schema, header = plan.checks_for(Hook.AFTER_ALLOW_TEST_TRAFFIC) or []

    assert isinstance(probe, HttpProbe)
    assert probe.check_id == "http.test_listener" and probe.listener == "test"
    assert probe.overrides == {
        "path": "/health",
        "requests": 20,
        "decision": "fixed",
        "max_p95_ms": 500.0,
        "accepted_status": StatusSet.parse("200-299,304"),
    }
    assert probe.policy == Policy(consecutive_failures=3, pause_s=5.0)

    assert isinstance(schema, SchemaVersion)
    assert (schema.check_id, schema.expected, schema.path) == ("orders.schema_version", 3, "/orders/schema")
    assert schema.policy == Policy(retries=2, no_data="fail", min_samples=4)

    assert isinstance(header, FunctionCheck)
    assert header.params == {"expected": "green"}
    assert header.policy == Policy(dry_run=True, on_error="pass", on_inconclusive="pass")

    (prod,) = plan.checks_for(Hook.AFTER_ALLOW_TRAFFIC) or []
    assert isinstance(prod, HttpProbe) and prod.listener == "prod"
    assert prod.overrides == {"requests": 5, "decision": "fixed"}
    assert prod.policy == Policy(dry_run=True)


def test_dry_run_is_honoured() -> None:
    plan = parse(PLAN_YAML)
    (prod,) = plan.checks_for(Hook.AFTER_ALLOW_TRAFFIC) or []
    assert prod.policy.dry_run is True
    probe, schema, _header = plan.checks_for(Hook.AFTER_ALLOW_TEST_TRAFFIC) or []
    assert not probe.policy.dry_run and not schema.policy.dry_run


def test_enforce_is_refused_with_the_dry_run_spelling() -> None:
    # One home for "report, never block": Policy.dry_run. The old key gets a message, not silence.
    message = entry_error({"id": "http.test_listener", "enforce": False})
    assert message == f"{AATT}[0].enforce: no longer supported; write dry_run: true instead of enforce: false"


def test_hook_with_an_empty_list_runs_no_checks_and_an_absent_hook_keeps_the_defaults() -> None:
    plan = parse("version: 1\nhooks:\n  BeforeInstall: []\n")
    defaults = [HttpProbe(check_id="http.test_listener")]

    assert plan.checks_for(Hook.BEFORE_INSTALL) == []
    assert plan.checks_for(Hook.AFTER_ALLOW_TEST_TRAFFIC) is None
    assert checks_or_defaults(plan, Hook.BEFORE_INSTALL, defaults) == []
    assert checks_or_defaults(plan, Hook.AFTER_ALLOW_TEST_TRAFFIC, defaults) == defaults
    assert checks_or_defaults(None, Hook.BEFORE_INSTALL, defaults) == defaults


def test_version_may_be_omitted() -> None:
    plan = parse("hooks:\n  AfterAllowTestTraffic:\n    - id: http.test_listener\n")
    assert [c.check_id for c in plan.checks_for(Hook.AFTER_ALLOW_TEST_TRAFFIC) or []] == ["http.test_listener"]


def test_a_builtin_type_under_another_id() -> None:
    plan = build([{"id": "http.orders_page", "check": "http_probe", "path": "/orders", "listener": "test"}])
    (check,) = plan.checks_for(Hook.AFTER_ALLOW_TEST_TRAFFIC) or []
    assert isinstance(check, HttpProbe)
    assert check.check_id == "http.orders_page" and check.overrides == {"path": "/orders"}


def test_null_clears_an_optional_probe_limit() -> None:
    (check,) = build([{"id": "http.test_listener", "max_p95_ms": None}]).checks_for(Hook.AFTER_ALLOW_TEST_TRAFFIC) or []
    assert isinstance(check, HttpProbe) and check.overrides == {"max_p95_ms": None}


# --- malformed plans: the message names the exact field ---------------------------------------


def test_third_entry_with_a_non_numeric_p95_names_the_field() -> None:
    text = """\
version: 1
hooks:
  AfterAllowTestTraffic:
    - id: http.test_listener
    - id: orders.schema_version
      check: mychecks.orders:SchemaVersion
    - id: http.second_burst
      check: http_probe
      max_p95_ms: fast
"""
    with pytest.raises(PlanError) as caught:
        parse(text)
    assert str(caught.value) == "hooks.AfterAllowTestTraffic[2].max_p95_ms: expected a number"


def test_unknown_hook() -> None:
    message = error_of({"hooks": {"AfterTraffic": []}})
    assert message.startswith("hooks.AfterTraffic: unknown hook or ECS stage 'AfterTraffic'; expected one of: ")
    assert "AfterAllowTestTraffic" in message and "BeforeInstall" in message
    assert "PRODUCTION_TRAFFIC_SHIFT" in message and "POST_TEST_TRAFFIC_SHIFT" in message


def test_unknown_top_level_key() -> None:
    assert error_of({"version": 1, "hooks": {}, "checks": []}) == "checks: unknown key; expected version and hooks"


@pytest.mark.parametrize("document", [[], "hooks", None])
def test_document_that_is_not_a_mapping(document: Any) -> None:
    assert error_of(document) == "plan test-plan: expected a mapping with 'hooks'"


def test_hooks_must_be_a_mapping_and_each_hook_a_list() -> None:
    assert error_of({"hooks": ["AfterInstall"]}).startswith("hooks: expected a mapping")
    expected = "hooks.AfterInstall: expected a list of checks (write [] to run none)"
    assert error_of({"hooks": {"AfterInstall": {"id": "x"}}}) == expected


def test_a_hook_left_empty_is_an_error_not_a_silent_switch_off() -> None:
    # `AfterInstall:` with nothing after it would otherwise turn every check of the hook off.
    with pytest.raises(PlanError, match=r"^hooks\.AfterInstall: expected a list of checks \(write \[\] to run none\)$"):
        parse("version: 1\nhooks:\n  AfterInstall:\n")


def test_entry_without_id() -> None:
    assert entry_error({"id": "http.test_listener"}, {"path": "/x"}) == f"{AATT}[1].id: required"


def test_entry_that_is_not_a_mapping() -> None:
    assert entry_error("http.test_listener") == f"{AATT}[0]: expected a mapping with at least an id"


def test_empty_id() -> None:
    assert entry_error({"id": "  "}) == f"{AATT}[0].id: must not be empty"


def test_non_string_id() -> None:
    assert entry_error({"id": 7}) == f"{AATT}[0].id: expected a string"


def test_duplicate_ids() -> None:
    message = entry_error(
        {"id": "http.test_listener"},
        {"id": "orders.schema_version", "check": "mychecks.orders:SchemaVersion"},
        {"id": "http.test_listener", "requests": 400},
    )
    assert message == f"{AATT}[2].id: duplicate check id 'http.test_listener'"


def test_unknown_parameter_lists_the_accepted_ones() -> None:
    message = entry_error({"id": "http.test_listener", "pathh": "/x"})
    prefix = f"{AATT}[0].pathh: unknown parameter; expected one of: "
    assert message.startswith(prefix)
    accepted = message.removeprefix(prefix).split(", ")
    assert {"path", "requests", "max_p95_ms", "accepted_status", "listener"} <= set(accepted)
    assert accepted == sorted(accepted)
    assert "headers" not in accepted  # headers come only from the auth secret


def test_unknown_parameter_of_a_custom_class_lists_its_fields() -> None:
    message = entry_error({"id": "orders.schema", "check": "mychecks.orders:SchemaVersion", "version": 2})
    assert message == f"{AATT}[0].version: unknown parameter; expected one of: expected, field, listener, path"


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("retries", "x", "expected an integer"),
        ("retries", 1.5, "expected an integer"),
        ("consecutive_failures", True, "expected an integer"),
        ("min_samples", "ten", "expected an integer"),
        ("pause_s", "soon", "expected a number"),
        ("dry_run", "yes", "expected true or false"),
        ("no_data", "maybe", "expected one of: pass, fail, inconclusive"),
        ("on_inconclusive", "ignore", "expected one of: fail, pass"),
        ("on_error", 0, "expected one of: fail, pass"),
    ],
)
def test_wrong_type_of_each_policy_field(field: str, value: Any, expected: str) -> None:
    assert entry_error({"id": "http.test_listener", field: value}) == f"{AATT}[0].{field}: {expected}"


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("retries", -1, "must be an integer within [0, 100]"),
        ("consecutive_failures", 0, "must be an integer within [1, 100]"),
        ("pause_s", -0.5, "must be a number within [0, 900]"),
        ("pause_s", 1e9, "must be a number within [0, 900]"),
        ("min_samples", -3, "must be an integer within [0, 1000000000]"),
    ],
)
def test_out_of_range_policy_values_name_the_field(field: str, value: Any, expected: str) -> None:
    # The value that was seen, then the range that was expected.
    assert entry_error({"id": "http.test_listener", field: value}) == f"{AATT}[0].{field}: {value!r} {expected}"


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("requests", 0, "must be an integer within [1, 10000]"),
        ("timeout_s", 0, "must be a number > 0 and <= 900"),
        ("json_exists", ["items[0"], "'items[0' is not a valid JMESPath expression"),
        ("json_equals", {"a..b": 1}, "'a..b' is not a valid JMESPath expression at position 2"),
        ("json_equals", {"$.status": "ok"}, "'$.status': JMESPath has no '$' root; write 'status'"),
        ("body_regex", "(", "'(' is not a regular expression RE2 accepts"),
    ],
)
def test_probe_values_the_spec_refuses_are_plan_errors_naming_the_field(field: str, value: Any, expected: str) -> None:
    # Checked when the plan is read, not when the hook runs: a bad plan fails fast and says where.
    message = entry_error({"id": "http.test_listener", field: value})
    assert message.startswith(f"{AATT}[0].{field}: "), message
    assert expected in message, message


def test_bad_status_set_string() -> None:
    message = entry_error({"id": "http.test_listener", "accepted_status": "200-abc"})
    assert message.startswith(f"{AATT}[0].accepted_status: ")
    assert "'200-abc'" in message and "200-399" in message


def test_status_set_of_the_wrong_type() -> None:
    message = entry_error({"id": "http.test_listener", "accepted_status": [200, 204]})
    assert message == f"{AATT}[0].accepted_status: expected a string such as 200-399"


def test_wrong_listener_value() -> None:
    message = entry_error({"id": "probe.blue", "check": "http_probe", "listener": "blue"})
    assert message == f"{AATT}[0].listener: expected one of: test, prod"


def test_unknown_builtin_check_id() -> None:
    message = entry_error({"id": "http.nope"})
    assert message.startswith(f"{AATT}[0].id: unknown check 'http.nope'; expected a built-in (")
    assert "http.test_listener" in message and "ecs.taskset_steady" in message
    assert "mychecks.orders:schema_version" in message  # shows the dotted-path form


def test_unknown_check_type_names_the_check_field() -> None:
    message = entry_error({"id": "orders.schema", "check": "schema_probe"})
    assert message.startswith(f"{AATT}[0].check: unknown check 'schema_probe'")


def test_dotted_path_to_a_missing_module() -> None:
    message = entry_error({"id": "x.one", "check": "nosuchpkg.checks:run"})
    assert message == f"{AATT}[0].check: cannot import 'nosuchpkg.checks' (nosuchpkg)"


def test_dotted_path_to_a_missing_attribute() -> None:
    message = entry_error({"id": "x.one", "check": "mychecks.orders:no_such_check"})
    assert message == f"{AATT}[0].check: 'mychecks.orders' has no attribute 'no_such_check'"


def test_dotted_path_to_something_not_callable() -> None:
    message = entry_error({"id": "x.one", "check": "mychecks.orders:__doc__"})
    assert message == f"{AATT}[0].check: mychecks.orders:__doc__ is neither a Check class nor a function"


def test_custom_function_whose_signature_does_not_take_a_parameter() -> None:
    message = entry_error({"id": "x.one", "check": "mychecks.orders:version_header", "colour": "green"})
    assert message == (
        f"{AATT}[0].colour: unknown parameter of mychecks.orders:version_header; "
        "expected one of: listener, path, expected"
    )


def test_plan_version_must_be_the_number_one() -> None:
    from trafficgate.plan import PlanError, parse_plan

    with pytest.raises(PlanError, match=r"^version: expected 1$"):
        parse_plan({"version": True, "hooks": {}}, source="test", types=BUILTIN_TYPES)


def test_custom_class_parameter_of_the_wrong_type() -> None:
    message = entry_error({"id": "x.one", "check": "mychecks.orders:SchemaVersion", "expected": "two"})
    assert message == f"{AATT}[0].expected: expected an integer"


def test_invalid_yaml_gives_line_and_column() -> None:
    text = "version: 1\nhooks:\n  AfterAllowTestTraffic:\n    - id: http.test_listener\n   requests: 5\n"
    with pytest.raises(PlanError) as caught:
        parse(text)
    message = str(caught.value)
    assert message.startswith("plan test-plan: not valid YAML or JSON at line ")
    match = re.search(r"at line (\d+), column (\d+)$", message)
    assert match is not None
    assert (int(match[1]), int(match[2])) == (5, 4)  # the badly indented `requests`


def test_version_2_is_rejected() -> None:
    assert error_of({"version": 2, "hooks": {}}) == "version: expected 1"
    with pytest.raises(PlanError, match=r"^version: expected 1$"):
        parse('{"version": 2, "hooks": {}}')


def test_a_listener_fixed_by_the_check_id_cannot_be_overridden() -> None:
    # http.test_listener always probes the test listener; probing prod under that id would make
    # every reason and metric lie about what was judged.
    message = entry_error({"id": "http.test_listener", "listener": "prod"})
    assert message == (
        f"{AATT}[0].listener: http.test_listener always has listener 'test'; "
        "name the type instead (check: http_probe) to choose it"
    )
    plan = build([{"id": "green.prod", "check": "http_probe", "listener": "prod"}])
    (probe,) = plan.checks_for(Hook.AFTER_ALLOW_TEST_TRAFFIC) or []
    assert isinstance(probe, HttpProbe) and probe.listener == "prod"


def test_the_readme_jmespath_error_is_what_the_loader_says() -> None:
    message = entry_error({"id": "http.test_listener", "json_exists": ["items[0"]})
    assert message == (
        f"{AATT}[0].json_exists: 'items[0' is not a valid JMESPath expression at position 7: "
        "the expression ends too early"
    )
