"""Check plans: parse, validate and build the checks of each hook.

A plan (YAML or JSON) says, per hook, which checks run::

    version: 1
    hooks:
      AfterAllowTestTraffic:
        - id: http.test_listener          # a built-in check, by id
          path: /health
          max_p95_ms: 500
          consecutive_failures: 3         # policy: fail only after 3 failing bursts in a row
          pause_s: 5
        - id: orders.schema
          check: mychecks.orders:schema_version   # a custom check, by dotted path
          expected: 2
          dry_run: true

A hook the plan does not name keeps its built-in defaults; a hook with an empty list runs no
checks. Every error names the exact field.

Amazon ECS native blue/green stages may be named too (``PRODUCTION_TRAFFIC_SHIFT``,
``POST_TEST_TRAFFIC_SHIFT``, ...): on ECS, a stage's own entry wins over the entry of the CodeDeploy
hook it maps to (:attr:`~trafficgate.hooks.EcsStage.hook`); CodeDeploy never reads stage entries.

Layer L3 (composition): imports the check API and the table of built-in checks.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trafficgate.checks.base import Check, Policy
from trafficgate.checks.http import HttpProbe
from trafficgate.hooks import EcsStage, Hook
from trafficgate.plan.build import build_check, field_error
from trafficgate.plan.builtins import BUILTIN_TYPES, CheckType
from trafficgate.plan.custom import custom_check
from trafficgate.plan.exceptions import PlanError
from trafficgate.plan.schema import convert, dataclass_fields
from trafficgate.ranges import RangeError

#: Largest plan accepted (an SSM advanced parameter holds 8 KB; a bundled file gets room to spare).
MAX_PLAN_BYTES = 64 * 1024

#: Keys of a plan entry that are not check parameters.
_COMMON = {"id": str, "check": str}
_POLICY_FIELDS = dataclass_fields(Policy)


#: The names a plan's ``hooks`` may use: the CodeDeploy hooks, then the ECS native stages.
PLAN_KEYS = (*(h.value for h in Hook), *(s.value for s in EcsStage))


def plan_key(name: Any) -> Hook | EcsStage | None:
    """The CodeDeploy hook or ECS stage a plan key names exactly, or None."""
    for kind in (Hook, EcsStage):
        try:
            return kind(name)
        except ValueError:
            continue
    return None


@dataclass(frozen=True)
class Plan:
    """A validated plan: for each hook or ECS stage it names, the list of checks to run."""

    hooks: Mapping[Hook | EcsStage, tuple[Check, ...]]
    source: str

    def checks_for(self, hook: Hook | EcsStage) -> list[Check] | None:
        """The hook's (or ECS stage's) checks, or None when the plan does not name it."""
        checks = self.hooks.get(hook)
        return None if checks is None else list(checks)


def parse_plan_text(
    text: str,
    *,
    source: str,
    types: Mapping[str, CheckType] = BUILTIN_TYPES,
    check_packages: Collection[str] | None = None,
) -> Plan:
    """Parse YAML or JSON plan text and validate it (see :func:`parse_plan`).

    A plan is configuration, so it is bounded like one: at most :data:`MAX_PLAN_BYTES`, no YAML
    aliases (``*anchor``: a 500-byte plan of nested aliases expands to gigabytes), and no nesting
    deeper than the parsers' recursion limit.

    Raises
    ------
    PlanError
        Too large, an alias, too deep, or not YAML or JSON (with the line and column).
    """
    size = len(text.encode("utf-8", "replace"))
    if size > MAX_PLAN_BYTES:
        raise PlanError(f"plan {source}: {size} bytes; at most {MAX_PLAN_BYTES} are accepted")
    try:
        document = json.loads(text)
    except RecursionError:
        raise PlanError(f"plan {source}: nested too deeply") from None
    except ValueError:
        document = _load_yaml(text, source)
    return parse_plan(document, source=source, types=types, check_packages=check_packages)


def _load_yaml(text: str, source: str) -> Any:
    import yaml

    class NoAliasLoader(yaml.SafeLoader):
        """PyYAML's safe loader, refusing aliases: each would re-insert a whole subtree."""

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()  # type: ignore[no-untyped-call]
                mark = event.start_mark
                raise PlanError(
                    f"plan {source}: YAML aliases are not accepted (*{event.anchor} at line {mark.line + 1}, "
                    f"column {mark.column + 1}); write the value out"
                )
            return super().compose_node(parent, index)

    try:
        return yaml.load(text, Loader=NoAliasLoader)
    except RecursionError:
        raise PlanError(f"plan {source}: nested too deeply") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise PlanError(f"plan {source}: not valid YAML or JSON{where}") from None


