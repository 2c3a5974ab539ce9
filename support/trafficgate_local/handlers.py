"""Loading a function's handler from its code directory, the one way the local tooling does it.

The invoke worker (a fresh process per call, like a cold start), the rehearsal (one warm module
per function in its own process) and the tests all run a hook's real handler. Every hook function's
module is ``app.py``, so importing it by name would hand the second function the first one's module:
:func:`load_handler_module` reads ``<code_dir>/<module>.py`` by path and registers it in
``sys.modules`` under a name unique to that file, unless the caller names it.

A handler reference is Lambda's ``Handler`` setting, ``<module>.<function>``; the module part may be
dotted (``pkg.mod.handler`` is ``<code_dir>/pkg/mod.py``). Putting the code directory on ``sys.path``
for the handler's own imports is the caller's choice: the worker does, as Lambda does.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = ["HandlerError", "load_handler", "load_handler_module", "parse_handler_ref"]


class HandlerError(Exception):
    """A handler reference is malformed, or names a module or function that is not there."""


def parse_handler_ref(handler_ref: str) -> tuple[str, str]:
    """Split a handler reference into its module and function names.

    Parameters
    ----------
    handler_ref : str
        ``<module>.<function>``, e.g. ``app.handler`` or ``pkg.mod.handler``.

    Returns
    -------
    tuple of str
        ``(module_name, function_name)``, e.g. ``("pkg.mod", "handler")``.

    Raises
    ------
    HandlerError
        When the reference has no module part or a part is not a Python identifier; the message
        names the reference.
    """
    module_name, _, function = handler_ref.rpartition(".")
    if not module_name or not all(part.isidentifier() for part in handler_ref.split(".")):
        raise HandlerError(f"handler {handler_ref!r} is not <module>.<function>, e.g. app.handler")
    return module_name, function


def load_handler_module(code_dir: Path, module_name: str = "app", *, alias: str | None = None) -> ModuleType:
    """Load ``<code_dir>/<module_name>.py`` by path and register it in ``sys.modules``.

    Each call executes the file afresh, as a cold start does; a caller that wants a warm container
    keeps the module it got.

    Parameters
    ----------
    code_dir : Path
        The function's code directory (its ``CodeUri``).
    module_name : str
        The module part of the handler reference; dots are directories (``pkg.mod`` is
        ``pkg/mod.py``, or ``pkg/mod/__init__.py``).
    alias : str, optional
        The name to register the module under. By default a name unique to the file, so that the
        ``app.py`` of two functions are two modules. The worker passes ``module_name`` itself, the
        name Lambda imports it under, so that relative imports inside a package resolve.

    Returns
    -------
    ModuleType
        The executed module.

    Raises
    ------
    HandlerError
        When ``module_name`` is not a dotted Python name or its file does not exist. Exceptions
        raised by the module's own code propagate unchanged: they are the function's errors, and
        their traceback is what a person needs to see.
    """
    parts = module_name.split(".")
    if not all(part.isidentifier() for part in parts):
        raise HandlerError(f"module name {module_name!r} is not a dotted Python name")
    base = Path(code_dir).joinpath(*parts)
    candidates = (base.with_suffix(".py"), base / "__init__.py")
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        raise HandlerError(f"no module {module_name!r} in {code_dir} (looked for {candidates[0]})")
    name = alias or _unique_name(Path(code_dir), module_name)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise HandlerError(f"{path} cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs, as an import would be: dataclasses and typing look their module up.
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def load_handler(code_dir: Path, handler_ref: str = "app.handler", *, alias: str | None = None) -> Callable[..., Any]:
    """Load the handler function that ``handler_ref`` names in ``code_dir``.

    Parameters
    ----------
    code_dir : Path
        The function's code directory.
    handler_ref : str
        Lambda's ``Handler`` setting, ``<module>.<function>``.
    alias : str, optional
        As for :func:`load_handler_module`.

    Returns
    -------
    callable
        The handler, to be called as ``handler(event, context)``.

    Raises
    ------
    HandlerError
        When the reference is malformed, or its module or function is missing; the message names
        the reference.
    """
    module_name, function = parse_handler_ref(handler_ref)
    try:
        module = load_handler_module(code_dir, module_name, alias=alias)
    except HandlerError as exc:
        raise HandlerError(f"handler {handler_ref!r}: {exc}") from None
    handler: Callable[..., Any] | None = getattr(module, function, None)
    if not callable(handler):
        raise HandlerError(f"handler {handler_ref!r}: {module.__file__} has no function {function!r}")
    return handler


def _unique_name(code_dir: Path, module_name: str) -> str:
    # Readable in a traceback (the directory and module), unique by the directory's full path.
    digest = hashlib.sha256(str(code_dir.resolve()).encode()).hexdigest()[:12]
    readable = re.sub(r"\W", "_", f"{code_dir.name}_{module_name}")
    return f"trafficgate_handler_{readable}_{digest}"


def packages_in(paths: Iterable[Path]) -> list[str]:
    """The top-level packages and modules importable from ``paths`` (custom check directories).

    The local CLI allows exactly these for a plan's custom checks (``TRAFFICGATE_CHECK_PACKAGES``),
    as an operator would name the packages of the layer they ship.
    """
    found: list[str] = []
    for directory in paths:
        for entry in sorted(Path(directory).iterdir()):
            name = entry.stem if entry.suffix == ".py" else entry.name
            importable = (entry.is_dir() and (entry / "__init__.py").is_file()) or entry.suffix == ".py"
            if importable and name.isidentifier() and name not in found:
                found.append(name)
    return found
