"""Build one check from a plan entry's validated parameters.

Layer L3 (composition): imports the check API and the probe's error type (to name the field a
probe setting refused).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trafficgate.checks.base import Check, Policy
from trafficgate.plan.exceptions import PlanError
from trafficgate.plan.schema import convert_fields, dataclass_fields
from trafficgate.probe.exceptions import ProbeConfigError
from trafficgate.ranges import RangeError

#: Fields of every check that a plan sets through the entry's own keys, not as parameters.
COMMON_FIELDS = frozenset({"check_id", "policy"})


def plan_fields(cls: type[Check]) -> dict[str, Any]:
    """The parameters a plan entry may give a check class, with their types.

    A class may say so itself (``plan_fields()``); otherwise they are its dataclass fields.
    """
    own = getattr(cls, "plan_fields", None)
    return own() if callable(own) else dataclass_fields(cls, exclude=COMMON_FIELDS)


def build_check(cls: type[Check], check_id: str, params: Mapping[str, Any], where: str, policy: Policy) -> Check:
    """Validate ``params`` against ``cls`` and build the check.

    Raises
    ------
    PlanError
        Naming the exact field: ``hooks.AfterAllowTestTraffic[0].json_exists: ...``.
    """
    values = convert_fields(params, plan_fields(cls), where)
    from_plan = getattr(cls, "from_plan", None)
    try:
        if callable(from_plan):
            check: Check = from_plan(check_id, values, policy=policy)
        else:
            check = cls(check_id=check_id, policy=policy, **values)
    except (ProbeConfigError, RangeError) as exc:
        raise field_error(where, exc) from None
    except (TypeError, ValueError) as exc:
        raise PlanError(f"{where}: {exc}") from None
    return check


def field_error(where: str, exc: ProbeConfigError | RangeError) -> PlanError:
    """A plan error at the exact field the error names: ``hooks.X[0].timeout_s: 0 must be ...``."""
    field = exc.field
    if not field:
        return PlanError(f"{where}: {exc}")
    # "timeout_s -1 must be ..." under "hooks.X[0].timeout_s" need not say timeout_s twice.
    message = str(exc).removeprefix(f"{field}: ").removeprefix(f"{field} ")
    return PlanError(f"{where}.{field}: {message}")
