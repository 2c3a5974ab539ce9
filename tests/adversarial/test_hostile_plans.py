"""Issue 10, item 5: a small plan cannot use gigabytes: aliases are refused, size and depth are capped.

A 500-byte YAML plan of nested aliases in a ``json_equals`` value expands to 10^8 strings; it
used to be expanded each time a failing response was described (1.6 GB peak at 8 levels, the
report after the deadline). Now the plan is refused when it is read, naming the alias.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.adversarial.conftest import Gate
from tests.adversarial.hostile import Exchange, hostile
from trafficgate.plan.loader import MAX_PLAN_BYTES

pytestmark = pytest.mark.integration

ALIAS_BOMB = """\
version: 1
x0: &x0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
x1: &x1 [*x0, *x0, *x0, *x0, *x0, *x0, *x0, *x0, *x0, *x0]
x2: &x2 [*x1, *x1, *x1, *x1, *x1, *x1, *x1, *x1, *x1, *x1]
x3: &x3 [*x2, *x2, *x2, *x2, *x2, *x2, *x2, *x2, *x2, *x2]
x4: &x4 [*x3, *x3, *x3, *x3, *x3, *x3, *x3, *x3, *x3, *x3]
x5: &x5 [*x4, *x4, *x4, *x4, *x4, *x4, *x4, *x4, *x4, *x4]
x6: &x6 [*x5, *x5, *x5, *x5, *x5, *x5, *x5, *x5, *x5, *x5]
x7: &x7 [*x6, *x6, *x6, *x6, *x6, *x6, *x6, *x6, *x6, *x6]
hooks:
  AfterAllowTestTraffic:
    - id: http.test_listener
      requests: 3
      decision: fixed
      json_equals: {status: *x7}
"""


def ok_json(exchange: Exchange) -> bool:
    return exchange.answer(200, b'{"status": "ok"}', {"Content-Type": "application/json"})


def run_with_plan(gate: Gate, tmp_path: Path, text: str) -> tuple[str, list[str]]:
    plan = tmp_path / "plan.yaml"
    plan.write_text(text)
    with hostile(ok_json) as green:
        run = gate.run(env={"TRAFFICGATE_TEST_URL": green.url, "TRAFFICGATE_PLAN_FILE": str(plan)}, timeout_s=20)
        probed = len(green.requests)
    assert not run.result.timed_out
    assert probed == 0  # refused before anything ran
    return run.reason, run.statuses


def test_a_yaml_alias_bomb_is_refused_naming_the_alias(gate: Gate, tmp_path: Path) -> None:
    assert len(ALIAS_BOMB) < 1000
    reason, statuses = run_with_plan(gate, tmp_path, ALIAS_BOMB)
    assert statuses == ["Failed"]
    assert reason.startswith("trafficgate.plan: plan ")
    assert "YAML aliases are not accepted (*x0 at line 3, column 10)" in reason


def test_a_plan_larger_than_the_cap_is_refused(gate: Gate, tmp_path: Path) -> None:
    big = "version: 1\nhooks: {}\n" + "# filler\n" * (MAX_PLAN_BYTES // 9 + 1)
    reason, statuses = run_with_plan(gate, tmp_path, big)
    assert statuses == ["Failed"]
    assert f"more than {MAX_PLAN_BYTES} bytes" in reason


def test_a_plan_nested_beyond_reason_is_refused(gate: Gate, tmp_path: Path) -> None:
    deep = '{"version": 1, "hooks": {}, "x": ' + "[" * 20_000 + "]" * 20_000 + "}"
    reason, statuses = run_with_plan(gate, tmp_path, deep)
    assert statuses == ["Failed"]
    assert reason.endswith("nested too deeply")
