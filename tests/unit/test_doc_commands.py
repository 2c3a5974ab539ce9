"""The docs' command checker accepts real commands and names what is wrong with made-up ones."""

from __future__ import annotations

from tests.support.doc_commands import CommandChecker, makefile_targets, shell_commands
from tests.support.markdown_docs import ROOT

SCRIPT = """\
# a comment
export APP=shop
aws deploy create-deployment \\
  --application-name "$APP" --deployment-group-name web \\
  --revision "{\\"content\\": $(jq -Rs . appspec.yaml)}" > out.json && echo done
"""


def test_a_script_splits_into_commands_with_substitutions_and_continuations() -> None:
    commands = shell_commands(SCRIPT)
    assert [c.argv[:3] for c in commands] == [
        ("export", "APP=shop"),
        ("jq", "-Rs", "."),
        ("aws", "deploy", "create-deployment"),
        ("echo", "done"),
    ]
    assert "out.json" not in commands[2].argv  # a redirection is not an argument
    assert commands[2].argv[-1].endswith("SUBST}")


def test_known_good_commands_pass() -> None:
    checker = CommandChecker()
    good = """\
aws --region eu-west-1 deploy create-deployment --application-name shop --deployment-group-name web \\
  --description x --no-ignore-application-stop-failures --output json
aws deploy stop-deployment --deployment-id d-ABCDEFGH1 --auto-rollback-enabled
aws deploy wait deployment-successful --deployment-id d-ABCDEFGH1
aws deploy list-deployments --application-name shop --max-items 5
aws cloudformation deploy --template-file t.yaml --stack-name s --capabilities CAPABILITY_IAM
aws s3api get-object --bucket b --key k out.json
trafficgate rehearse --platform ecs --config ecs:CANARY:10:5
make test PYTEST_ARGS=
make .venv-sam/bin/sam
"""
    assert checker.check(good) == []


def test_known_bad_commands_are_named() -> None:
    checker = CommandChecker()
    bad = """\
aws deploy create-deployment --application-name shop --deployment-group shop-web
aws deploy start-deployment --application-name shop
aws codedeployx list-applications
aws deploy wait deployment-done --deployment-id d-1
aws deploy get-deployment --deployment-id d-1 --max-items 3
aws cloudformation deploy --template t.yaml --stack-name s
trafficgate rehearse --scenarios errors
make deploy
curl https://example.com
"""
    problems = checker.check(bad)
    expected = [
        "no option --deployment-group ",
        "no operation 'start-deployment'",
        "no service 'codedeployx'",
        "no waiter 'deployment-done'",
        "get-deployment: no option --max-items",
        "aws cloudformation deploy: no option --template:",
        "trafficgate rehearse: no option --scenarios",
        "no target 'deploy'",
        "program 'curl' is neither checked nor allowed",
    ]
    assert len(problems) == len(expected), problems
    for problem, fragment in zip(problems, expected, strict=True):
        assert fragment in problem, (fragment, problem)


def test_sam_flags_come_from_sam_help() -> None:
    checker = CommandChecker()
    assert checker.check("sam publish --template packaged.yaml --semantic-version 0.1.0 --region eu-west-1\n") == []
    assert checker.check("sam list stack-outputs --stack-name trafficgate --output json\n") == []
    problems = checker.check("sam publish --template-url packaged.yaml\nsam list outputs --stack-name x\n")
    assert len(problems) == 2, problems
    assert "sam publish: no option --template-url" in problems[0]
    assert "sam list: no subcommand 'outputs'" in problems[1]


def test_makefile_targets_expand_variables() -> None:
    targets = makefile_targets(ROOT / "Makefile")
    assert {"test", "lint", "sam-validate", ".venv-sam/bin/sam", ".venv/bin/python"} <= targets
    assert ".PHONY" not in targets
