"""template.yaml, read as ``sam local invoke`` reads it: five hook functions and their outputs."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from tests.support.lambda_env import ROOT
from trafficgate import constants
from trafficgate.config import NUMERIC_VARIABLES, variable_range
from trafficgate.hooks import Hook
from trafficgate_local.template import find_function, load_template

TEMPLATE = ROOT / "template.yaml"
LAMBDA_NAME_LIMIT = 64


def longest_stem() -> str:
    """The longest FunctionNameStem the template's AllowedPattern accepts."""
    pattern = load_template(TEMPLATE)["Parameters"]["FunctionNameStem"]["AllowedPattern"]
    match = re.search(r"\{\d+,(\d+)\}", pattern)
    assert match, pattern
    stem = "s" * int(match.group(1))
    assert re.fullmatch(pattern, stem)
    assert not re.fullmatch(pattern, stem + "s")
    return stem


@pytest.mark.parametrize("hook", list(Hook), ids=lambda h: h.value)
def test_each_hook_has_a_function(hook: Hook) -> None:
    spec = find_function(TEMPLATE, hook)

    assert spec.function_name == f"CodeDeployHook_trafficgate-{hook.value}"
    assert spec.handler == "app.handler"
    assert spec.code_dir == (ROOT / "functions" / hook.module_name).resolve()
    assert (spec.code_dir / "app.py").is_file()
    expected = set(constants.ALL) - {constants.RESOLVE}
    assert expected <= set(spec.environment), sorted(expected - set(spec.environment))
    assert constants.RESOLVE not in spec.environment  # local runs only


@pytest.mark.parametrize("hook", list(Hook), ids=lambda h: h.value)
def test_function_names_fit_with_the_longest_stem(hook: Hook) -> None:
    spec = find_function(TEMPLATE, hook, parameter_overrides={"FunctionNameStem": longest_stem()})

    # The CodeDeployHook_ prefix lets AWSCodeDeployRoleForECSLimited invoke the function.
    assert spec.function_name.startswith("CodeDeployHook_")
    assert len(spec.function_name) <= LAMBDA_NAME_LIMIT, spec.function_name


# Each hook's own timeout (s) and memory (MB) by default: BeforeInstall is quick, AfterAllowTraffic bakes.
DEFAULT_RESOURCES = {
    Hook.BEFORE_INSTALL: (60, 256),
    Hook.AFTER_INSTALL: (300, 256),
    Hook.AFTER_ALLOW_TEST_TRAFFIC: (300, 256),
    Hook.BEFORE_ALLOW_TRAFFIC: (300, 256),
    Hook.AFTER_ALLOW_TRAFFIC: (900, 256),
}


@pytest.mark.parametrize("hook", list(Hook), ids=lambda h: h.value)
def test_each_hook_has_its_own_timeout_and_memory(hook: Hook) -> None:
    parameters = load_template(TEMPLATE)["Parameters"]
    timeout, memory = parameters[f"{hook.value}Timeout"], parameters[f"{hook.value}MemorySize"]
    assert (timeout["MinValue"], timeout["MaxValue"]) == (30, 900)
    assert (memory["MinValue"], memory["MaxValue"]) == (128, 10240)

    spec = find_function(TEMPLATE, hook)
    assert (spec.timeout_s, spec.memory_mb) == DEFAULT_RESOURCES[hook]

    # A value set for one hook reaches that hook's function and no other.
    overrides = {f"{hook.value}Timeout": "123", f"{hook.value}MemorySize": "1024"}
    for other in Hook:
        spec = find_function(TEMPLATE, other, parameter_overrides=overrides)
        expected = (123.0, 1024) if other is hook else DEFAULT_RESOURCES[other]
        assert (spec.timeout_s, spec.memory_mb) == expected, other


def test_no_global_timeout_or_memory_remains() -> None:
    template = load_template(TEMPLATE)
    assert "Timeout" not in template["Parameters"]
    assert "MemorySize" not in template["Parameters"]
    assert "Timeout" not in template["Globals"]["Function"]
    assert "MemorySize" not in template["Globals"]["Function"]
    grouped = {name for group in _interface()["ParameterGroups"] for name in group["Parameters"]}
    assert set(template["Parameters"]) == grouped
    assert set(template["Parameters"]) == set(_interface()["ParameterLabels"])