def parse_plan(
    document: Any,
    *,
    source: str,
    types: Mapping[str, CheckType] = BUILTIN_TYPES,
    check_packages: Collection[str] | None = None,
) -> Plan:
    """Validate a plan document and build its checks.

    Parameters
    ----------
    document
        The parsed YAML/JSON.
    source
        Where it came from, for messages (a file path or an SSM parameter name).
    types
        Check types by name; the built-ins (:mod:`trafficgate.plan.builtins`) by default.
    check_packages
        Top-level packages a custom check's dotted path may name (the hooks pass
        ``TRAFFICGATE_CHECK_PACKAGES``; nothing else is ever imported). ``None``: any, for trusted
        callers such as tests and the dry-run CLI's own files.

    Raises
    ------
    PlanError
        Naming the exact field, e.g. ``hooks.AfterAllowTestTraffic[2].max_p95_ms: expected a number``.
    """
    if not isinstance(document, Mapping):
        raise PlanError(f"plan {source}: expected a mapping with 'hooks'")
    unknown = set(document) - {"version", "hooks"}
    if unknown:
        raise PlanError(f"{sorted(unknown)[0]}: unknown key; expected version and hooks")
    version = document.get("version", 1)
    if isinstance(version, bool) or version != 1:
        raise PlanError("version: expected 1")
    hooks_doc = document.get("hooks")
    if not isinstance(hooks_doc, Mapping):
        raise PlanError("hooks: expected a mapping of hook names to lists of checks")
    hooks: dict[Hook | EcsStage, tuple[Check, ...]] = {}
    for name, entries in hooks_doc.items():
        where = f"hooks.{name}"
        hook = plan_key(name)
        if hook is None:
            raise PlanError(
                f"{where}: unknown hook or ECS stage {name!r}; expected one of: {', '.join(PLAN_KEYS)}"
            )
        if not isinstance(entries, list):
            # An empty "AfterAllowTraffic:" would switch every check of the hook off: say so.
            raise PlanError(f"{where}: expected a list of checks (write [] to run none)")
        checks = [_build_entry(entry, f"{where}[{i}]", types, check_packages) for i, entry in enumerate(entries)]
        seen: set[str] = set()
        for i, check in enumerate(checks):
            if check.check_id in seen:
                raise PlanError(f"{where}[{i}].id: duplicate check id {check.check_id!r}")
            seen.add(check.check_id)
        hooks[hook] = tuple(checks)
    return Plan(hooks=hooks, source=source)


def _build_entry(
    entry: Any, where: str, types: Mapping[str, CheckType], check_packages: Collection[str] | None
) -> Check:
    if not isinstance(entry, Mapping):
        raise PlanError(f"{where}: expected a mapping with at least an id")
    if "id" not in entry:
        raise PlanError(f"{where}.id: required")
    if "enforce" in entry:
        # One home for "report but never block": the policy's dry_run.
        raise PlanError(f"{where}.enforce: no longer supported; write dry_run: true instead of enforce: false")
    common = {k: convert(entry[k], t, f"{where}.{k}") for k, t in _COMMON.items() if k in entry}
    check_id: str = common["id"]
    if not check_id.strip():
        raise PlanError(f"{where}.id: must not be empty")
    policy_values = {k: convert(entry[k], t, f"{where}.{k}") for k, t in _POLICY_FIELDS.items() if k in entry}
    try:
        policy = Policy(**policy_values)
    except RangeError as exc:
        raise field_error(where, exc) from None
    params = {k: v for k, v in entry.items() if k not in _COMMON and k not in _POLICY_FIELDS}
    kind = common.get("check", check_id)
    if kind in types:
        cls, fixed = types[kind]
        for name in params:
            if name in fixed:
                raise PlanError(
                    f"{where}.{name}: {kind} always has {name} {fixed[name]!r}; "
                    f"name the type instead (check: http_probe) to choose it"
                    if cls is HttpProbe
                    else f"{where}.{name}: fixed to {fixed[name]!r} by {kind}"
                )
        return build_check(cls, check_id, {**params, **fixed}, where, policy)
    if ":" in kind:
        return custom_check(kind, check_id, params, where, policy, allowed=check_packages)
    known = ", ".join(sorted(types))
    field = "check" if "check" in entry else "id"
    raise PlanError(
        f"{where}.{field}: unknown check {kind!r}; expected a built-in ({known}) "
        "or a dotted path such as mychecks.orders:schema_version"
    )


def checks_or_defaults(plan: Plan | None, hook: Hook, defaults: Sequence[Check]) -> list[Check]:
    """The plan's checks for ``hook``, or the defaults when the plan does not name it."""
    planned = plan.checks_for(hook) if plan is not None else None
    return list(defaults) if planned is None else planned
