"""The built-in check types a plan can name, as an explicit table (no import-time registry)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from trafficgate.checks.base import Check
from trafficgate.checks.http import PROD_LISTENER_CHECK_ID, TEST_LISTENER_CHECK_ID, HttpProbe

#: Built-in type name → (check class, fixed parameters). A plan entry names a type with
#: ``check: <type>``; without ``check`` its ``id`` is looked up here.
BUILTIN_TYPES: dict[str, tuple[type[Check], dict[str, Any]]] = {
    "http_probe": (HttpProbe, {}),
    TEST_LISTENER_CHECK_ID: (HttpProbe, {"listener": "test"}),
    PROD_LISTENER_CHECK_ID: (HttpProbe, {"listener": "prod"}),
}

#: Extra tables merged in by the modules that define more checks (wired in plans.py, explicitly).
Factory = Callable[..., Check]