def test_default_bake_fits_the_default_after_allow_traffic_timeout() -> None:
    parameters = load_template(TEMPLATE)["Parameters"]
    timeout_s = DEFAULT_RESOURCES[Hook.AFTER_ALLOW_TRAFFIC][0]
    bake_s = float(parameters["BakeSeconds"]["Default"])
    margin_s = float(parameters["DeadlineMarginMs"]["Default"]) / 1000
    # The production burst after the bake, at worst. Timeouts are failures, so a sequential burst
    # of them fails within a few rounds; the slowest burst that goes on is one whose requests all
    # succeed just under the p95 limit, but for the 5 % the limit lets run to the request timeout.
    assert parameters["ProbeDecision"]["Default"] == "sequential"
    requests, concurrency = int(parameters["ProbeRequests"]["Default"]), int(parameters["ProbeConcurrency"]["Default"])
    slow = requests - -(-95 * requests // 100)
    p95_s, timeout = float(parameters["MaxP95Ms"]["Default"]) / 1000, float(parameters["RequestTimeoutS"]["Default"])
    burst_s = -(-requests // concurrency) * (p95_s + 0.25) + -(-slow // concurrency) * (timeout + 0.25)
    assert bake_s + burst_s + margin_s < timeout_s / 2  # and room to spare for the reads
    assert "AfterAllowTrafficTimeout" in parameters["BakeSeconds"]["Description"]


def test_function_name_stem_names_the_limited_codedeploy_policy() -> None:
    description = " ".join(load_template(TEMPLATE)["Parameters"]["FunctionNameStem"]["Description"].split())
    assert "AWSCodeDeployRoleForECSLimited" in description
    assert "AWSCodeDeployRoleForECS " not in description


def _interface() -> dict[str, Any]:
    interface: dict[str, Any] = load_template(TEMPLATE)["Metadata"]["AWS::CloudFormation::Interface"]
    return interface


def test_outputs_list_the_five_function_names() -> None:
    template = load_template(TEMPLATE)
    functions = {find_function(TEMPLATE, hook).logical_id for hook in Hook}
    referenced = {
        output["Value"]["Ref"]
        for output in template["Outputs"].values()
        if isinstance(output.get("Value"), dict) and "Ref" in output["Value"]
    }
    assert functions <= referenced
    for hook in Hook:
        logical_id = find_function(TEMPLATE, hook).logical_id
        names = [k for k, v in template["Outputs"].items() if v.get("Value") == {"Ref": logical_id}]
        assert names == [f"{hook.value}HookName"], names
        assert template["Resources"][logical_id]["Type"] == "AWS::Serverless::Function"


def _parameter_of(variable: str) -> dict[str, object]:
    """The template parameter that sets ``variable`` in the functions' environment."""
    template = load_template(TEMPLATE)
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    ref = env[variable]
    assert isinstance(ref, dict) and "Ref" in ref, (variable, ref)
    parameter: dict[str, object] = template["Parameters"][ref["Ref"]]
    return parameter


@pytest.mark.parametrize("variable", sorted(NUMERIC_VARIABLES))
def test_numeric_parameters_carry_the_ranges_the_hook_accepts(variable: str) -> None:
    # A bad value fails at deploy time, with the same bounds the hook would name at run time.
    valid = variable_range(variable)
    parameter = _parameter_of(variable)
    if parameter["Type"] == "Number":
        high = float(str(parameter["MaxValue"]))
        if valid.exclusive_maximum:
            assert valid.maximum is not None and high < valid.maximum, variable
        else:
            assert high == valid.maximum, variable
        low = float(str(parameter["MinValue"]))
        if valid.exclusive_minimum:
            assert valid.minimum is not None and low > valid.minimum, variable
        else:
            assert low == valid.minimum, variable
    else:  # a fraction, as a String with a pattern: [0, 1], or [0, 1) with an exclusive maximum
        pattern = str(parameter["AllowedPattern"])
        assert (valid.minimum, valid.maximum) == (0, 1), variable
        ones, zeros = ("1", "1.0"), ("0", "0.0", "0.000")
        accepted = ("0.5", "0.999", "0.001", *(() if valid.exclusive_maximum else ones))
        for value in (*accepted, *(() if valid.exclusive_minimum else zeros)):
            assert re.fullmatch(pattern, value), (variable, value)
        refused = ("-0.1", "1.5", "2", "inf", "nan", "1e-3")
        refused += (*(ones if valid.exclusive_maximum else ()), *(zeros if valid.exclusive_minimum else ()))
        for value in refused:
            assert not re.fullmatch(pattern, value), (variable, value)
    owner, field_name = NUMERIC_VARIABLES[variable]
    declared = next(f for f in dataclasses.fields(owner) if f.name == field_name).default
    if parameter["Default"] == "":  # unset: the hook derives the value (the field's default is None)
        assert declared is None, variable
        return
    default = float(str(parameter["Default"]))
    assert valid.problem(int(default) if valid.integer else default) is None, variable
    assert declared is None or default == declared, (variable, default, declared)


def test_every_numeric_variable_is_a_template_parameter() -> None:
    numeric = {name for name in constants.ALL if name in NUMERIC_VARIABLES}
    assert numeric == set(NUMERIC_VARIABLES)


def test_list_parameter_overrides_and_resource_refs_resolve_as_sam_local_does() -> None:
    spec = find_function(
        TEMPLATE,
        Hook.AFTER_INSTALL,
        parameter_overrides={"AppSpecBuckets": "acme-revisions,acme-backup", "PublishVerdicts": "true"},
    )
    assert spec.environment["TRAFFICGATE_APPSPEC_BUCKETS"] == "acme-revisions,acme-backup"
    assert spec.environment["TRAFFICGATE_VERDICT_TOPIC_ARN"].startswith("arn:aws:sns:")
