"""BeforeInstall: ECR images exist (``ecr.images_exist``) and carry no blocking scan findings (``ecr.scan_findings``).

Layer L2 (two checks on the same images; each reads ECR on its own). Images outside ECR (Docker
Hub, ECR Public, other registries) are listed as skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from trafficgate.aws import AWS_ERRORS, error_code
from trafficgate.checks.base import Check, CheckError, CheckResult
from trafficgate.constants import SEVERITIES
from trafficgate.discovery.images import EcrImage, ecr_images

if TYPE_CHECKING:
    from trafficgate.context import CheckContext

IMAGES_EXIST_CHECK_ID = "ecr.images_exist"
SCAN_FINDINGS_CHECK_ID = "ecr.scan_findings"
# Names of at most this many findings go into a one-line reason.
_MAX_NAMES = 5
# Enough for any real image (1000 findings a page) while bounding a pathological one.
_MAX_FINDING_PAGES = 20


@dataclass(kw_only=True)
class EcrImagesExist(Check):
    """Every container image that lives in ECR exists (``DescribeImages``).

    Images outside ECR (Docker Hub, ECR Public, other registries) are listed as skipped.
    """

    check_id: str = IMAGES_EXIST_CHECK_ID

    def run(self, ctx: CheckContext) -> CheckResult:
        uses, skipped = ecr_images(ctx.task_definition())
        missing: list[str] = []
        unreadable: list[str] = []
        found: list[dict[str, Any]] = []
        for use in uses:
            image = use.image
            containers = ", ".join(use.containers)
            try:
                response = ctx.aws.client("ecr", region=image.region).describe_images(
                    registryId=image.account, repositoryName=image.repository, imageIds=[image.image_id]
                )
            except AWS_ERRORS as exc:
                code = error_code(exc)
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
                f"ECR image(s) missing: {'; '.join(missing)}; push them or fix the task definition",
                value=value,
                threshold=0,
                details=result_details,
            )
        if unreadable:
            raise CheckError(f"could not describe ECR image(s): {'; '.join(unreadable)}")
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
        uses, skipped = ecr_images(ctx.task_definition())
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
            noun = "finding" if sum(n for _s, n in over) == 1 else "findings"
            blocking.append(f"image {scan.image.label} has {counts_text} {noun}{suffix}")
        no_data = [f"image {s.image.label} has no scan results ({s.no_data})" for s in scans if s.no_data]
        details = {
            "images": [{"image": s.image.uri, "counts": s.counts, "no_data": s.no_data} for s in scans],
            "skipped": skipped,
            "scan_no_data": policy,
        }
        kwargs: dict[str, Any] = {"value": totals, "threshold": threshold, "details": details}
        if blocking or (no_data and policy == "fail"):
            parts = blocking + ([f"{'; '.join(no_data)} (scan_no_data=fail)"] if no_data and policy == "fail" else [])
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
    client = ctx.aws.client("ecr", region=image.region)
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
        except AWS_ERRORS as exc:
            code = error_code(exc)
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


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(names[:_MAX_NAMES])
    return shown + (f", +{len(names) - _MAX_NAMES} more" if len(names) > _MAX_NAMES else "")

