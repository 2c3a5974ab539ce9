"""Check the shell commands of a Markdown document against the real command-line interfaces.

A command in a doc is only worth copying if every word of it exists. This module reads a
```` ```sh ```` block the way a shell would split it (``\\`` continuations, comments, ``;``, ``&&``,
``|``, redirections, ``$(...)`` substitutions checked as commands of their own) and asks, for each
command, the model of the program it names:

``aws <service> <operation> --flag ...``
    The operation exists in botocore's service model (the CLI's service names mapped to botocore's,
    ``deploy`` → ``codedeploy``; ``create-deployment`` → ``CreateDeployment``), and every ``--flag``
    is an input member of it, kebab-cased as the CLI does, or a global CLI option. ``aws <service>
    wait <waiter>`` is checked against botocore's waiter model. The CLI's own commands, which no
    service model describes (``aws cloudformation deploy``, ``aws cloudformation package``), have a
    table of their flags below, copied from the AWS CLI command reference.
``sam <command> --flag ...``
    The flag is in ``sam <command> --help`` of the SAM CLI in ``.venv-sam``.
``trafficgate <command> --flag ...``
    The flag is one of the project's own argparse parser (``trafficgate_local.cli.build_parser``).
``make <target>``
    The target is in the Makefile (variables such as ``$(SAM)`` expanded).

Any other program is a problem unless it is in the allow-list the checker was given. The aws CLI is
not installed here, so nothing is ever run but ``sam --help``.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import botocore.model
import botocore.session
from botocore import xform_name

from tests.support.markdown_docs import ROOT

__all__ = [
    "ALLOWED_PROGRAMS",
    "AWS_CUSTOM_COMMANDS",
    "AWS_GLOBAL_OPTIONS",
    "Command",
    "CommandChecker",
    "shell_commands",
]

#: Programs a doc may use without a model of their flags: shell built-ins and everyday tools whose
#: use in a doc is plain (``jq -Rs .`` turns a file into one JSON string for ``--revision``).
ALLOWED_PROGRAMS: frozenset[str] = frozenset({"cd", "export", "echo", "git", "jq"})

#: Options every aws command takes (AWS CLI v2 reference, "Global Options"), and whether each takes
#: a value.
AWS_GLOBAL_OPTIONS: dict[str, bool] = {
    "--debug": False,
    "--endpoint-url": True,
    "--no-verify-ssl": False,
    "--no-paginate": False,
    "--output": True,
    "--query": True,
    "--profile": True,
    "--region": True,
    "--version": False,
    "--color": True,
    "--no-sign-request": False,
    "--ca-bundle": True,
    "--cli-read-timeout": True,
    "--cli-connect-timeout": True,
    "--cli-binary-format": True,
    "--no-cli-pager": False,
    "--cli-auto-prompt": False,
    "--no-cli-auto-prompt": False,
    "--cli-error-format": True,
    "--help": False,
}

#: Options every command generated from a service model takes, besides its input members.
_AWS_OPERATION_OPTIONS = frozenset({"--cli-input-json", "--cli-input-yaml", "--generate-cli-skeleton"})
#: Options of an operation the CLI paginates.
_AWS_PAGINATION_OPTIONS = frozenset({"--max-items", "--starting-token", "--page-size"})

#: The CLI's own commands, which are in no botocore model: their flags, from the synopses of the AWS CLI
#: command reference (https://docs.aws.amazon.com/cli/latest/reference/cloudformation/deploy.html and
#: .../cloudformation/package.html). Add a row, with its source, before a doc uses another one.
AWS_CUSTOM_COMMANDS: dict[tuple[str, str], frozenset[str]] = {
    ("cloudformation", "deploy"): frozenset(
        {
            "--template-file",
            "--stack-name",
            "--s3-bucket",
            "--force-upload",
            "--s3-prefix",
            "--kms-key-id",
            "--parameter-overrides",
            "--capabilities",
            "--no-execute-changeset",
            "--disable-rollback",
            "--no-disable-rollback",
            "--role-arn",
            "--notification-arns",
            "--fail-on-empty-changeset",
            "--no-fail-on-empty-changeset",
            "--tags",
        }
    ),
    ("cloudformation", "package"): frozenset(
        {
            "--template-file",
            "--s3-bucket",
            "--s3-prefix",
            "--kms-key-id",
            "--output-template-file",
            "--use-json",
            "--force-upload",
            "--metadata",
        }
    ),
}

#: CLI service names that are not botocore's (the rest are the same).
_AWS_SERVICE_NAMES = {"deploy": "codedeploy", "s3api": "s3", "configservice": "config"}

_SUBSTITUTION = re.compile(r"\$\(([^()]*)\)")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_SEPARATORS = frozenset({";", "&&", "||", "|", "&"})
_REDIRECTIONS = frozenset({">", ">>", "<", ">&", "<<<"})


@dataclass(frozen=True)
class Command:
    """One simple command of a shell block: its words, and the source line it came from."""

    argv: tuple[str, ...]
    line: str

    @property
    def program(self) -> str:
        """``aws`` for ``aws ...``, ``trafficgate`` for ``.venv/bin/trafficgate ...``."""
        return Path(self.argv[0]).name


def shell_commands(script: str) -> list[Command]:
    """Split a shell snippet into simple commands, the way ``sh`` would read them.

    ``\\``-continued lines are joined, comments dropped, ``;``/``&&``/``||``/``|`` separate commands,
    a redirection and its file are dropped, leading ``NAME=value`` assignments are dropped, and each
    ``$(...)`` becomes a command of its own (its place in the outer command reads ``SUBST``).
    Nested substitutions, backquotes and here-documents are not read: a doc should not need them.
    """
    commands: list[Command] = []
    for raw_line in script.replace("\\\n", " ").splitlines():
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        for inner in _SUBSTITUTION.findall(line):
            commands.extend(shell_commands(inner))
        flat = _SUBSTITUTION.sub("SUBST", line)
        lexer = shlex.shlex(flat, posix=True, punctuation_chars=";&|<>")
        lexer.whitespace_split = True
        words: list[str] = []
        skip_next = False
        for token in lexer:
            if skip_next:
                skip_next = False
                continue
            if token in _REDIRECTIONS:
                skip_next = True
                continue
            if token in _SEPARATORS:
                _append(commands, words, line)
                words = []
                continue
            words.append(token)
        _append(commands, words, line)
    return commands


def _append(commands: list[Command], words: list[str], line: str) -> None:
    while words and _ASSIGNMENT.match(words[0]):
        words = words[1:]
    if words:
        commands.append(Command(tuple(words), line))


def _flags(words: Iterable[str]) -> list[str]:
    """The ``--name`` (or ``-n``) of each option word; ``--name=value`` gives ``--name``."""
    return [word.split("=", 1)[0] for word in words if word.startswith("-") and word != "-"]


@dataclass
class CommandChecker:
    """Checks commands against the CLIs' own models; one instance caches what it has read.

    Parameters
    ----------
    root
        The project whose Makefile, ``.venv-sam`` and argparse parser are the reference.
    allowed_programs
        Programs accepted without any check of their words.
    """

    root: Path = ROOT
    allowed_programs: Collection[str] = ALLOWED_PROGRAMS
    _sam_help: dict[tuple[str, ...], str | None] = field(default_factory=dict, repr=False)

    # --- the entry points ----------------------------------------------------------------------
    def check(self, script: str) -> list[str]:
        """Every problem of every command of a shell snippet, each naming its command."""
        return [problem for command in shell_commands(script) for problem in self.problems(command)]

    def problems(self, command: Command) -> list[str]:
        """What is wrong with one command: an unknown program, subcommand, operation or flag."""
        program = command.program
        checker = {
            "aws": self._aws,
            "sam": self._sam,
            "trafficgate": self._trafficgate,
            "make": self._make,
        }.get(program)
        if checker is not None:
            return [f"{problem}: {command.line}" for problem in checker(list(command.argv[1:]))]
        if program in self.allowed_programs:
            return []
        return [f"program {program!r} is neither checked nor allowed: {command.line}"]

    # --- aws ---------------------------------------------------------------------------------------
    def _aws(self, words: list[str]) -> list[str]:
        positional: list[str] = []
        rest = list(words)
        # aws [global options] <service> [global options] <operation> ...
        while rest and len(positional) < 2:
            word = rest.pop(0)
            name = word.split("=", 1)[0]
            if word.startswith("--"):
                if name not in AWS_GLOBAL_OPTIONS:
                    return [f"aws: {name} before the operation is not a global option"]
                if AWS_GLOBAL_OPTIONS[name] and "=" not in word and rest:
                    rest.pop(0)
                continue
            positional.append(word)
        if len(positional) < 2:
            return ["aws: a service and an operation are needed"]
        service, operation = positional
        flags = _flags(rest)
        custom = AWS_CUSTOM_COMMANDS.get((service, operation))
        if custom is not None:
            allowed = custom | set(AWS_GLOBAL_OPTIONS)
            return [f"aws {service} {operation}: no option {flag}" for flag in flags if flag not in allowed]
        model = _service_model(_AWS_SERVICE_NAMES.get(service, service))
        if model is None:
            return [f"aws: no service {service!r} in botocore"]
        if operation == "wait":
            return self._aws_wait(service, model, rest)
        operations = {xform_name(name, "-"): name for name in model.operation_names}
        if operation not in operations:
            return [f"aws {service}: no operation {operation!r} in botocore's {model.service_name} model"]
        operation_model = model.operation_model(operations[operation])
        allowed = _input_options(operation_model) | _AWS_OPERATION_OPTIONS | set(AWS_GLOBAL_OPTIONS)
        if _paginated(model.service_name, operations[operation]):
            allowed |= _AWS_PAGINATION_OPTIONS
        return [
            f"aws {service} {operation}: no option {flag} (input members of {operation_model.name})"
            for flag in flags
            if flag not in allowed
        ]

    def _aws_wait(self, service: str, model: botocore.model.ServiceModel, rest: list[str]) -> list[str]:
        waiters = botocore.session.get_session().get_waiter_model(model.service_name)
        names = {xform_name(name, "-"): name for name in waiters.waiter_names}
        waiter = rest[0] if rest else ""
        if waiter not in names:
            return [f"aws {service} wait: no waiter {waiter!r} (botocore: {', '.join(sorted(names))})"]
        operation_model = model.operation_model(waiters.get_waiter(names[waiter]).operation)
        allowed = _input_options(operation_model) | set(AWS_GLOBAL_OPTIONS)
        return [f"aws {service} wait {waiter}: no option {flag}" for flag in _flags(rest[1:]) if flag not in allowed]

    # --- sam ---------------------------------------------------------------------------------------
    def _sam(self, words: list[str]) -> list[str]:
        if not words or words[0].startswith("-"):
            return ["sam: no command"]
        path = (words[0],)
        help_text = self._help(path)
        if help_text is None:
            return [f"sam: no command {words[0]!r}"]
        rest = words[1:]
        # A command group (sam list, sam local) names its subcommand next.
        subcommands = _sam_subcommands(help_text)
        if subcommands:
            if not rest or rest[0] not in subcommands:
                return [f"sam {words[0]}: no subcommand {rest[0] if rest else ''!r} (has {', '.join(subcommands)})"]
            path = (*path, rest[0])
            help_text = self._help(path)
            rest = rest[1:]
            if help_text is None:
                return [f"sam {' '.join(path)}: --help failed"]
        known = _sam_options(help_text)
        return [f"sam {' '.join(path)}: no option {flag}" for flag in _flags(rest) if flag not in known]

    def sam_binary(self) -> Path:
        """The SAM CLI of ``.venv-sam``, which ``make .venv-sam/bin/sam`` (and ``make test``) installs."""
        return self.root / ".venv-sam" / "bin" / "sam"

    def _help(self, path: tuple[str, ...]) -> str | None:
        if path not in self._sam_help:
            sam = self.sam_binary()
            if not sam.exists():
                raise AssertionError(f"{sam} is missing: run `make .venv-sam/bin/sam` (make test does)")
            env = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
            done = subprocess.run(
                [str(sam), *path, "--help"], capture_output=True, text=True, env=env, timeout=120, check=False
            )
            self._sam_help[path] = done.stdout if done.returncode == 0 else None
        return self._sam_help[path]

    def prefetch_sam(self, commands: Iterable[Command]) -> None:
        """Read ``sam <command> --help`` for every command at once: each start of the SAM CLI takes seconds."""
        from concurrent.futures import ThreadPoolExecutor

        paths = {(c.argv[1],) for c in commands if c.program == "sam" and len(c.argv) > 1}
        paths -= set(self._sam_help)
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(self._help, sorted(paths)))

    # --- trafficgate -------------------------------------------------------------------------------
    def _trafficgate(self, words: list[str]) -> list[str]:
        subparsers = _trafficgate_subparsers()
        if not words or words[0] not in subparsers:
            return [f"trafficgate: no command {words[0] if words else ''!r} (has {', '.join(subparsers)})"]
        known = {option for action in subparsers[words[0]]._actions for option in action.option_strings}
        return [f"trafficgate {words[0]}: no option {flag}" for flag in _flags(words[1:]) if flag not in known]

    # --- make --------------------------------------------------------------------------------------
    def _make(self, words: list[str]) -> list[str]:
        targets = makefile_targets(self.root / "Makefile")
        problems = []
        for word in words:
            if _ASSIGNMENT.match(word):
                continue  # make VAR=value
            if word.startswith("-"):
                problems.append(f"make: option {word} is not checked; leave it out of the docs")
            elif word not in targets:
                problems.append(f"make: no target {word!r} in the Makefile")
        return problems


def makefile_targets(makefile: Path) -> set[str]:
    """The Makefile's targets, with ``$(NAME)`` expanded from its simple variable definitions."""
    text = makefile.read_text(encoding="utf-8")
    variables: dict[str, str] = {}
    for name, value in re.findall(r"^([A-Za-z_][A-Za-z0-9_]*)\s*(?::=|\?=|=)\s*(.*?)\s*$", text, flags=re.MULTILINE):
        variables.setdefault(name, value)

    def expand(word: str, depth: int = 0) -> str:
        if depth > 10:
            return word
        expanded = re.sub(r"\$\((\w+)\)", lambda m: variables.get(m.group(1), m.group(0)), word)
        return expanded if expanded == word else expand(expanded, depth + 1)

    targets: set[str] = set()
    for head in re.findall(r"^([^\s#][^:=\n]*?)\s*:(?!=)", text, flags=re.MULTILINE):
        for word in head.split():
            target = expand(word)
            if not re.fullmatch(r"\.[A-Z_]+", target):  # .PHONY and other special targets
                targets.add(target)
    return targets


