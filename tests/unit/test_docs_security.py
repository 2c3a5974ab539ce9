"""docs/security.md and docs/troubleshooting.md stay true to the template and the code.

- The table *The template's IAM statements* of docs/security.md lists every IAM statement of
  template.yaml (role trust policies, inline and managed policies, Lambda and layer permissions,
  SAM policy templates), with its actions, its template condition, its ``*`` resource and its IAM
  condition keys; and it lists nothing else. The rest of both documents names no IAM action the
  template does not grant, except the calls ``iam.execution_role`` simulates for *your* execution role.
- Every check id the two documents name is a built-in check or one of the gate's own ids.
- Every ``TRAFFICGATE_*`` variable exists, every ``Parameter=value`` names a template parameter,
  every ``trafficgate`` command parses with the CLI's own parser, every link reaches a heading.

The reason texts themselves are produced by tests/integration/test_docs_reasons.py.
"""

from __future__ import annotations

import argparse
import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from tests.support.markdown_docs import ROOT, fenced_blocks, headings
from trafficgate import constants
from trafficgate.checks.execution_role import PARAMETER_ACTION, PULL_ACTIONS, PULL_AUTH_ACTION, SECRET_ACTION
from trafficgate.plan import BUILTIN_TYPES
from trafficgate.runner import CONTINUATION_CHECK_ID
from trafficgate.verdict import CONFIG_CHECK_ID, DEADLINE_CHECK_ID, PLAN_CHECK_ID, RUNNER_CHECK_ID
from trafficgate.wiring import WIRING_CHECK_ID
from trafficgate_local.cli import build_parser
from trafficgate_local.template import load_template

TEMPLATE = ROOT / "template.yaml"
SECURITY = ROOT / "docs" / "security.md"
TROUBLESHOOTING = ROOT / "docs" / "troubleshooting.md"
DOCS = (SECURITY, TROUBLESHOOTING)
TABLE_HEADING = "The template's IAM statements"
COLUMNS = ["Role", "Statement", "When", "Actions", "Resource", "Why"]

#: ``service:Action`` (IAM actions are PascalCase; condition keys such as ``ecs:cluster`` are not).
ACTION = re.compile(r"(?<![\w:/.-])([a-z][a-z0-9-]*):([A-Z][A-Za-z0-9]*\*?)(?![\w-])")
#: Actions the docs may name that the stack does not grant: what ``iam.execution_role`` asks of the
#: task definition's execution role, and the KMS call it says it does not simulate.
EXECUTION_ROLE_ACTIONS = frozenset({PULL_AUTH_ACTION, *PULL_ACTIONS, SECRET_ACTION, PARAMETER_ACTION, "kms:Decrypt"})
GATE_CHECK_IDS = frozenset(
    {RUNNER_CHECK_ID, CONFIG_CHECK_ID, PLAN_CHECK_ID, DEADLINE_CHECK_ID, WIRING_CHECK_ID, CONTINUATION_CHECK_ID}
)
CHECK_ID = re.compile(r"[a-z][a-z0-9]*\.[a-z0-9_]+")
FILE_SUFFIXES = frozenset({"md", "py", "yaml", "yml", "json", "toml", "txt", "sh", "html", "cfg"})


# --------------------------------------------------------------------------------------------
# the template's statements
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Statement:
    """One IAM statement of the template (or what grants like one: a permission, a managed policy)."""

    role: str
    sid: str
    #: The template condition it exists under; None when always.
    when: str | None
    actions: frozenset[str]
    star: bool
    condition_keys: frozenset[str] = frozenset()
    principals: frozenset[str] = frozenset()

    @property
    def key(self) -> tuple[str, str]:
        return self.role, self.sid


def _strings(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value or []]


def _unwrap(item: Any, when: str | None) -> tuple[Any, str | None]:
    """``!If [Cond, statement, !Ref AWS::NoValue]`` → (statement, Cond)."""
    if isinstance(item, Mapping) and set(item) == {"Fn::If"}:
        condition, yes, no = item["Fn::If"]
        assert no == {"Ref": "AWS::NoValue"}, f"a statement chosen between two by {condition}: teach this test"
        return yes, condition
    return item, when


