"""The task-size rules of ``ecs.task_size``: Fargate combinations and EC2 limits, as pure logic."""

from __future__ import annotations

from typing import Any

import pytest

from trafficgate.checks.task_size import (
    EC2_TASK_CPU_RANGE,
    FARGATE_SIZES,
    judge_task_size,
    parse_cpu_units,
    parse_memory_mib,
)


def fargate(cpu: Any, memory: Any, **extra: Any) -> dict[str, Any]:
    return {
        "requiresCompatibilities": ["FARGATE"],
        "cpu": cpu,
        "memory": memory,
        "containerDefinitions": [{"name": "web", "image": "x"}],
        **extra,
    }


def ec2(cpu: Any = None, memory: Any = None, containers: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    definition: dict[str, Any] = {
        "requiresCompatibilities": ["EC2"],
        "containerDefinitions": containers if containers is not None else [{"name": "web", "image": "x"}],
    }
    if cpu is not None:
        definition["cpu"] = cpu
    if memory is not None:
        definition["memory"] = memory
    return definition


# --- Fargate ---------------------------------------------------------------------------------
def test_the_fargate_table_matches_the_documented_ranges() -> None:
    assert FARGATE_SIZES[256] == (512, 1024, 2048)
    assert FARGATE_SIZES[512] == (1024, 2048, 3072, 4096)
    assert (FARGATE_SIZES[1024][0], FARGATE_SIZES[1024][-1], len(FARGATE_SIZES[1024])) == (2048, 8192, 7)
    assert (FARGATE_SIZES[2048][0], FARGATE_SIZES[2048][-1], len(FARGATE_SIZES[2048])) == (4096, 16384, 13)
    assert (FARGATE_SIZES[4096][0], FARGATE_SIZES[4096][-1], len(FARGATE_SIZES[4096])) == (8192, 30720, 23)
    assert (FARGATE_SIZES[8192][0], FARGATE_SIZES[8192][-1], len(FARGATE_SIZES[8192])) == (16384, 61440, 12)
    assert (FARGATE_SIZES[16384][0], FARGATE_SIZES[16384][-1], len(FARGATE_SIZES[16384])) == (32768, 122880, 12)


@pytest.mark.parametrize(("cpu", "memory"), [(c, m) for c, ms in FARGATE_SIZES.items() for m in ms])
def test_every_valid_fargate_combination_passes(cpu: int, memory: int) -> None:
    judgement = judge_task_size(fargate(str(cpu), str(memory)))
    assert judgement.ok, judgement.reason
    assert judgement.value == {"launch_type": "FARGATE", "cpu": cpu, "memory": memory}


@pytest.mark.parametrize(
    ("cpu", "memory"),
    [
        (256, 4096),
        (256, 256),
        (512, 512),
        (512, 5120),
        (1024, 1024),
        (1024, 9216),
        (4096, 31744),
        (8192, 18432),
        (16384, 36864),
        (16384, 131072),
    ],
)
def test_invalid_fargate_memory_for_the_cpu_fails(cpu: int, memory: int) -> None:
    judgement = judge_task_size(fargate(str(cpu), str(memory)))
    assert not judgement.ok
    assert judgement.reason.startswith(f"FARGATE cpu {cpu} with memory {memory} MiB is not a valid combination")


def test_the_reason_says_what_the_cpu_allows() -> None:
    judgement = judge_task_size(fargate("1024", "1024"))
    assert judgement.reason == (
        "FARGATE cpu 1024 with memory 1024 MiB is not a valid combination "
        "(cpu 1024 allows memory 2048-8192 in steps of 1024 MiB)"
    )
    assert judgement.threshold == "cpu 1024: memory 2048-8192 in steps of 1024 MiB"


@pytest.mark.parametrize("cpu", [128, 768, 3072, 32768])
def test_cpu_that_is_not_a_fargate_size_fails(cpu: int) -> None:
    judgement = judge_task_size(fargate(str(cpu), "2048"))
    assert not judgement.ok
    assert judgement.reason == (
        f"FARGATE cpu {cpu} is not a Fargate size (valid cpu: 256, 512, 1024, 2048, 4096, 8192, 16384)"
    )


@pytest.mark.parametrize(
    ("cpu", "memory", "unset"), [(None, "512", "cpu"), ("256", None, "memory"), (None, None, "cpu and memory")]
)
def test_fargate_without_task_level_size_fails(cpu: Any, memory: Any, unset: str) -> None:
    judgement = judge_task_size(fargate(cpu, memory))
    assert not judgement.ok
    assert judgement.reason == f"FARGATE task definition sets no task-level {unset}; Fargate needs both"


def test_vcpu_and_gb_spellings_are_understood() -> None:
    judgement = judge_task_size(fargate("0.25 vCPU", "0.5 GB"))
    assert judgement.ok, judgement.reason
    assert judgement.value["cpu"] == 256 and judgement.value["memory"] == 512
    assert judge_task_size(fargate("1 vcpu", "3GB")).ok
    assert not judge_task_size(fargate("1 vCPU", "1 GB")).ok


def test_windows_on_fargate_allows_only_1_2_or_4_vcpu() -> None:
    windows = {"runtimePlatform": {"operatingSystemFamily": "WINDOWS_SERVER_2022_CORE", "cpuArchitecture": "X86_64"}}
    assert judge_task_size(fargate("1024", "2048", **windows)).ok
    small = judge_task_size(fargate("512", "1024", **windows))
    assert not small.ok
    assert small.reason == "FARGATE Windows cpu 512 is not a Fargate size (valid cpu: 1024, 2048, 4096)"


def test_fargate_rules_apply_when_both_launch_types_are_required() -> None:
    both = {**fargate("256", "4096"), "requiresCompatibilities": ["EC2", "FARGATE"]}
    assert not judge_task_size(both).ok


def test_garbage_sizes_fail_with_the_expected_form() -> None:
    judgement = judge_task_size(fargate("lots", "512"))
    assert not judgement.ok
    assert judgement.reason == "task cpu 'lots' is not a size ECS understands (expected CPU units or '<n> vCPU')"


# --- EC2 and others --------------------------------------------------------------------------
def test_ec2_with_task_memory_and_no_cpu_passes() -> None:
    judgement = judge_task_size(ec2(memory="512"))
    assert judgement.ok
    assert judgement.reason == "EC2 task cpu unset, memory 512 MiB"


@pytest.mark.parametrize("key", ["memory", "memoryReservation"])
def test_ec2_with_memory_on_every_container_passes(key: str) -> None:
    containers = [{"name": "web", "image": "x", key: 256}, {"name": "side", "image": "x", "memory": 64}]
    judgement = judge_task_size(ec2(cpu="1024", containers=containers))
    assert judgement.ok, judgement.reason
    assert judgement.reason == "EC2 task cpu 1024 (within 128..196608 units), memory set per container"


def test_ec2_without_any_memory_fails_naming_the_containers() -> None:
    containers: list[dict[str, Any]] = [
        {"name": "web", "image": "x", "memory": 256},
        {"name": "side", "image": "x"},
        {"name": "log"},
    ]
    judgement = judge_task_size(ec2(containers=containers))
    assert not judgement.ok
    assert judgement.reason == (
        "EC2 task sets no task-level memory and container(s) side, log set neither memory nor memoryReservation"
    )


@pytest.mark.parametrize(("cpu", "ok"), [(127, False), (128, True), (196608, True), (196609, False), (0, False)])
def test_ec2_cpu_range_boundaries(cpu: int, ok: bool) -> None:
    judgement = judge_task_size(ec2(cpu=str(cpu), memory="512"))
    assert judgement.ok is ok
    low, high = EC2_TASK_CPU_RANGE
    if not ok:
        assert judgement.reason == f"EC2 task cpu {cpu} is outside {low}..{high} CPU units"


def test_no_compatibilities_means_ec2_and_external_keeps_its_name() -> None:
    assert judge_task_size({"containerDefinitions": [], "memory": "256"}).value["launch_type"] == "EC2"
    external = judge_task_size({"requiresCompatibilities": ["EXTERNAL"], "cpu": "64", "memory": "256"})
    assert not external.ok
    assert external.reason == "EXTERNAL task cpu 64 is outside 128..196608 CPU units"


# --- parsing ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("raw", "units"), [(None, None), ("", None), ("512", 512), (512, 512), ("2 vCPU", 2048)])
def test_parse_cpu_units(raw: Any, units: int | None) -> None:
    assert parse_cpu_units(raw) == units


@pytest.mark.parametrize(("raw", "mib"), [(None, None), ("1024", 1024), ("1GB", 1024), ("30 GB", 30720)])
def test_parse_memory_mib(raw: Any, mib: int | None) -> None:
    assert parse_memory_mib(raw) == mib


@pytest.mark.parametrize("raw", ["1.5x", "-5", "2 TB", True])
def test_parse_rejects_other_forms(raw: Any) -> None:
    with pytest.raises(ValueError, match="is not a size ECS understands"):
        parse_memory_mib(raw)
