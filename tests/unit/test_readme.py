"""The README's configuration table documents every variable the library reads, and nothing else."""

from __future__ import annotations

import math
import re
from pathlib import Path

from trafficgate import constants

ROOT = Path(__file__).resolve().parents[2]


def documented_variables() -> set[str]:
    text = (ROOT / "README.md").read_text()
    return set(re.findall(r"^\| `((?:TRAFFICGATE|POWERTOOLS)_[A-Z0-9_]+)` \|", text, flags=re.MULTILINE))


def test_every_variable_is_in_the_configuration_table() -> None:
    read = set(constants.ALL) | {constants.METRICS_NAMESPACE, constants.SERVICE_NAME, constants.LOG_LEVEL}
    documented = documented_variables()
    assert sorted(read - documented) == [], "read by the library but not documented in the README"
    assert sorted(documented - read) == [], "documented in the README but read by nothing"


def test_the_clean_request_table_is_what_the_sequential_test_does() -> None:
    from trafficgate.probe.sequential import SuccessRateTest
    from trafficgate.probe.spec import fewest_sequential_requests

    text = (ROOT / "README.md").read_text()
    section = text[text.index("### How many requests a pass needs") :]
    rows = re.findall(r"^\| (0\.\d+)(?: \(default\))? \| (\d+) \| (\d+) \| (\d+) \|$", section, flags=re.MULTILINE)
    assert len(rows) == 6
    for floor_text, clean, fixed, dead in rows:
        floor = float(floor_text)
        assert int(clean) == SuccessRateTest(floor, 0.01).clean_requests_to_pass(), floor
        assert int(fixed) == round(math.log(20) / (1 - floor)), floor
        assert int(dead) == fewest_sequential_requests(floor, 0.01), floor