def _document(role: str, document: Mapping[str, Any], when: str | None, default_sid: str) -> Iterator[Statement]:
    items = document["Statement"]
    for index, raw in enumerate(items if isinstance(items, list) else [items]):
        statement, condition = _unwrap(raw, when)
        assert "NotAction" not in statement and "NotResource" not in statement, f"{role}: teach this test NotAction"
        sid = statement.get("Sid") or (default_sid if len(items) == 1 else f"{default_sid} {index + 1}")
        principal = statement.get("Principal") or {}
        names = (
            frozenset({"*"})
            if principal == "*"
            else frozenset(p for kind in ("Service", "AWS", "Federated") for p in _principals(principal.get(kind)))
        )
        yield Statement(
            role=role,
            sid=str(sid),
            when=condition,
            actions=frozenset(_strings(statement["Action"])),
            star="*" in _strings(statement.get("Resource")),
            condition_keys=frozenset(k for test in (statement.get("Condition") or {}).values() for k in test),
            principals=names,
        )


def _principals(value: Any) -> list[str]:
    """Principals as the doc names them: a role by its logical id, the account as ``root``."""
    if isinstance(value, list):
        return [name for item in value for name in _principals(item)]
    if isinstance(value, Mapping) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return [str(target[0] if isinstance(target, list) else str(target).split(".")[0])]
    if isinstance(value, Mapping) and "Fn::Sub" in value and str(value["Fn::Sub"]).endswith(":root"):
        return ["root"]
    return _strings(value)


def template_statements(template: Mapping[str, Any]) -> list[Statement]:
    """Every statement that grants something, from every resource that can hold one."""
    found: list[Statement] = []
    function_globals = (template.get("Globals") or {}).get("Function") or {}
    for logical_id, resource in template["Resources"].items():
        kind = str(resource["Type"])
        props = resource.get("Properties") or {}
        when = resource.get("Condition")
        if kind == "AWS::IAM::Role":
            found += _document(logical_id, props["AssumeRolePolicyDocument"], when, "trust")
            for policy in props.get("Policies") or []:
                found += _document(logical_id, policy["PolicyDocument"], when, "policy")
            for arn in props.get("ManagedPolicyArns") or []:
                name = str(arn).rsplit("/", 1)[-1]
                found.append(Statement(logical_id, f"managed {name}", when, frozenset({name}), star=False))
        elif kind == "AWS::KMS::Key":
            found += _document(logical_id, props["KeyPolicy"], when, "key policy")
        elif kind in {"AWS::Lambda::Permission", "AWS::Lambda::LayerVersionPermission"}:
            found.append(Statement(logical_id, "permission", when, frozenset(_strings(props["Action"])), star=False))
        elif kind == "AWS::Serverless::Function":
            found += _function_grants(logical_id, props, function_globals, when)
        elif "PolicyDocument" in props:  # AWS::IAM::Policy, a queue, topic, bucket or endpoint policy
            found += _document(logical_id, props["PolicyDocument"], when, "policy")
        else:
            assert not re.search(r"::IAM::|Policy$|Permission$", kind), f"{logical_id} ({kind}): teach this test"
    return found


def _function_grants(
    logical_id: str, props: Mapping[str, Any], function_globals: Mapping[str, Any], when: str | None
) -> Iterator[Statement]:
    """What SAM makes of a function's ``Policies`` and ``Events``, or of a missing ``Role``."""
    if "Role" not in props and "Role" not in function_globals:
        # SAM creates a role with this managed policy (and the function's Policies).
        yield Statement(logical_id, "sam role", when, frozenset({"AWSLambdaBasicExecutionRole"}), star=False)
    policies = props.get("Policies") or []
    for index, policy in enumerate(policies if isinstance(policies, list) else [policies]):
        if isinstance(policy, str):  # a managed policy, by name or ARN
            name = policy.rsplit("/", 1)[-1]
            yield Statement(logical_id, f"managed {name}", when, frozenset({name}), star=False)
        elif "Statement" in policy:
            yield from _document(logical_id, policy, when, f"policy {index + 1}")
        else:  # a SAM policy template: {SQSSendMessagePolicy: {QueueName: ...}}
            (name,) = policy
            yield Statement(logical_id, f"template {name}", when, frozenset({str(name)}), star=False)
    for name in props.get("Events") or {}:
        # SAM adds a Lambda permission (or a role statement) for each event source.
        yield Statement(logical_id, f"event {name}", when, frozenset({"lambda:InvokeFunction"}), star=False)


