"""What the ``trafficgate`` commands share: exit statuses, argument parsing, progress, ``--html``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from trafficgate.hooks import EcsStage, Hook

EXIT_SUCCEEDED = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
#: An ECS lifecycle hook answered IN_PROGRESS: ECS would call it again.
EXIT_IN_PROGRESS = 3


def parse_hook(text: str) -> Hook | None:
    """The hook named by ``text``, or None (after saying why) when it names none."""
    try:
        return Hook.parse(text)
    except ValueError as exc:
        print(f"trafficgate: {exc}", file=sys.stderr)
        return None


def parse_hook_or_stage(text: str) -> Hook | EcsStage | None:
    """A CodeDeploy hook (``AfterAllowTestTraffic``) or an ECS stage (``POST_TEST_TRAFFIC_SHIFT``); None
    (after saying why) when ``text`` names neither."""
    try:
        return Hook.parse(text)
    except ValueError as hook_error:
        try:
            return EcsStage.parse(text)
        except ValueError as stage_error:
            print(f"trafficgate: {hook_error}; or an ECS stage: {str(stage_error).split('expected one of: ')[1]}",
                  file=sys.stderr)
            return None


def parse_set(items: list[str]) -> dict[str, str] | None:
    """``--set NAME=VALUE`` options as a dict, or None (after saying why) when one is malformed."""
    env: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            print(f"trafficgate: --set expects NAME=VALUE, got {item!r}", file=sys.stderr)
            return None
        env[key] = value
    return env


def html_target(text: str | None) -> Path | Literal[False] | None:
    """The file of ``--html``, None without the flag, False (after saying why) when it cannot be written."""
    if text is None:
        return None
    from trafficgate_local import report_html

    try:
        return report_html.html_target(text)
    except ValueError as exc:
        print(f"trafficgate: {exc}", file=sys.stderr)
        return False


def write_html(path: Path, page: Callable[[], str]) -> bool:
    """Write the ``--html`` page; False (after saying why) when it cannot be written."""
    from trafficgate_local.report_html import write_page

    try:
        write_page(path, page())
    except OSError as exc:
        print(f"trafficgate: --html {path}: cannot write: {exc.strerror or exc}", file=sys.stderr)
        return False
    return True


def progress_printer() -> Any:
    from trafficgate_local.render import progress_bar

    def show(check_id: str, done: int, total: int) -> None:
        sys.stderr.write("\r  " + progress_bar(check_id, done, total))
        sys.stderr.flush()

    return show
