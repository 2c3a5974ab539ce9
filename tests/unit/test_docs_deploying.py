"""docs/deploying.md stays true: its templates lint, its appspecs are what the hooks read, its commands exist.

Each snippet is run through the tool that would reject it: cfn-lint (from ``.venv-sam``, one process
for every template), the hooks' own AppSpec reader, botocore's and the SAM CLI's models of the
commands (``tests/support/doc_commands.py``), and template.yaml for every function, parameter and
output the guide names.
"""

from __future__ import annotations

import json
import re
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import botocore.session
import pytest
import yaml

from tests.support.doc_commands import CommandChecker, shell_commands
from tests.support.markdown_docs import ROOT, Block, fenced_blocks, headings
from trafficgate.discovery.appspec import parse_appspec
from trafficgate.hooks import Hook
from trafficgate_local.template import find_function, load_template

DOC = ROOT / "docs" / "deploying.md"
TEMPLATE = ROOT / "template.yaml"
CFN_LINT = ROOT / ".venv-sam" / "bin" / "cfn-lint"


class _AnyTagLoader(yaml.SafeLoader):
    """Reads ``!Ref``, ``!Sub``, ``!GetAtt`` ... as plain values: enough to tell a template from an appspec."""


_AnyTagLoader.add_multi_constructor(
    "!",
    lambda loader, suffix, node: (
        loader.construct_scalar(node)
        if isinstance(node, yaml.ScalarNode)
        else loader.construct_sequence(node)
        if isinstance(node, yaml.SequenceNode)
        else loader.construct_mapping(node)
    ),
)


def _data(block: Block) -> Any:
    if block.lang == "json":
        return json.loads(block.text)
    return yaml.load(block.text, Loader=_AnyTagLoader)


def _is_template(data: Any) -> bool:
    resources = data.get("Resources") if isinstance(data, dict) else None
    return isinstance(resources, dict) and any(
        isinstance(r, dict) and str(r.get("Type", "")).startswith("AWS::") for r in resources.values()
    )


def _is_appspec(data: Any) -> bool:
    resources = data.get("Resources") if isinstance(data, dict) else None
    return isinstance(resources, list) and any(
        isinstance(entry, dict) and (entry.get("TargetService") or {}).get("Type") == "AWS::ECS::Service"
        for entry in resources
    )


def _title(block: Block) -> str:
    found = re.search(r"\btitle=(\S+)", block.info)
    return found.group(1) if found else ""


@cache
def _data_blocks() -> list[tuple[Block, Any]]:
    return [(b, _data(b)) for b in fenced_blocks(DOC) if b.lang in ("yaml", "json")]


def _templates() -> list[tuple[Block, Any]]:
    return [(b, d) for b, d in _data_blocks() if _is_template(d)]


def _template_named(title: str) -> Any:
    for block, data in _templates():
        if _title(block) == title:
            return data
    raise AssertionError(f"{DOC.name} has no template block with title={title}")


def _shell_blocks() -> list[Block]:
    return [b for b in fenced_blocks(DOC) if b.lang in ("sh", "bash", "shell")]


# --- CloudFormation -------------------------------------------------------------------------------


def test_every_cloudformation_snippet_passes_cfn_lint(tmp_path: Path) -> None:
    templates = _templates()
    # The guide's templates: the artifact bucket, the SAR install, the StackSet, the deployment group,
    # the custom configs and the ECS native service. Fewer means a block stopped being recognised.
    assert len(templates) >= 6, [b.where() for b, _ in templates]
    assert CFN_LINT.exists(), f"{CFN_LINT} is missing: run `make .venv-sam/bin/sam` (make test does)"
    files: dict[str, Block] = {}
    for block, _ in templates:
        suffix = ".json" if block.lang == "json" else ".yaml"
        name = f"line{block.line}-{Path(_title(block) or 'template').stem}{suffix}"
        (tmp_path / name).write_text(block.text, encoding="utf-8")
        files[name] = block
    done = subprocess.run(
        [str(CFN_LINT), *sorted(files)], cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False
    )
    where = f"{DOC.name} (a file's name starts with its block's line)"
    assert done.returncode == 0, f"cfn-lint found problems in {where}:\n{done.stdout}{done.stderr}"


