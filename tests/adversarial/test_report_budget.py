"""Issue 11, item 2: the report fits its time budget, even throttled, even after the checks used the margin.

Before: the report client made up to 5 attempts of 1 s connect + 2 s read plus backoff, about 10 s,
inside a 3 s margin; with the checks run into the margin and the report throttled 3 or 4 times,
the function was killed with nothing reported. Now the report has a wall-clock budget
(``TRAFFICGATE_REPORT_BUDGET_MS``) the margin is derived from, and its attempts stop at it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.adversarial.conftest import Gate

pytestmark = pytest.mark.integration

SLOW_CHECK = """
import time

from trafficgate.checks.base import CheckResult


def past_the_deadline(ctx):
    time.sleep(60)  # uses the whole margin: the runner walks away at the deadline
    return CheckResult.passed("too late")
"""


def test_a_report_throttled_four_times_after_the_checks_used_the_margin_still_arrives(
    gate: Gate, tmp_path: Path
) -> None:
    (tmp_path / "slowchecks.py").write_text(SLOW_CHECK)
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "version: 1\nhooks:\n  AfterAllowTestTraffic:\n    - {id: slow, check: 'slowchecks:past_the_deadline'}\n"
    )
    gate.control.inject_fault(error_code="ThrottlingException", http_status=400, times=4)
    try:
        run = gate.run(
            env={
                "TRAFFICGATE_TEST_URL": "http://127.0.0.1:9",
                "TRAFFICGATE_PLAN_FILE": str(plan),
                "TRAFFICGATE_CHECK_PACKAGES": "slowchecks",
            },
            pythonpath=tmp_path,
            timeout_s=10,
        )
        throttled = [
            c for c in gate.control.report_calls() if c.error_code == "ThrottlingException" and c.status == "Failed"
        ]
    finally:
        gate.control.clear_faults()

    assert not run.result.timed_out, run.output[-3000:]
    assert run.statuses == ["Failed"]  # exactly one report, recorded before the function's timeout
    assert len(throttled) == 4
    assert run.summary["report"] == "reported"
    assert run.reason.startswith("slow: deadline")
