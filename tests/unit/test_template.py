"""template.yaml, read as ``sam local invoke`` reads it: five hook functions and their outputs."""

from __future__ import annotations

import re

import pytest

from tests.support.lambda_env import ROOT
from trafficgate import constants
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

    # The CodeDeployHook_ prefix lets AWSCodeDeployRoleForECS invoke the function.
    assert spec.function_name.startswith("CodeDeployHook_")
    assert len(spec.function_name) <= LAMBDA_NAME_LIMIT, spec.function_name


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
