"""Where a plan comes from: an SSM parameter per deployment group, or a file bundled with the code.

The SSM parameter ``<prefix>/<application>/<deployment-group>`` wins, so one deployed stack
serves every ECS service in the account, each with its own plan. It is read through Powertools
Parameters with a five-minute cache per warm container.

Layer L3 (composition): imports the engines (AWS clients, discovery) and the plan loader.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from trafficgate.aws import error_code
from trafficgate.discovery import deployment_info
from trafficgate.plan.builtins import BUILTIN_TYPES, CheckType
from trafficgate.plan.exceptions import PlanError
from trafficgate.plan.loader import MAX_PLAN_BYTES, Plan, parse_plan_text

if TYPE_CHECKING:
    from trafficgate.context import CheckContext

PLAN_CACHE_SECONDS = 300
_parsed: dict[tuple[str, str, tuple[str, ...]], Plan] = {}
_lock = threading.Lock()


def configured_plan(ctx: CheckContext, types: Mapping[str, CheckType] = BUILTIN_TYPES) -> Plan | None:
    """The plan for this deployment, or None when none is configured (built-in defaults apply)."""
    settings = ctx.settings
    if settings.plan_ssm_prefix:
        if ctx.platform == "ecs":
            # ECS native: <prefix>/<cluster>/<service>, read from the service deployment ARN itself
            # (arn:aws:ecs:<region>:<account>:service-deployment/<cluster>/<service>/<id>).
            cluster, service = ctx.deployment_id.split(":service-deployment/", 1)[-1].split("/")[:2]
            name = f"{settings.plan_ssm_prefix}/{cluster}/{service}"
        else:
            info = deployment_info(ctx.deployment_id, ctx.aws)
            name = f"{settings.plan_ssm_prefix}/{info['applicationName']}/{info['deploymentGroupName']}"
        text = _ssm_text(ctx, name)
        if text is not None:
            return _parse(text, f"ssm:{name}", types, settings.check_packages)
    if settings.plan_file:
        path = _plan_path(settings.plan_file)
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_PLAN_BYTES + 1)  # never more than the cap, whatever the file holds
        except OSError as exc:
            raise PlanError(f"plan file {path}: cannot read ({exc.strerror})") from None
        if len(data) > MAX_PLAN_BYTES:
            raise PlanError(f"plan {path}: more than {MAX_PLAN_BYTES} bytes; at most {MAX_PLAN_BYTES} are accepted")
        return _parse(data.decode("utf-8", "replace"), str(path), types, settings.check_packages)
    return None


def _plan_path(configured: str) -> Path:
    path = Path(configured)
    if path.is_absolute():
        return path
    # In Lambda, bundled files sit under the function root; locally, under the working directory.
    return Path(os.environ.get("LAMBDA_TASK_ROOT") or Path.cwd()) / path


def _ssm_text(ctx: CheckContext, name: str) -> str | None:
    from aws_lambda_powertools.utilities.parameters import SSMProvider
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    provider: SSMProvider = ctx.aws.cached("ssm-provider", lambda: SSMProvider(boto3_client=ctx.aws.client("ssm")))
    try:
        value = provider.get(name, max_age=PLAN_CACHE_SECONDS)
    except GetParameterError as exc:
        code = error_code(exc.__cause__ or exc.__context__)  # Powertools raises without "from"
        if code == "ParameterNotFound":
            return None
        raise PlanError(f"plan parameter {name}: could not read ({code})") from None
    return None if value is None else str(value)


def _parse(text: str, source: str, types: Mapping[str, CheckType], packages: frozenset[str]) -> Plan:
    key = (source, hashlib.sha256(text.encode()).hexdigest(), tuple(sorted(packages)))
    with _lock:
        cached = _parsed.get(key)
    if cached is None:
        cached = parse_plan_text(text, source=source, types=types, check_packages=packages)
        with _lock:
            _parsed[key] = cached
    return cached


def clear_cache() -> None:
    """Forget every parsed plan (as a new container would)."""
    with _lock:
        _parsed.clear()
