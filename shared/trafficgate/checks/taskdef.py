"""BeforeInstall checks on the new task definition named by the deployment's AppSpec.

Before CodeDeploy creates the green task set, most reasons it would fail to start (or would start
something it should not) can be read from the task definition alone: a deregistered revision, a
load balancer port the container does not map, a CPU/memory size Fargate refuses, an image that was
never pushed or carries critical findings, a secret reference to nothing, a missing variable.
Catching them here fails the deployment in seconds instead of after the green tasks crash-loop.

Every call is a read-only metadata call. Secret *values* are never read: no GetSecretValue, no
GetParameter. The IAM actions used are ``ecs:DescribeTaskDefinition``, ``ecr:DescribeImages``,
``ecr:DescribeImageScanFindings``, ``secretsmanager:DescribeSecret`` and ``ssm:DescribeParameters``.

The task definition is described once per invocation and shared through ``ctx.cache``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError

from trafficgate.checks.base import Check, CheckError, CheckResult
from trafficgate.config import SEVERITIES

if TYPE_CHECKING:
    from trafficgate.context import CheckContext
    from trafficgate.discovery import AppSpec

__all__ = [
    "CONTAINER_PORT_CHECK_ID",
    "EC2_TASK_CPU_RANGE",
    "FARGATE_SIZES",
    "IMAGES_EXIST_CHECK_ID",
    "REQUIRED_ENV_CHECK_ID",
    "SCAN_FINDINGS_CHECK_ID",
    "SECRETS_CHECK_ID",
    "TASK_DEFINITION_CHECK_ID",
    "TASK_SIZE_CHECK_ID",
    "ContainerPortMapped",
    "EcrImage",
    "EcrImagesExist",
    "EcrScanFindings",
    "RequiredEnvironment",
    "SecretReference",
    "SecretReferencesExist",
    "TaskDefinitionActive",
    "TaskDefinitionNotFound",
    "TaskSize",
    "TaskSizeJudgement",
    "appspec_of",
    "before_install_checks",
    "judge_task_size",
    "parse_ecr_image",
    "parse_secret_reference",
    "task_definition",
]

TASK_DEFINITION_CHECK_ID = "ecs.task_definition"
CONTAINER_PORT_CHECK_ID = "ecs.container_port"
TASK_SIZE_CHECK_ID = "ecs.task_size"
IMAGES_EXIST_CHECK_ID = "ecr.images_exist"
SCAN_FINDINGS_CHECK_ID = "ecr.scan_findings"
SECRETS_CHECK_ID = "secrets.references_exist"
REQUIRED_ENV_CHECK_ID = "ecs.required_env"

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

# Names of at most this many findings or references go into a one-line reason.
_MAX_NAMES = 5
# Enough for any real image (1000 findings a page) while bounding a pathological one.
_MAX_FINDING_PAGES = 20
# DescribeParameters accepts at most 50 values in one filter.
_SSM_FILTER_VALUES = 50
_CACHE_PREFIX = "ecs.task_definition:"


# --------------------------------------------------------------------------------------------
# the task definition, shared by the checks of one invocation
# --------------------------------------------------------------------------------------------
class TaskDefinitionNotFound(CheckError):
    """The AppSpec names a task definition that ECS does not know."""


def appspec_of(ctx: CheckContext) -> AppSpec:
    """The AppSpec of the deployment being judged.

    Raises
    ------
    CheckError
        The revision carries no AppSpec content (S3 or GitHub revisions), so there is no task
        definition to judge.
    """
    appspec = ctx.deployment().appspec
    if appspec is None:
        raise CheckError(
            f"deployment {ctx.deployment_id} carries no AppSpec content; cannot tell which task definition it deploys"
        )
    return appspec


def task_definition(ctx: CheckContext) -> dict[str, Any]:
    """The AppSpec's task definition (``DescribeTaskDefinition``), described once per invocation.

    The answer, or the error, is kept in ``ctx.cache`` so that the seven checks of BeforeInstall
    make one call between them.

    Raises
    ------
    TaskDefinitionNotFound
        ECS does not know the task definition.
    CheckError
        It could not be described (access denied, throttled beyond retries, ...).
    """
    arn = appspec_of(ctx).task_definition_arn
    key = _CACHE_PREFIX + arn
    if key not in ctx.cache:
        ctx.cache[key] = _describe_task_definition(ctx, arn)
    cached = ctx.cache[key]
    if isinstance(cached, CheckError):
        raise type(cached)(str(cached))
    result: dict[str, Any] = cached
    return result


def _describe_task_definition(ctx: CheckContext, arn: str) -> dict[str, Any] | CheckError:
    try:
        response = ctx.aws.client("ecs").describe_task_definition(taskDefinition=arn)
    except ClientError as exc:
        code = _error_code(exc)
        # ECS answers an unknown family or revision with a bare ClientException.
        if code == "ClientException":
            return TaskDefinitionNotFound(f"task definition {arn} not found (ClientException)")
        return CheckError(f"could not describe task definition {arn}: AWS error {code}")
    definition: dict[str, Any] = response.get("taskDefinition") or {}
    if not definition:
        return TaskDefinitionNotFound(f"task definition {arn} not found (empty DescribeTaskDefinition answer)")
    return definition


def _containers(definition: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [c for c in definition.get("containerDefinitions") or [] if isinstance(c, dict)]


def _essential(container: Mapping[str, Any]) -> bool:
    # ECS treats a container without the flag as essential.
    return container.get("essential") is not False


# --------------------------------------------------------------------------------------------
# 1. ecs.task_definition
# --------------------------------------------------------------------------------------------
@dataclass(kw_only=True)
class TaskDefinitionActive(Check):
    """The AppSpec's task definition exists and is ACTIVE.

    CodeDeploy cannot start a green task set from an INACTIVE (deregistered) revision.
    """

    check_id: str = TASK_DEFINITION_CHECK_ID

    def run(self, ctx: CheckContext) -> CheckResult:
        arn = appspec_of(ctx).task_definition_arn
        try:
            definition = task_definition(ctx)
        except TaskDefinitionNotFound as exc:
            return CheckResult.failed(
                f"{exc}: register it or fix TaskDefinition in the AppSpec", value="NOT_FOUND", threshold="ACTIVE"
            )
        status = str(definition.get("status") or "UNKNOWN")
        details = {
            "taskDefinitionArn": definition.get("taskDefinitionArn", arn),
            "family": definition.get("family"),
            "revision": definition.get("revision"),
        }
        if status != "ACTIVE":
            return CheckResult.failed(
                f"task definition {arn} is {status}: deploy an ACTIVE revision",
                value=status,
                threshold="ACTIVE",
                details=details,
            )
        return CheckResult.passed(f"task definition {arn} is ACTIVE", value=status, threshold="ACTIVE", details=details)


# --------------------------------------------------------------------------------------------
# 2. ecs.container_port
# --------------------------------------------------------------------------------------------
@dataclass(kw_only=True)
class ContainerPortMapped(Check):
    """The AppSpec's ``ContainerName`` is in the task definition and maps its ``ContainerPort``.

    The load balancer registers ``container:port`` of the green tasks; a port the container does
    not map leaves the target group empty.
    """

    check_id: str = CONTAINER_PORT_CHECK_ID

    def run(self, ctx: CheckContext) -> CheckResult:
        appspec = appspec_of(ctx)
        name, port = appspec.container_name, appspec.container_port
        containers = _containers(task_definition(ctx))
        container = next((c for c in containers if c.get("name") == name), None)
        if container is None:
            names = ", ".join(str(c.get("name")) for c in containers) or "none"
            return CheckResult.failed(
                f"container {name} not in task definition (containers: {names})", value=None, threshold=name
            )
        mappings = [m for m in container.get("portMappings") or [] if isinstance(m, dict)]
        ports = [m["containerPort"] for m in mappings if m.get("containerPort") is not None]
        listed = "[" + ", ".join(str(p) for p in ports) + "]"
        mapping = next((m for m in mappings if m.get("containerPort") == port), None)
        if mapping is None:
            return CheckResult.failed(
                f"container {name} port {port} not in portMappings {listed}", value=ports, threshold=port
            )
        protocol = str(mapping.get("protocol") or "tcp").lower()
        if protocol != "tcp":
            return CheckResult.failed(
                f"container {name} port {port} is mapped as {protocol}; the load balancer needs tcp",
                value=ports,
                threshold=port,
            )
        return CheckResult.passed(
            f"container {name} maps port {port} (portMappings {listed})", value=ports, threshold=port
        )


# --------------------------------------------------------------------------------------------
# 3. ecs.task_size
# --------------------------------------------------------------------------------------------
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
            for c in _containers(definition)
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
        judgement = judge_task_size(task_definition(ctx))
        make = CheckResult.passed if judgement.ok else CheckResult.failed
        return make(judgement.reason, value=judgement.value, threshold=judgement.threshold)


# --------------------------------------------------------------------------------------------
# ECR images: 4. ecr.images_exist, 5. ecr.scan_findings
# --------------------------------------------------------------------------------------------
_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?"
    r"/(?P<repository>[a-z0-9][a-z0-9._/-]*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)


@dataclass(frozen=True, kw_only=True)
class EcrImage:
    """An image URI that lives in a private ECR registry."""

    uri: str
    account: str
    region: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def image_id(self) -> dict[str, str]:
        """The ``imageId`` to ask ECR about: the digest when pinned (that is what ECS pulls), else the tag."""
        if self.digest:
            return {"imageDigest": self.digest}
        return {"imageTag": self.tag or "latest"}

    @property
    def label(self) -> str:
        """Short name for reasons: ``app:1`` or ``app@sha256:0123456789ab``."""
        if self.digest:
            return f"{self.repository}@{self.digest[:19]}"
        return f"{self.repository}:{self.tag or 'latest'}"


def parse_ecr_image(uri: str) -> EcrImage | None:
    """Parse ``<account>.dkr.ecr.<region>.amazonaws.com/<repo>[:tag][@sha256:digest]``; None elsewhere."""
    match = _ECR_IMAGE.match(uri.strip())
    if match is None:
        return None
    return EcrImage(
        uri=uri.strip(),
        account=match["account"],
        region=match["region"],
        repository=match["repository"],
        tag=match["tag"],
        digest=match["digest"],
    )


@dataclass(frozen=True)
class _ImageUse:
    image: EcrImage
    containers: tuple[str, ...]


def _ecr_images(definition: Mapping[str, Any]) -> tuple[list[_ImageUse], list[dict[str, str]]]:
    """ECR images of every container (deduplicated, with their containers) and the skipped others."""
    uses: dict[str, list[str]] = {}
    parsed: dict[str, EcrImage] = {}
    skipped: list[dict[str, str]] = []
    for container in _containers(definition):
        name, uri = str(container.get("name")), str(container.get("image") or "")
        image = parse_ecr_image(uri)
        if image is None:
            skipped.append({"container": name, "image": uri})
            continue
        parsed.setdefault(image.uri, image)
        uses.setdefault(image.uri, []).append(name)
    return [_ImageUse(parsed[uri], tuple(names)) for uri, names in uses.items()], skipped


@dataclass(kw_only=True)
class EcrImagesExist(Check):
    """Every container image that lives in ECR exists (``DescribeImages``).

    Images outside ECR (Docker Hub, ECR Public, other registries) are listed as skipped.
    """

    check_id: str = IMAGES_EXIST_CHECK_ID

    def run(self, ctx: CheckContext) -> CheckResult:
        uses, skipped = _ecr_images(task_definition(ctx))
        missing: list[str] = []
        unreadable: list[str] = []
        found: list[dict[str, Any]] = []
        for use in uses:
            image = use.image
            containers = ", ".join(use.containers)
            try:
                response = _client(ctx, "ecr", image.region).describe_images(
                    registryId=image.account, repositoryName=image.repository, imageIds=[image.image_id]
                )
            except ClientError as exc:
                code = _error_code(exc)
                if code == "RepositoryNotFoundException":
                    missing.append(
                        f"{image.uri} (container {containers}): repository {image.repository} not found "
                        f"in registry {image.account} ({image.region})"
                    )
                elif code == "ImageNotFoundException":
                    missing.append(f"{image.uri} (container {containers}): {_what(image)} not found in repository")
                else:
                    unreadable.append(f"{image.uri}: AWS error {code}")
                continue
            details = response.get("imageDetails") or []
            if not details:
                missing.append(f"{image.uri} (container {containers}): {_what(image)} not found in repository")
                continue
            found.append(
                {"image": image.uri, "digest": details[0].get("imageDigest"), "containers": list(use.containers)}
            )
        result_details = {"found": found, "missing": missing, "skipped": skipped}
        value = {"checked": len(uses), "missing": len(missing), "skipped": len(skipped)}
        if missing:
            return CheckResult.failed(
                f"ECR image(s) missing: {_join(missing)}; push them or fix the task definition",
                value=value,
                threshold=0,
                details=result_details,
            )
        if unreadable:
            raise CheckError(f"could not describe ECR image(s): {_join(unreadable)}")
        reason = f"{len(uses)} ECR image(s) exist" if uses else "no ECR images to check"
        if skipped:
            reason += f"; {len(skipped)} image(s) outside ECR skipped"
        return CheckResult.passed(reason, value=value, threshold=0, details=result_details)


def _what(image: EcrImage) -> str:
    return f"digest {image.digest}" if image.digest else f"tag {image.tag or 'latest'}"


@dataclass
class _Scan:
    image: EcrImage
    counts: dict[str, int] = field(default_factory=dict)
    names: dict[str, list[str]] = field(default_factory=dict)
    no_data: str | None = None


@dataclass(kw_only=True)
class EcrScanFindings(Check):
    """No ECR image carries scan findings at or above ``settings.scan_severity``.

    An image without usable scan results (never scanned, scan failed or still running, image
    gone) is judged by ``settings.scan_no_data``: ``warn`` passes with a warning, ``pass`` passes,
    ``fail`` fails.
    """

    check_id: str = SCAN_FINDINGS_CHECK_ID

    def run(self, ctx: CheckContext) -> CheckResult:
        uses, skipped = _ecr_images(task_definition(ctx))
        threshold = ctx.settings.scan_severity.upper()
        policy = ctx.settings.scan_no_data
        blocking_levels = [s for s in reversed(SEVERITIES) if _rank(s) >= _rank(threshold)]
        scans = [_read_scan(ctx, use.image) for use in uses]

        totals: dict[str, int] = {}
        for scan in scans:
            for severity, count in scan.counts.items():
                totals[severity] = totals.get(severity, 0) + count
        blocking: list[str] = []
        for scan in scans:
            over = [(s, scan.counts.get(s, 0)) for s in blocking_levels if scan.counts.get(s, 0) > 0]
            if not over:
                continue
            counts_text = ", ".join(f"{n} {s}" for s, n in over)
            names = [name for s, _n in over for name in scan.names.get(s, [])]
            suffix = f" ({_names(names)})" if names else ""
            blocking.append(f"image {scan.image.label} has {counts_text} findings{suffix}")
        no_data = [f"image {s.image.label} has no scan results ({s.no_data})" for s in scans if s.no_data]
        details = {
            "images": [{"image": s.image.uri, "counts": s.counts, "no_data": s.no_data} for s in scans],
            "skipped": skipped,
            "scan_no_data": policy,
        }
        kwargs: dict[str, Any] = {"value": totals, "threshold": threshold, "details": details}
        if blocking or (no_data and policy == "fail"):
            parts = blocking + ([f"{_join(no_data)} (scan_no_data=fail)"] if no_data and policy == "fail" else [])
            return CheckResult.failed("; ".join(parts), **kwargs)
        if not uses:
            return CheckResult.passed("no ECR images to check", **kwargs)
        scanned = len(scans) - len(no_data)
        reason = f"no findings at or above {threshold} in {scanned} scanned ECR image(s)"
        if no_data:
            reason += f"; {len(no_data)} without scan results (scan_no_data={policy})"
            if policy == "warn":
                kwargs["warnings"] = tuple(f"{n}: enable scan on push or start a scan" for n in no_data)
        return CheckResult.passed(reason, **kwargs)


def _read_scan(ctx: CheckContext, image: EcrImage) -> _Scan:
    scan = _Scan(image)
    client = _client(ctx, "ecr", image.region)
    request: dict[str, Any] = {
        "registryId": image.account,
        "repositoryName": image.repository,
        "imageId": image.image_id,
        "maxResults": 1000,
    }
    counted: dict[str, int] = {}
    for page_number in range(_MAX_FINDING_PAGES):
        try:
            page = client.describe_image_scan_findings(**request)
        except ClientError as exc:
            code = _error_code(exc)
            if code == "ScanNotFoundException":
                scan.no_data = "never scanned"
            elif code in {"ImageNotFoundException", "RepositoryNotFoundException"}:
                scan.no_data = f"image not found: {code}"
            else:
                raise CheckError(f"could not read scan findings of {image.uri}: AWS error {code}") from None
            return scan
        status = str((page.get("imageScanStatus") or {}).get("status") or "UNKNOWN")
        # ACTIVE is what enhanced (Inspector) scanning reports for a continuously scanned image.
        if status not in {"COMPLETE", "ACTIVE"}:
            scan.no_data = f"scan status {status}"
            return scan
        findings = page.get("imageScanFindings") or {}
        if page_number == 0:
            scan.counts = {str(k).upper(): int(v) for k, v in (findings.get("findingSeverityCounts") or {}).items()}
        for finding in findings.get("findings") or []:
            _note(scan, counted, finding.get("severity"), finding.get("name"))
        for finding in findings.get("enhancedFindings") or []:
            vulnerability = (finding.get("packageVulnerabilityDetails") or {}).get("vulnerabilityId")
            _note(scan, counted, finding.get("severity"), vulnerability or finding.get("title"))
        token = page.get("nextToken")
        if not token:
            break
        request["nextToken"] = token
    if not scan.counts:
        scan.counts = counted
    return scan


def _note(scan: _Scan, counted: dict[str, int], severity: object, name: object) -> None:
    level = str(severity or "UNDEFINED").upper()
    counted[level] = counted.get(level, 0) + 1
    if name:
        scan.names.setdefault(level, []).append(str(name))


def _rank(severity: str) -> int:
    # UNDEFINED and UNTRIAGED rank below INFORMATIONAL: they never fail a threshold.
    return SEVERITIES.index(severity) if severity in SEVERITIES else -1


# --------------------------------------------------------------------------------------------
# 6. secrets.references_exist
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class SecretReference:
    """Where a ``valueFrom`` points: a Secrets Manager secret or an SSM parameter.

    Parameters
    ----------
    kind
        ``secretsmanager``, ``ssm`` or ``unknown`` (an ARN of another service).
    target
        The secret ARN without the JSON-key suffix, or the parameter name.
    region, account
        From the ARN; None for a bare parameter name (the task's own region and account).
    json_key, version_stage, version_id
        The optional suffix of a Secrets Manager reference (``:key:stage:id``).
    """

    kind: Literal["secretsmanager", "ssm", "unknown"]
    target: str
    region: str | None = None
    account: str | None = None
    json_key: str | None = None
    version_stage: str | None = None
    version_id: str | None = None


def parse_secret_reference(value_from: str) -> SecretReference:
    """Classify a ``secrets[].valueFrom`` (or ``credentialsParameter``) as ECS reads it.

    A Secrets Manager ARN may carry ``:json-key:version-stage:version-id``; an SSM parameter is an
    ARN (``...:parameter/name`` or ``...:parameter/path/name`` for ``/path/name``) or, in the
    task's region, a bare name.
    """
    value = value_from.strip()
    parts = value.split(":")
    if parts[0] != "arn" or len(parts) < 6:
        return SecretReference(kind="ssm", target=value)
    service, region, account = parts[2], parts[3] or None, parts[4] or None
    if service == "secretsmanager" and len(parts) >= 7 and parts[5] == "secret":
        extra = [*parts[7:10], None, None, None]
        return SecretReference(
            kind="secretsmanager",
            target=":".join(parts[:7]),
            region=region,
            account=account,
            json_key=extra[0] or None,
            version_stage=extra[1] or None,
            version_id=extra[2] or None,
        )
    resource = ":".join(parts[5:])
    if service == "ssm" and resource.startswith("parameter/"):
        name = resource[len("parameter/") :]
        # The ARN of "/path/name" is ".../parameter/path/name"; of "name", ".../parameter/name".
        return SecretReference(kind="ssm", target=f"/{name}" if "/" in name else name, region=region, account=account)
    return SecretReference(kind="unknown", target=value, region=region, account=account)


def _secret_uses(definition: Mapping[str, Any]) -> dict[str, list[str]]:
    """``valueFrom`` → who needs it (``container web secret DB_PASSWORD``), in task definition order."""
    uses: dict[str, list[str]] = {}
    for container in _containers(definition):
        name = container.get("name")
        for secret in container.get("secrets") or []:
            uses.setdefault(str(secret.get("valueFrom") or ""), []).append(
                f"container {name} secret {secret.get('name')}"
            )
        for option in (container.get("logConfiguration") or {}).get("secretOptions") or []:
            uses.setdefault(str(option.get("valueFrom") or ""), []).append(
                f"container {name} log option {option.get('name')}"
            )
        credentials = (container.get("repositoryCredentials") or {}).get("credentialsParameter")
        if credentials:
            uses.setdefault(str(credentials), []).append(f"container {name} repositoryCredentials")
    return uses


@dataclass(kw_only=True)
class SecretReferencesExist(Check):
    """Every secret a container references exists, checked from metadata only.

    Secrets Manager references use ``DescribeSecret`` (a secret scheduled for deletion, or a named
    version or stage that is absent, counts as missing); SSM parameters use
    ``DescribeParameters``. Values are never read. Parameters shared from another account cannot be
    listed and are reported as warnings.
    """

    check_id: str = SECRETS_CHECK_ID

    def run(self, ctx: CheckContext) -> CheckResult:
        definition = task_definition(ctx)
        own_account = _arn_account(str(definition.get("taskDefinitionArn") or ""))
        uses = _secret_uses(definition)
        missing: list[str] = []
        unreadable: list[str] = []
        warnings: list[str] = []
        ssm_by_region: dict[str | None, dict[str, list[str]]] = {}
        for value_from, needed_by in uses.items():
            who = ", ".join(needed_by)
            if not value_from:
                missing.append(f"empty valueFrom ({who})")
                continue
            ref = parse_secret_reference(value_from)
            if ref.kind == "unknown":
                missing.append(f"{value_from} is neither a Secrets Manager secret nor an SSM parameter ({who})")
            elif ref.kind == "secretsmanager":
                problem = _secret_problem(ctx, ref)
                if problem is not None:
                    (unreadable if problem.startswith("AWS error") else missing).append(
                        f"secret {ref.target} {problem} ({who})"
                    )
            elif ref.account and own_account and ref.account != own_account:
                warnings.append(f"cannot verify parameter {value_from} shared from account {ref.account} ({who})")
            else:
                ssm_by_region.setdefault(ref.region, {}).setdefault(ref.target, []).extend(needed_by)
        for region, names in ssm_by_region.items():
            try:
                existing = _existing_parameters(ctx, region, list(names))
            except ClientError as exc:
                unreadable.append(f"SSM parameters in {region or 'this region'}: AWS error {_error_code(exc)}")
                continue
            for name, needed_by in names.items():
                if name not in existing:
                    missing.append(f"parameter {name} not found ({', '.join(needed_by)})")
        value = {"references": len(uses), "missing": len(missing)}
        details = {"references": {k: v for k, v in uses.items()}, "missing": missing}
        if missing:
            return CheckResult.failed(
                f"missing secret reference(s): {_join(missing)}",
                value=value,
                threshold=0,
                details=details,
                warnings=tuple(warnings),
            )
        if unreadable:
            raise CheckError(f"could not verify secret reference(s): {_join(unreadable)}")
        reason = f"{len(uses)} secret reference(s) exist" if uses else "no secret references"
        return CheckResult.passed(reason, value=value, threshold=0, details=details, warnings=tuple(warnings))


def _secret_problem(ctx: CheckContext, ref: SecretReference) -> str | None:
    """Why a Secrets Manager reference would not resolve, or None when it would (metadata only)."""
    try:
        meta = _client(ctx, "secretsmanager", ref.region).describe_secret(SecretId=ref.target)
    except ClientError as exc:
        code = _error_code(exc)
        return "not found" if code == "ResourceNotFoundException" else f"AWS error {code}"
    if meta.get("DeletedDate"):
        return "is scheduled for deletion"
    versions: Mapping[str, Sequence[str]] = meta.get("VersionIdsToStages") or {}
    if ref.version_id and ref.version_id not in versions:
        return f"has no version {ref.version_id}"
    if ref.version_stage and not any(ref.version_stage in stages for stages in versions.values()):
        return f"has no version labelled {ref.version_stage}"
    return None


def _existing_parameters(ctx: CheckContext, region: str | None, names: list[str]) -> set[str]:
    paginator = _client(ctx, "ssm", region).get_paginator("describe_parameters")
    existing: set[str] = set()
    for start in range(0, len(names), _SSM_FILTER_VALUES):
        chunk = names[start : start + _SSM_FILTER_VALUES]
        filters = [{"Key": "Name", "Option": "Equals", "Values": chunk}]
        for page in paginator.paginate(ParameterFilters=filters):
            existing.update(str(p.get("Name")) for p in page.get("Parameters") or [])
    return existing


def _arn_account(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] or None if len(parts) > 4 and parts[0] == "arn" else None


# --------------------------------------------------------------------------------------------
# 7. ecs.required_env
# --------------------------------------------------------------------------------------------
@dataclass(kw_only=True)
class RequiredEnvironment(Check):
    """Every name in ``settings.required_env`` is set by every essential container.

    A name counts as set when it is in the container's ``environment`` or ``secrets``. A container
    with ``environmentFiles`` may set it there, which cannot be read from the task definition: that
    is a warning, not a failure.
    """

    check_id: str = REQUIRED_ENV_CHECK_ID

    def run(self, ctx: CheckContext) -> CheckResult:
        required = tuple(ctx.settings.required_env)
        if not required:
            return CheckResult.passed("no required variables configured", value={}, threshold=[])
        missing: dict[str, list[str]] = {}
        warnings: list[str] = []
        essential = [c for c in _containers(task_definition(ctx)) if _essential(c)]
        for container in essential:
            name = str(container.get("name"))
            present = {str(e.get("name")) for e in container.get("environment") or []}
            present |= {str(s.get("name")) for s in container.get("secrets") or []}
            absent = [n for n in required if n not in present]
            if not absent:
                continue
            if container.get("environmentFiles"):
                warnings.append(f"container {name}: cannot verify environmentFiles for {', '.join(absent)}")
            else:
                missing[name] = absent
        details = {"containers": [str(c.get("name")) for c in essential]}
        if missing:
            parts = [f"container {c} does not set {', '.join(names)}" for c, names in missing.items()]
            return CheckResult.failed(
                "; ".join(parts) + " (environment or secrets)",
                value=missing,
                threshold=list(required),
                details=details,
                warnings=tuple(warnings),
            )
        return CheckResult.passed(
            f"{len(essential)} essential container(s) set {', '.join(required)}",
            value=missing,
            threshold=list(required),
            details=details,
            warnings=tuple(warnings),
        )


# --------------------------------------------------------------------------------------------
# the plan fragment and small helpers
# --------------------------------------------------------------------------------------------
def before_install_checks() -> list[Check]:
    """The BeforeInstall checks on the new task definition, in the order they are best read."""
    return [
        TaskDefinitionActive(),
        ContainerPortMapped(),
        TaskSize(),
        EcrImagesExist(),
        EcrScanFindings(),
        SecretReferencesExist(),
        RequiredEnvironment(),
    ]


def _client(ctx: CheckContext, service: str, region: str | None) -> Any:
    """The service's client in ``region`` (an image or secret may live in another region than the hook)."""
    default = ctx.aws.client(service)
    if region is None or region == default.meta.region_name:
        return default
    return ctx.aws.cached(
        f"{service}:{region}",
        lambda: ctx.aws.session.client(service, region_name=region, config=default.meta.config),  # type: ignore[call-overload]
    )


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "unknown"))


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(names[:_MAX_NAMES])
    return shown + (f", +{len(names) - _MAX_NAMES} more" if len(names) > _MAX_NAMES else "")


def _join(items: Iterable[str]) -> str:
    return "; ".join(items)