@cache
def _service_model(name: str) -> botocore.model.ServiceModel | None:
    session = botocore.session.get_session()
    if name not in session.get_available_services():
        return None
    return session.get_service_model(name)


@cache
def _paginated(service: str, operation: str) -> bool:
    try:
        return botocore.session.get_session().get_paginator_model(service).get_paginator(operation) is not None
    except Exception:  # botocore raises ValueError for no paginator, UnknownServiceError for none at all
        return False


def _input_options(operation_model: botocore.model.OperationModel) -> set[str]:
    """The CLI options of an operation's input: ``--member-name``, and ``--no-member-name`` for booleans."""
    shape = operation_model.input_shape
    options: set[str] = set()
    for name, member in (shape.members if shape is not None else {}).items():
        option = "--" + xform_name(name, "-")
        options.add(option)
        if member.type_name == "boolean":
            options.add("--no-" + option[2:])
    return options


def _sam_subcommands(help_text: str) -> list[str]:
    """The commands listed under ``Commands:`` in a SAM CLI group's help."""
    _, found, section = help_text.partition("\nCommands:\n")
    if not found:
        return []
    return re.findall(r"^ {2,6}([a-z][a-z0-9-]*)\s", section, flags=re.MULTILINE)


def _sam_options(help_text: str) -> set[str]:
    """The options a SAM CLI help text declares: the first column of each line that starts with ``-``."""
    options = {"--help", "-h"}
    for line in help_text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("-"):
            continue
        first_column = re.split(r"\s{2,}", stripped, maxsplit=1)[0]
        options.update(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", first_column))
    return options


@cache
def _trafficgate_subparsers() -> dict[str, argparse.ArgumentParser]:
    from trafficgate_local.cli import build_parser

    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("trafficgate's parser has no subcommands")
