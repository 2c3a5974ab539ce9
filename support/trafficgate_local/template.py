"""Read template.yaml the way ``sam local invoke`` does: find a hook's function, its handler,
timeout and environment, with intrinsic functions resolved from parameter values.

Only the intrinsics a SAM function definition uses are resolved (Ref, Sub, If, Equals, Not,
And, Or, Join, Condition); anything else is left unresolved and reported as such.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from trafficgate.hooks import EcsStage, Hook


class TemplateError(ValueError):
    """template.yaml lacks what the local runner needs, or cannot be read."""


#: libyaml's loader where PyYAML was built with it: it reads the template about ten times faster.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _CfnLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """A YAML loader that turns ``!Ref x`` into ``{"Ref": x}`` and ``!Sub`` into ``{"Fn::Sub": ...}``."""


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


@dataclass(frozen=True)
class FunctionSpec:
    """What the local runner needs to invoke one hook function."""

    logical_id: str
    function_name: str
    code_dir: Path
    handler: str
    timeout_s: float
    memory_mb: int
    environment: dict[str, str] = field(default_factory=dict)


#: The last template read, by its text: a rehearsal resolves five functions from one template.
_parsed: dict[str, dict[str, Any]] = {}


def load_template(path: Path) -> dict[str, Any]:
    """The template as data, intrinsics as ``{"Ref": ...}`` / ``{"Fn::...": ...}``; a fresh copy each call."""
    try:
        text = path.read_text()
        data = _parsed.get(text)
        if data is None:
            data = yaml.load(text, Loader=_CfnLoader)
            _parsed.clear()
            _parsed[text] = data
    except (OSError, yaml.YAMLError) as exc:
        raise TemplateError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict) or "Resources" not in data:
        raise TemplateError(f"{path} is not a CloudFormation/SAM template (no Resources)")
    return copy.deepcopy(data)


def find_function(
    template_path: Path,
    hook: Hook | EcsStage,
    *,
    parameter_overrides: Mapping[str, str] | None = None,
    region: str = "us-east-1",
) -> FunctionSpec:
    """Locate the function whose CodeUri is ``functions/<hook module>/`` and resolve its settings."""
    template = load_template(template_path)
    resolver = _Resolver(template, dict(parameter_overrides or {}), region)
    globals_fn = template.get("Globals", {}).get("Function", {}) or {}
    wanted = f"functions/{hook.module_name}"
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource.get("Properties", {}) or {}
        code_uri = str(resolver.resolve(props.get("CodeUri", globals_fn.get("CodeUri", "")))).rstrip("/")
        if code_uri != wanted:
            continue
        env = dict(resolver.resolve((globals_fn.get("Environment") or {}).get("Variables") or {}))
        env.update(resolver.resolve((props.get("Environment") or {}).get("Variables") or {}))
        name = resolver.resolve(props.get("FunctionName", logical_id))
        return FunctionSpec(
            logical_id=logical_id,
            function_name=str(name),
            code_dir=(template_path.parent / code_uri).resolve(),
            handler=str(resolver.resolve(props.get("Handler", globals_fn.get("Handler", "app.handler")))),
            timeout_s=float(resolver.resolve(props.get("Timeout", globals_fn.get("Timeout", 3)))),
            memory_mb=int(resolver.resolve(props.get("MemorySize", globals_fn.get("MemorySize", 128)))),
            environment={k: _env_text(v) for k, v in env.items() if v is not None},
        )
    raise TemplateError(f"no AWS::Serverless::Function with CodeUri {wanted}/ in {template_path}")


def _env_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        # An attribute of one of the stack's resources (Fn::GetAtt ProgressKey.Arn) has no value
        # outside AWS: empty, which the library reads as unset.
        return ""
    return str(value)


_NO_VALUE = object()


class _Resolver:
    def __init__(self, template: dict[str, Any], overrides: dict[str, str], region: str) -> None:
        self.params: dict[str, Any] = {}
        for name, spec in (template.get("Parameters") or {}).items():
            listed = spec.get("Type", "").startswith(("CommaDelimitedList", "List<"))
            if name in overrides:
                value: Any = overrides[name]
            elif "Default" in spec:
                value = spec["Default"]
            else:
                continue
            # A list parameter is a list whether it comes from the default or an override.
            self.params[name] = [p.strip() for p in str(value).split(",") if p.strip()] if listed else value
        # A Ref to a resource resolves as sam local does: to the logical id; an SNS topic to an ARN
        # (the library checks that the verdict topic is one).
        for logical_id, resource in (template.get("Resources") or {}).items():
            if resource.get("Type") == "AWS::SNS::Topic":
                self.params.setdefault(logical_id, f"arn:aws:sns:{region}:123456789012:{logical_id}")
            else:
                self.params.setdefault(logical_id, logical_id)
        self.params.update(
            {
                "AWS::Region": region,
                "AWS::AccountId": "123456789012",
                "AWS::Partition": "aws",
                "AWS::StackName": "local",
                "AWS::URLSuffix": "amazonaws.com",
                "AWS::NoValue": _NO_VALUE,
            }
        )
        self.conditions = template.get("Conditions") or {}
        self._condition_cache: dict[str, bool] = {}

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [v for v in (self.resolve(x) for x in value) if v is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                if arg not in self.params:
                    raise TemplateError(f"cannot resolve !Ref {arg} locally")
                return self.params[arg]
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::If":
                name, yes, no = arg
                return self.resolve(yes if self.condition(name) else no)
            if key == "Fn::Join":
                sep, items = arg
                return str(sep).join(str(x) for x in self.resolve(items))
            if key in {"Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Condition"}:
                return self._evaluate(value)
        return {k: r for k, r in ((k, self.resolve(v)) for k, v in value.items()) if r is not _NO_VALUE}

    def condition(self, name: str) -> bool:
        if name not in self._condition_cache:
            if name not in self.conditions:
                raise TemplateError(f"unknown condition {name}")
            self._condition_cache[name] = bool(self._evaluate(self.conditions[name]))
        return self._condition_cache[name]

    def _evaluate(self, expr: Any) -> Any:
        if isinstance(expr, dict) and len(expr) == 1:
            ((key, arg),) = expr.items()
            if key == "Fn::Equals":
                left, right = (self._scalar(x) for x in arg)
                return left == right
            if key == "Fn::Not":
                return not self._evaluate(arg[0])
            if key == "Fn::And":
                return all(self._evaluate(x) for x in arg)
            if key == "Fn::Or":
                return any(self._evaluate(x) for x in arg)
            if key == "Condition":
                return self.condition(arg)
        return self.resolve(expr)

    def _scalar(self, value: Any) -> Any:
        resolved = self._evaluate(value)
        if isinstance(resolved, list):
            return ",".join(str(x) for x in resolved)
        return str(resolved) if not isinstance(resolved, bool) else resolved

    def _sub(self, arg: Any) -> str:
        text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in extra:
                return str(extra[name])
            if name in self.params:
                value = self.params[name]
                return ",".join(value) if isinstance(value, list) else str(value)
            raise TemplateError(f"cannot resolve ${{{name}}} in !Sub locally")

        return re.sub(r"\$\{([^}]+)\}", replace, str(text))