# --------------------------------------------------------------------------------------------
# the documented statements
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    line: int
    cells: tuple[str, ...]

    @property
    def key(self) -> tuple[str, str]:
        return _ticked(self.cells[0]), self.sid

    @property
    def sid(self) -> str:
        cell = self.cells[1]
        return _ticked(cell) if "`" in cell else cell.strip()

    @property
    def when(self) -> str | None:
        cell = self.cells[2].strip()
        return None if cell == "always" else _ticked(cell)

    @property
    def actions(self) -> frozenset[str]:
        return frozenset(re.findall(r"`([^`]+)`", self.cells[3]))

    @property
    def star(self) -> bool:
        return self.cells[4].strip().startswith("`*`")

    @property
    def text(self) -> str:
        return " | ".join(self.cells)


def _ticked(cell: str) -> str:
    names = re.findall(r"`([^`]+)`", cell)
    assert len(names) == 1, f"expected one `name` in {cell!r}"
    return str(names[0])


def table_lines(path: Path = SECURITY) -> tuple[int, list[str]]:
    """The lines of the section *The template's IAM statements* (1-based number of its first line)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    starts = [i for i, line in enumerate(lines) if re.fullmatch(rf"#+\s+{re.escape(TABLE_HEADING)}\s*", line)]
    assert len(starts) == 1, f"{path.name}: one heading '{TABLE_HEADING}' expected"
    end = next((i for i in range(starts[0] + 1, len(lines)) if lines[i].startswith("#")), len(lines))
    return starts[0] + 2, lines[starts[0] + 1 : end]


def table_rows(path: Path = SECURITY) -> list[Row]:
    first, lines = table_lines(path)
    rows = [
        Row(first + i, tuple(cell.strip() for cell in line.strip().strip("|").split("|")))
        for i, line in enumerate(lines)
        if line.startswith("|")
    ]
    assert rows and list(rows[0].cells) == COLUMNS, f"{path.name}: the table's columns are {COLUMNS}"
    assert set("".join(rows[1].cells)) <= set("-: "), f"{path.name}: the header separator row"
    body = rows[2:]
    for row in body:
        assert len(row.cells) == len(COLUMNS), f"{path.name}:{row.line}: {len(row.cells)} cells"
    return body


@pytest.fixture(scope="module")
def statements() -> dict[tuple[str, str], Statement]:
    found = template_statements(load_template(TEMPLATE))
    by_key = {s.key: s for s in found}
    assert len(by_key) == len(found), "two statements of one role share a Sid: give them their own"
    return by_key


@pytest.fixture(scope="module")
def rows() -> dict[tuple[str, str], Row]:
    found = table_rows()
    by_key = {r.key: r for r in found}
    assert len(by_key) == len(found), "a statement is documented twice"
    return by_key


# --------------------------------------------------------------------------------------------
# the IAM table, both ways
# --------------------------------------------------------------------------------------------
def test_the_collector_sees_every_kind_of_grant() -> None:
    """The template reader under the table test reads each shape it claims to (a synthetic template)."""
    template = {
        "Globals": {"Function": {}},
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Statement": [
                            {"Effect": "Allow", "Principal": {"Service": "x.amazonaws.com"}, "Action": "sts:AssumeRole"}
                        ]
                    },
                    "Policies": [
                        {
                            "PolicyDocument": {
                                "Statement": [
                                    {
                                        "Sid": "A",
                                        "Action": ["s3:GetObject"],
                                        "Resource": "arn:x",
                                        "Condition": {"StringEquals": {"aws:SourceAccount": "1"}},
                                    },
                                    {
                                        "Fn::If": [
                                            "C",
                                            {"Sid": "B", "Action": "sqs:SendMessage", "Resource": "*"},
                                            {"Ref": "AWS::NoValue"},
                                        ]
                                    },
                                ]
                            }
                        }
                    ],
                    "ManagedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
                },
            },
            "Perm": {
                "Type": "AWS::Lambda::Permission",
                "Condition": "D",
                "Properties": {"Action": "lambda:InvokeFunction"},
            },
            "Fn": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "Policies": ["AWSXrayWriteOnlyAccess", {"SQSPollerPolicy": {"QueueName": "q"}}],
                    "Events": {"Api": {"Type": "Api"}},
                },
            },
            "Plain": {"Type": "AWS::SNS::Topic", "Properties": {}},
        },
    }
    found = {s.key: s for s in template_statements(template)}
    assert set(found) == {
        ("Role", "trust"),
        ("Role", "A"),
        ("Role", "B"),
        ("Role", "managed ReadOnlyAccess"),
        ("Perm", "permission"),
        ("Fn", "sam role"),
        ("Fn", "managed AWSXrayWriteOnlyAccess"),
        ("Fn", "template SQSPollerPolicy"),
        ("Fn", "event Api"),
    }
    assert found[("Role", "trust")].principals == {"x.amazonaws.com"}
    assert found[("Role", "A")].condition_keys == {"aws:SourceAccount"} and not found[("Role", "A")].star
    assert found[("Role", "B")].when == "C" and found[("Role", "B")].star
    assert found[("Perm", "permission")].when == "D"
    with pytest.raises(AssertionError, match="teach this test"):
        template_statements({"Resources": {"P": {"Type": "AWS::S3::BucketPolicy", "Properties": {}}}})


def test_every_template_statement_is_documented_and_nothing_else(
    statements: dict[tuple[str, str], Statement], rows: dict[tuple[str, str], Row]
) -> None:
    assert len(statements) >= 25  # the two roles' statements: the reader did find them
    missing = sorted(set(statements) - set(rows))
    extra = sorted(set(rows) - set(statements))
    assert not missing, f"template statements missing from docs/security.md ({TABLE_HEADING}): {missing}"
    assert not extra, f"docs/security.md documents statements the template does not have: {extra}"


def test_each_documented_statement_has_the_templates_actions_condition_and_scope(
    statements: dict[tuple[str, str], Statement], rows: dict[tuple[str, str], Row]
) -> None:
    for key, statement in statements.items():
        row = rows.get(key)
        if row is None:
            continue  # reported by the test above
        where = f"docs/security.md:{row.line} ({'/'.join(key)})"
        assert row.actions == statement.actions, (
            f"{where}: actions {sorted(row.actions)} in the doc, {sorted(statement.actions)} in the template"
        )
        assert row.when == statement.when, (
            f"{where}: When {row.when or 'always'}, template {statement.when or 'always'}"
        )
        assert row.star == statement.star, (
            f"{where}: Resource {'is' if statement.star else 'is not'} `*` in the template"
        )
        for name in statement.condition_keys | statement.principals:
            assert f"`{name}`" in row.text, f"{where}: name `{name}` (a condition key or principal of the statement)"
        assert row.cells[5], f"{where}: say why"


def test_the_rest_of_the_docs_names_no_action_the_stack_does_not_grant(
    statements: dict[tuple[str, str], Statement],
) -> None:
    granted = frozenset().union(*(s.actions for s in statements.values()))
    first, table = table_lines()
    table_span = range(first, first + len(table))
    named: dict[str, list[str]] = {}
    for path in DOCS:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if path == SECURITY and number in table_span:
                continue
            for service, action in ACTION.findall(line):
                if service != "aws":  # aws:SourceAccount and friends are condition keys
                    named.setdefault(f"{service}:{action}", []).append(f"{path.name}:{number}")
    assert PULL_AUTH_ACTION in named  # the scan is not blind
    unknown = {action: where for action, where in named.items() if action not in granted | EXECUTION_ROLE_ACTIONS}
    assert not unknown, f"actions the template does not grant (nor iam.execution_role simulates): {unknown}"


def test_the_action_pattern_tells_actions_from_condition_keys_and_arns() -> None:
    line = "`ecs:ListTasks` with `ecs:cluster` on arn:aws:ecs:eu-west-1:1:cluster/* and `s3:GetObject*`; name:password"
    assert [f"{s}:{a}" for s, a in ACTION.findall(line)] == ["ecs:ListTasks", "s3:GetObject*"]


# --------------------------------------------------------------------------------------------
# check ids, variables, parameters, commands and links of both documents
# --------------------------------------------------------------------------------------------
def known_check_ids() -> frozenset[str]:
    return frozenset(BUILTIN_TYPES) | GATE_CHECK_IDS


def named_check_ids(path: Path) -> dict[str, list[int]]:
    """Check ids a document names: `ecs.task_size` in backticks (file names aside) and each reason quote's ids."""
    found: dict[str, list[int]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        for token in re.findall(r"`([^`\s]+)`", line):
            if CHECK_ID.fullmatch(token) and token.rsplit(".", 1)[1] not in FILE_SUFFIXES:
                found.setdefault(token, []).append(number)
    for block in fenced_blocks(path, lang="text"):
        if block.info.startswith("reason="):
            for token in re.findall(rf"(?:^|; )({CHECK_ID.pattern}): ", block.text):
                found.setdefault(token, []).append(block.line)
    return found


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_every_check_id_named_exists(path: Path) -> None:
    named = named_check_ids(path)
    assert len(named) >= 8, f"{path.name}: the check ids were not found"
    unknown = {token: lines for token, lines in named.items() if token not in known_check_ids()}
    assert not unknown, f"{path.name}: no such check ids (line numbers): {unknown}"


def test_a_misspelt_check_id_would_be_caught(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(
        "See `ecs.task_sizes` and `template.yaml`.\n\n```text reason=x\nelb.target_healthy: 1/2 targets\n```\n",
        encoding="utf-8",
    )
    assert set(named_check_ids(doc)) == {"ecs.task_sizes", "elb.target_healthy"}
    assert not set(named_check_ids(doc)) & known_check_ids()


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_every_variable_and_parameter_named_exists(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    variables = set(re.findall(r"\bTRAFFICGATE_[A-Z0-9_]+\b", text))
    assert not variables - set(constants.ALL), (
        f"{path.name}: no such variables: {sorted(variables - set(constants.ALL))}"
    )
    parameters = set(load_template(TEMPLATE)["Parameters"])
    assigned = set(re.findall(r"`([A-Z][A-Za-z0-9]+)=[^`]*`", text))
    assert not assigned - parameters, f"{path.name}: no such template parameters: {sorted(assigned - parameters)}"


def strict_parser() -> argparse.ArgumentParser:
    """trafficgate's parser without abbreviations: a doc names each flag in full."""
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for sub in (parser, *commands.choices.values()):
        sub.allow_abbrev = False
    return parser


def test_the_strict_parser_refuses_an_abbreviated_flag() -> None:
    with pytest.raises(SystemExit):
        strict_parser().parse_args(["check", "--hook", "BeforeInstall", "--deployment", "d-X"])


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_every_trafficgate_command_parses(path: Path) -> None:
    for block in fenced_blocks(path, lang="sh"):
        for line in block.text.splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            argv = shlex.split(line)
            assert argv[0] == "trafficgate", f"{block.where()}: only trafficgate commands here (checked below)"
            try:
                strict_parser().parse_args(argv[1:])
            except SystemExit:
                pytest.fail(f"{block.where()}: `{line}` does not parse with trafficgate's own parser")


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_every_aws_cli_command_named_exists(path: Path) -> None:
    """Inline `aws <service> <command>`: the command is an operation of that service (botocore's model)."""
    services = {"deploy": "codedeploy"}
    session = botocore.session.get_session()
    for service, command in re.findall(r"`aws ([a-z0-9-]+) ([a-z0-9-]+)[^`]*`", path.read_text(encoding="utf-8")):
        model = session.get_service_model(services.get(service, service))
        operation = "".join(part.capitalize() for part in command.split("-"))
        assert operation in model.operation_names, f"{path.name}: aws {service} {command}"


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped (not - and _), spaces as hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.replace("`", "").lower())
    return text.replace(" ", "-")


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_every_link_reaches_a_document_and_heading(path: Path) -> None:
    links = re.findall(r"\]\(([^)\s#]*)(?:#([^)\s]+))?\)", path.read_text(encoding="utf-8"))
    assert links
    for target, anchor in links:
        if target.startswith(("http://", "https://")):
            continue
        document = (path.parent / target) if target else path
        assert document.is_file(), f"{path.name}: link to {target}"
        if anchor:
            slugs = {_slug(h) for h in headings(document)}
            assert anchor in slugs, f"{path.name}: no heading #{anchor} in {document.name}"
