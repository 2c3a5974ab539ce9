"""Custom checks named in a plan by dotted path: a :class:`Check` class or a plain function.

Layer L3 (composition). ``check: mychecks.orders:SchemaVersion`` imports ``mychecks.orders`` (from
the function's own code or a layer) and builds ``SchemaVersion`` with the entry's parameters; a
function ``def check(ctx, **params) -> CheckResult`` is wrapped in a :class:`FunctionCheck`.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trafficgate.checks.base import Check, CheckResult, Policy
from trafficgate.plan.build import build_check
from trafficgate.plan.exceptions import PlanError

if TYPE_CHECKING:
    from trafficgate.context import CheckContext


@dataclass(kw_only=True)
class FunctionCheck(Check):
    """A custom check written as a function ``def check(ctx, **params) -> CheckResult``."""

    function: Callable[..., CheckResult]
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def run(self, ctx: CheckContext) -> CheckResult:
        return self.function(ctx, **self.params)


def custom_check(
    path: str,
    check_id: str,
    params: Mapping[str, Any],
    where: str,
    policy: Policy,
    *,
    allowed: Collection[str] | None = None,
) -> Check:
    """Import ``module:attribute`` and build the check it names.

    Whoever can write a plan (its SSM parameter, or the bundled file) chooses what this imports,
    and importing runs the module's top-level code. So the module's top-level package must be one
    the operator named in ``TRAFFICGATE_CHECK_PACKAGES`` (``allowed``); nothing else is imported.

    Raises
    ------
    PlanError
        The package is not allowed, the module cannot be imported, the attribute is missing or is
        neither a Check class nor a function, or the parameters do not fit it; the message names
        the entry's field.
    """
    module_name, _, attr = path.partition(":")
    package = module_name.split(".", 1)[0]
    if allowed is not None and package not in allowed:
        named = ", ".join(sorted(allowed)) or "none"
        raise PlanError(
            f"{where}.check: package {package!r} is not allowed for custom checks "
            f"(TRAFFICGATE_CHECK_PACKAGES allows: {named})"
        )
    if not module_name or not attr or not all(part.isidentifier() for part in [*module_name.split("."), attr]):
        raise PlanError(f"{where}.check: {path!r} is not a dotted path such as mychecks.orders:SchemaVersion")
    try:
        target = getattr(importlib.import_module(module_name), attr)
    except ImportError as exc:
        raise PlanError(f"{where}.check: cannot import {module_name!r} ({exc.name or exc})") from None
    except AttributeError:
        raise PlanError(f"{where}.check: {module_name!r} has no attribute {attr!r}") from None
    if isinstance(target, type) and issubclass(target, Check):
        return build_check(target, check_id, params, where, policy)
    if callable(target):
        signature = inspect.signature(target)
        accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values())
        for name in params:
            if not accepts_any and name not in signature.parameters:
                known = ", ".join(n for n in list(signature.parameters)[1:]) or "none"
                raise PlanError(f"{where}.{name}: unknown parameter of {path}; expected one of: {known}")
        try:
            signature.bind(None, **params)
        except TypeError as exc:
            raise PlanError(f"{where}: parameters do not fit {path}: {exc}") from None
        return FunctionCheck(check_id=check_id, function=target, params=dict(params), policy=policy)
    raise PlanError(f"{where}.check: {path} is neither a Check class nor a function")