def test_every_template_snippet_names_what_it_is() -> None:
    for block, _ in _templates():
        assert _title(block).endswith((".yaml", ".json")), f"{block.where()}: a template block needs title=<file>"


# --- appspecs -------------------------------------------------------------------------------------


def _appspec_texts() -> list[tuple[str, str]]:
    """(where, text) of every appspec: the blocks, and the one inside create-deployment.json."""
    found = []
    for block, data in _data_blocks():
        titled = _title(block).startswith("appspec.")
        assert titled == _is_appspec(data), f"{block.where()}: an appspec, and only an appspec, is titled appspec.*"
        if titled:
            found.append((block.where(), block.text))
        if isinstance(data, dict) and "revision" in data:
            content = data["revision"]["appSpecContent"]["content"]
            found.append((f"{block.where()} (revision.appSpecContent.content)", content))
    return found


def test_every_appspec_is_read_by_the_hooks_appspec_reader() -> None:
    appspecs = _appspec_texts()
    assert len(appspecs) >= 3, appspecs  # YAML, JSON, and the one in create-deployment.json
    service = _template_named("deployment-group.yaml")["Resources"]["Service"]["Properties"]["LoadBalancers"][0]
    for where, text in appspecs:
        spec = parse_appspec(text, "d-DOCS")
        assert spec is not None, where
        assert re.fullmatch(r"arn:aws:ecs:[a-z0-9-]+:\d{12}:task-definition/[\w-]+:\d+", spec.task_definition_arn)
        # The container and port the deployment group's service routes to.
        assert (spec.container_name, spec.container_port) == (service["ContainerName"], service["ContainerPort"]), where


def test_every_appspec_names_the_five_hooks_by_their_deployed_function_names() -> None:
    deployed = {hook.value: find_function(TEMPLATE, hook).function_name for hook in Hook}
    for where, text in _appspec_texts():
        spec = parse_appspec(text, "d-DOCS")
        assert spec is not None
        named: dict[str, str] = {}
        for entry in spec.raw.get("Hooks") or []:
            named.update(entry)
        unknown = sorted(set(named) - set(deployed))
        assert not unknown, f"{where}: lifecycle events Trafficgate does not serve: {unknown}"
        assert named == deployed, f"{where}: hooks {named} are not the stack's functions {deployed}"


def test_create_deployment_json_is_the_api_input() -> None:
    model = botocore.session.get_session().get_service_model("codedeploy").operation_model("CreateDeployment")
    inputs = [d for b, d in _data_blocks() if _title(b) == "create-deployment.json"]
    assert inputs, "the --cli-input-json example is gone"
    for data in inputs:
        assert set(data) <= set(model.input_shape.members), sorted(set(data) - set(model.input_shape.members))
        revision_shape = model.input_shape.members["revision"]
        assert set(data["revision"]) <= set(revision_shape.members)
        assert data["revision"]["revisionType"] in revision_shape.members["revisionType"].enum


# --- shell commands -------------------------------------------------------------------------------


def test_every_shell_command_names_a_real_program_operation_and_flags() -> None:
    blocks = _shell_blocks()
    commands = [c for b in blocks for c in shell_commands(b.text)]
    assert len(commands) >= 25, len(commands)
    checker = CommandChecker()
    checker.prefetch_sam(commands)
    problems = [f"{b.where()}: {problem}" for b in blocks for problem in checker.check(b.text)]
    assert problems == []


def _parameters(template: Any) -> tuple[set[str], set[str]]:
    """(all parameter names, those without a default) of a template."""
    params = template.get("Parameters") or {}
    return set(params), {name for name, spec in params.items() if "Default" not in spec}


