"""Issue 10, item 4: whatever the operator sets, the hook reports Failed naming the variable; it never crashes.

Before: ``TRAFFICGATE_TEST_URL=http://[::1`` raised ValueError and 500 nested ``(`` raised
RecursionError out of the handler (no report: the deployment waits an hour); ``inf``, ``1e309``
and non-ASCII digits were accepted as numbers, a 0 ms margin too, and a margin longer than the
function's life gave a reason that did not name it.
"""

from __future__ import annotations

import pytest

from tests.adversarial.conftest import Gate

pytestmark = pytest.mark.integration

CASES = [
    ("TRAFFICGATE_TEST_URL", "http://[::1", "not a valid URL"),
    ("TRAFFICGATE_BODY_REGEX", "(" * 500, "regular expression RE2 accepts"),
    ("TRAFFICGATE_REQUEST_TIMEOUT_S", "inf", "expected a number > 0 and <= 900"),
    ("TRAFFICGATE_MAX_P95_MS", "1e309", "expected a number > 0 and <= 900000"),
    ("TRAFFICGATE_PROBE_REQUESTS", "\u0665\u0660", "expected an integer within [1, 10000]"),  # Arabic-Indic 50
    ("TRAFFICGATE_DEADLINE_MARGIN_MS", "0", "expected an integer within [500, 120000]"),
    ("TRAFFICGATE_DEADLINE_MARGIN_MS", "99999999", "expected an integer within [500, 120000]"),
    ("TRAFFICGATE_REPORT_MAX_ATTEMPTS", "1000", "expected an integer within [1, 10]"),
]


@pytest.mark.parametrize(("variable", "value", "expected"), CASES, ids=[f"{c[0]}={c[1][:12]}" for c in CASES])
def test_a_bad_value_is_a_failed_report_naming_the_variable(
    variable: str, value: str, expected: str, gate: Gate
) -> None:
    run = gate.run(env={"TRAFFICGATE_TEST_URL": "http://127.0.0.1:9", variable: value}, timeout_s=20)

    assert run.result.error is None, run.result.error
    assert run.statuses == ["Failed"]
    assert run.reason.startswith(f"trafficgate.config: invalid configuration: {variable}="), run.reason
    assert expected in run.reason


def test_a_margin_longer_than_the_function_lives_names_the_margin(gate: Gate) -> None:
    # In range, but not for a 10 s function: no time is left for the checks.
    env = {"TRAFFICGATE_TEST_URL": "http://127.0.0.1:9", "TRAFFICGATE_DEADLINE_MARGIN_MS": "60000"}
    run = gate.run(env=env, timeout_s=10)

    assert run.statuses == ["Failed"]
    assert run.reason.startswith(
        "trafficgate.config: TRAFFICGATE_DEADLINE_MARGIN_MS=60000 leaves no time for the checks"
    )
