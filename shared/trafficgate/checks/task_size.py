"""BeforeInstall: task CPU and memory are what the launch type allows (``ecs.task_size``).

Layer L2 (a check). The size rules are pure functions (:func:`judge_task_size`), tested on their own.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trafficgate.checks.base import Check, CheckResult
from trafficgate.discovery import containers

if TYPE_CHECKING:
    from trafficgate.context import CheckContext

TASK_SIZE_CHECK_ID = "ecs.task_size"

#: Valid Fargate task sizes: task CPU units → the memory values (MiB) allowed with it.
FARGATE_SIZES: Mapping[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}
#: Windows containers on Fargate run with 1, 2 or 4 vCPU only.
FARGATE_WINDOWS_CPUS = frozenset({1024, 2048, 4096})
#: Task-level CPU units ECS accepts for the EC2 (and EXTERNAL) launch type.
EC2_TASK_CPU_RANGE = (128, 196608)


@dataclass(frozen=True, kw_only=True)
class TaskSizeJudgement:
    """What :func:`judge_task_size` concluded: ``ok`` and a one-line reason, value and threshold."""

    ok: bool
    reason: str
    value: dict[str, Any]
    threshold: str


def judge_task_size(definition: Mapping[str, Any]) -> TaskSizeJudgement:
    """Judge the CPU and memory of a task definition against its launch type's allowed values.

    Parameters
    ----------
    definition
        A ``taskDefinition`` as DescribeTaskDefinition returns it.

    Returns
    -------
    TaskSizeJudgement
        FARGATE (``requiresCompatibilities`` contains it): task-level cpu and memory must be a
        valid Fargate combination (Windows: 1, 2 or 4 vCPU). Otherwise (EC2, EXTERNAL): memory
        must be set at task level or on every container (``memory`` or ``memoryReservation``),
        and task cpu, if set, must lie in 128..196608 units.
    """
    compat = [str(c).upper() for c in definition.get("requiresCompatibilities") or []]
    fargate = "FARGATE" in compat
    launch = "FARGATE" if fargate else ("EC2" if not compat or "EC2" in compat else compat[0])
    try:
        cpu = parse_cpu_units(definition.get("cpu"))
        memory = parse_memory_mib(definition.get("memory"))
    except ValueError as exc:
        return TaskSizeJudgement(ok=False, reason=str(exc), value={"launch_type": launch}, threshold="a number")
    value: dict[str, Any] = {"launch_type": launch, "cpu": cpu, "memory": memory}
    if fargate:
        return _judge_fargate(definition, cpu, memory, value)
    return _judge_ec2(definition, launch, cpu, memory, value)


def _judge_fargate(
    definition: Mapping[str, Any], cpu: int | None, memory: int | None, value: dict[str, Any]
) -> TaskSizeJudgement:
    os_family = str((definition.get("runtimePlatform") or {}).get("operatingSystemFamily") or "LINUX").upper()
    windows = os_family.startswith("WINDOWS")
    cpus = sorted(FARGATE_WINDOWS_CPUS) if windows else sorted(FARGATE_SIZES)
    valid_cpus = ", ".join(str(c) for c in cpus)
    if cpu is None or memory is None:
        unset = " and ".join(n for n, v in (("cpu", cpu), ("memory", memory)) if v is None)
        return TaskSizeJudgement(
            ok=False,
            reason=f"FARGATE task definition sets no task-level {unset}; Fargate needs both",
            value=value,
            threshold=f"cpu one of {valid_cpus}",
        )
    allowed = FARGATE_SIZES.get(cpu)
    if allowed is None or cpu not in cpus:
        kind = "FARGATE Windows" if windows else "FARGATE"
        return TaskSizeJudgement(
            ok=False,
            reason=f"{kind} cpu {cpu} is not a Fargate size (valid cpu: {valid_cpus})",
            value=value,
            threshold=f"cpu one of {valid_cpus}",
        )
    threshold = f"cpu {cpu}: memory {_describe_values(allowed)} MiB"
    if memory not in allowed:
        return TaskSizeJudgement(
            ok=False,
            reason=f"FARGATE cpu {cpu} with memory {memory} MiB is not a valid combination "
            f"(cpu {cpu} allows memory {_describe_values(allowed)} MiB)",
            value=value,
            threshold=threshold,
        )
    return TaskSizeJudgement(
        ok=True,
        reason=f"FARGATE cpu {cpu} / memory {memory} MiB is a valid Fargate size",
        value=value,
        threshold=threshold,
    )


def _judge_ec2(
    definition: Mapping[str, Any], launch: str, cpu: int | None, memory: int | None, value: dict[str, Any]
) -> TaskSizeJudgement:
    low, high = EC2_TASK_CPU_RANGE
    threshold = f"cpu {low}..{high} units if set; memory at task level or on every container"
    if cpu is not None and not low <= cpu <= high:
        return TaskSizeJudgement(
            ok=False,
            reason=f"{launch} task cpu {cpu} is outside {low}..{high} CPU units",
            value=value,
            threshold=threshold,
        )
    if memory is None:
        unsized = [
            str(c.get("name"))
            for c in containers(definition)
            if not c.get("memory") and not c.get("memoryReservation")
        ]
        if unsized:
            return TaskSizeJudgement(
                ok=False,
                reason=f"{launch} task sets no task-level memory and container(s) {', '.join(unsized)} "
                "set neither memory nor memoryReservation",
                value=value,
                threshold=threshold,
            )
    cpu_text = "unset" if cpu is None else f"{cpu} (within {low}..{high} units)"
    memory_text = "set per container" if memory is None else f"{memory} MiB"
    return TaskSizeJudgement(
        ok=True, reason=f"{launch} task cpu {cpu_text}, memory {memory_text}", value=value, threshold=threshold
    )


_VCPU = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*vcpu\s*$", re.IGNORECASE)
_GB = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*gb\s*$", re.IGNORECASE)


def parse_cpu_units(raw: object) -> int | None:
    """CPU units from ``"1024"``, ``1024`` or ``"1 vCPU"``; None when unset.

    Raises
    ------
    ValueError
        The value is neither a number of units nor ``<n> vCPU``.
    """
    return _parse_size(raw, _VCPU, "cpu", "CPU units or '<n> vCPU'")


def parse_memory_mib(raw: object) -> int | None:
    """Memory in MiB from ``"2048"``, ``2048`` or ``"2 GB"``; None when unset.

    Raises
    ------
    ValueError
        The value is neither a number of MiB nor ``<n> GB``.
    """
    return _parse_size(raw, _GB, "memory", "MiB or '<n> GB'")


def _parse_size(raw: object, scaled: re.Pattern[str], what: str, expected: str) -> int | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    text = str(raw).strip()
    if text.isdigit():
        return int(text)
    match = scaled.match(text)
    if match:
        # Both "1 vCPU" and "1 GB" are 1024 of the base unit.
        return round(float(match.group(1)) * 1024)
    raise ValueError(f"task {what} {text!r} is not a size ECS understands (expected {expected})")


def _describe_values(values: Sequence[int]) -> str:
    steps = {b - a for a, b in itertools.pairwise(values)}
    if len(values) > 3 and len(steps) == 1:
        return f"{values[0]}-{values[-1]} in steps of {steps.pop()}"
    return ", ".join(str(v) for v in values)


@dataclass(kw_only=True)
class TaskSize(Check):
    """Task CPU and memory are set and within what the launch type allows (see :func:`judge_task_size`)."""

    check_id: str = TASK_SIZE_CHECK_ID

    def run(self, ctx: CheckContext) -> CheckResult:
        judgement = judge_task_size(ctx.task_definition())
        make = CheckResult.passed if judgement.ok else CheckResult.failed
        return make(judgement.reason, value=judgement.value, threshold=judgement.threshold)