def test_parameter_overrides_name_parameters_of_the_template_they_deploy() -> None:
    checked = 0
    for block in _shell_blocks():
        for command in shell_commands(block.text):
            argv = list(command.argv)
            if "--parameter-overrides" not in argv:
                continue
            start = argv.index("--parameter-overrides") + 1
            end = next((i for i in range(start, len(argv)) if argv[i].startswith("--")), len(argv))
            given = {word.split("=", 1)[0] for word in argv[start:end]}
            if command.program == "sam":
                template = load_template(TEMPLATE)
            else:
                template = _template_named(argv[argv.index("--template-file") + 1])
            names, required = _parameters(template)
            assert given <= names, f"{block.where()}: {sorted(given - names)} are not parameters: {command.line}"
            if command.program != "sam":  # sam deploy keeps the values samconfig.toml and the stack have
                assert required <= given, f"{block.where()}: {sorted(required - given)} have no value: {command.line}"
            checked += 1
    assert checked >= 3


def test_installed_application_parameters_exist_in_template_yaml() -> None:
    names, _ = _parameters(load_template(TEMPLATE))
    gate = _template_named("gate.yaml")["Resources"]["Trafficgate"]["Properties"]["Parameters"]
    stackset = _template_named("org-stackset.yaml")["Resources"]["TrafficgateStackSet"]["Properties"]["Parameters"]
    given = set(gate) | {p["ParameterKey"] for p in stackset}
    for block in fenced_blocks(DOC):
        if block.lang in ("ts", "hcl"):
            body = re.search(r"parameters\s*[:=]\s*\{([^}]*)\}", block.text)
            assert body, f"{block.where()}: no parameters"
            given |= set(re.findall(r"(\w+)\s*[:=]", body.group(1)))
    assert "FunctionNameStem" in given
    assert given <= names, sorted(given - names)


def test_outputs_the_guide_names_are_outputs_of_template_yaml() -> None:
    outputs = set(load_template(TEMPLATE)["Outputs"])
    text = DOC.read_text(encoding="utf-8")
    named = set(re.findall(r"Outputs\.(\w+)", text)) | set(re.findall(r'outputs\["(\w+)"\]', text))
    section = text[text.index("### From a clone") : text.index("### Publish")]
    for cell in re.findall(r"^\| ([^|]+) \|", section, flags=re.MULTILINE):
        named |= set(re.findall(r"`(\w+)`", cell))
    named |= set(re.findall(r"Output (\w+) of the Trafficgate stack", text))
    assert {"BeforeInstallHookName", "EcsLifecycleHookArn", "EcsHookInvokeRoleArn"} <= named
    assert named <= outputs, sorted(named - outputs)


def test_the_version_the_guide_installs_is_the_one_the_template_publishes() -> None:
    metadata = load_template(TEMPLATE)["Metadata"]["AWS::ServerlessRepo::Application"]
    text = DOC.read_text(encoding="utf-8")
    # SAM/CloudFormation, CDK, Terraform, the CLI, and the S3 prefixes of the StackSet route.
    spelled = r"SemanticVersion: |semanticVersion: '|semantic_version\s*= \"|--semantic-version |trafficgate/"
    versions = re.findall(rf"(?:{spelled})(\d+\.\d+\.\d+)", text)
    assert len(versions) >= 5, versions
    assert set(versions) == {metadata["SemanticVersion"]}


# --- links ----------------------------------------------------------------------------------------


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def test_the_readme_links_the_guide_and_the_guide_links_real_readme_sections() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "](docs/deploying.md)" in readme
    anchors = {_slug(h) for h in headings(ROOT / "README.md")}
    linked = re.findall(r"\]\(\.\./README\.md#([\w-]+)\)", DOC.read_text(encoding="utf-8"))
    assert linked
    assert set(linked) <= anchors, sorted(set(linked) - anchors)


@pytest.mark.parametrize("section", ["Deploying with SAM", "Operating the gate", "Waiting longer than one invocation"])
def test_readme_sections_the_guide_quotes_by_name_exist(section: str) -> None:
    assert section in headings(ROOT / "README.md")
    assert f'"{section}"' in DOC.read_text(encoding="utf-8")
