"""Helpers that make tests resemble Lambda: sample events and handler modules loaded by path."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

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
    name = f"trafficgate_fn_{hook_module}"
    path = FUNCTIONS / hook_module / "app.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
