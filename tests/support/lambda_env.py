"""Helpers that make tests resemble Lambda: sample events and handler modules loaded by path."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

from trafficgate_local.handlers import load_handler_module as load_module_by_path

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
FUNCTIONS = ROOT / "functions"
REGION = "us-east-1"
HOOK_MODULES = (
    "before_install",
    "after_install",
    "after_allow_test_traffic",
    "before_allow_traffic",
    "after_allow_traffic",
)


def load_event(name: str) -> dict[str, Any]:
    """A sample event from events/, e.g. ``load_event("after_allow_test_traffic")``."""
    data: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return data


def load_handler_module(hook_module: str) -> ModuleType:
    """Import ``functions/<hook_module>/app.py`` under a unique name, as Lambda would load it."""
    return load_module_by_path(FUNCTIONS / hook_module)
