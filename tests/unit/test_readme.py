"""The README's configuration table documents every variable the library reads, and nothing else."""

from __future__ import annotations

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
