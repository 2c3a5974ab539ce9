"""moto's ECR, extended so that a test or a rehearsal controls an image's scan findings.

moto 5.2 answers DescribeImageScanFindings for a scanned image with one canned HIGH finding
(``CVE-9999-9999``) unless a result was queued through its moto-api, and that queue is keyed on
how the caller spells the ``imageId``. :func:`set_scan_findings` instead pins, per image, the
findings (or the scan status) every DescribeImageScanFindings call returns, whether the image is
asked for by tag or by digest. :func:`install_ecr` patches moto's backend once; nothing happens
at import time.

The pinned scan is stored on moto's image object, so ``mock_aws`` start/stop and
``POST /moto-api/reset`` clear it together with the image.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.core.utils import iso_8601_datetime_without_milliseconds
from moto.ecr.models import ECRBackend, Image, ecr_backends

from .exceptions import StandInError

__all__ = ["clear_scan", "install_ecr", "is_ecr_installed", "set_scan_findings"]

_SCAN_ATTR = "_trafficgate_scan"
_INSTALL_MARK = "_trafficgate_ecr_installed"
_install_lock = threading.Lock()
_ORIGINALS: dict[str, Any] = {}


def install_ecr() -> None:
    """Patch moto's ECR backend so pinned scans answer DescribeImageScanFindings; idempotent."""
    with _install_lock:
        if is_ecr_installed():
            return
        _ORIGINALS["describe_image_scan_findings"] = ECRBackend.describe_image_scan_findings
        ECRBackend.describe_image_scan_findings = _describe_image_scan_findings  # type: ignore[method-assign]
        setattr(ECRBackend, _INSTALL_MARK, True)


def is_ecr_installed() -> bool:
    """Return True once :func:`install_ecr` has patched moto."""
    return bool(getattr(ECRBackend, _INSTALL_MARK, False))


def set_scan_findings(
    region: str,
    repository: str,
    image_tag: str,
    findings: Sequence[Mapping[str, Any]],
    *,
    status: str = "COMPLETE",
    account_id: str = DEFAULT_ACCOUNT_ID,
) -> None:
    """Pin the scan result of ``repository:image_tag``, as if a basic scan had completed.

    Parameters
    ----------
    region, repository, image_tag
        The image (it must have been pushed, e.g. with ``put_image``).
    findings
        Basic-scan findings, each at least ``{"name": "CVE-...", "severity": "CRITICAL"}``;
        ``uri``, ``description`` and ``attributes`` are filled in when absent. An empty list is a
        clean scan. ``findingSeverityCounts`` is computed from them.
    status
        ``imageScanStatus.status``: ``COMPLETE``, or e.g. ``FAILED`` / ``IN_PROGRESS`` to model a
        scan that gives no findings.
    account_id
        The registry (moto's default account when omitted).

    Raises
    ------
    StandInError
        The repository or image does not exist, or :func:`install_ecr` was not called.
    """
    if not is_ecr_installed():
        raise StandInError("call install_ecr() before set_scan_findings()")
    image = _image(region, repository, image_tag, account_id)
    pinned = [_finding(f) for f in findings]
    setattr(image, _SCAN_ATTR, {"status": status, "findings": pinned})
    image.last_scan = datetime.now(UTC).replace(tzinfo=None)


def clear_scan(region: str, repository: str, image_tag: str, *, account_id: str = DEFAULT_ACCOUNT_ID) -> None:
    """Make ``repository:image_tag`` unscanned: DescribeImageScanFindings raises ScanNotFoundException."""
    image = _image(region, repository, image_tag, account_id)
    setattr(image, _SCAN_ATTR, None)
    image.last_scan = None


def _image(region: str, repository: str, image_tag: str, account_id: str) -> Image:
    backend: ECRBackend = ecr_backends[account_id][region]
    repo = backend.repositories.get(repository)
    if repo is None:
        raise StandInError(f"ECR repository {repository!r} does not exist in {account_id}/{region}")
    image = next((i for i in repo.images if image_tag in i.image_tags), None)
    if image is None:
        raise StandInError(f"ECR image {repository}:{image_tag} does not exist in {account_id}/{region}")
    return image


def _finding(raw: Mapping[str, Any]) -> dict[str, Any]:
    if "name" not in raw or "severity" not in raw:
        raise StandInError(f"a finding needs name and severity, got {dict(raw)!r}")
    name = str(raw["name"])
    return {
        "uri": f"https://cve.mitre.org/cgi-bin/cvename.cgi?name={name}",
        "description": f"{name} (stand-in finding)",
        "attributes": [],
        **raw,
        "name": name,
        "severity": str(raw["severity"]).upper(),
    }


def _describe_image_scan_findings(
    self: ECRBackend, registry_id: str, repository_name: str, image_id: dict[str, Any]
) -> dict[str, Any]:
    original = _ORIGINALS["describe_image_scan_findings"]
    repo = self._get_repository(repository_name, registry_id)
    image = repo._get_image(image_id.get("imageTag"), image_id.get("imageDigest"))
    pinned = getattr(image, _SCAN_ATTR, None)
    if pinned is None:
        # moto raises ScanNotFoundException for an image never scanned (last_scan unset).
        result: dict[str, Any] = original(self, registry_id, repository_name, image_id)
        return result
    status = pinned["status"]
    response: dict[str, Any] = {
        "registryId": repo.registry_id,
        "repositoryName": repository_name,
        "imageId": {"imageDigest": image.image_digest, "imageTag": image.image_tag},
        "imageScanStatus": {
            "status": status,
            "description": "The scan was completed successfully." if status == "COMPLETE" else f"Scan {status}.",
        },
    }
    if status != "COMPLETE":
        return response
    counts: dict[str, int] = {}
    for finding in pinned["findings"]:
        counts[finding["severity"]] = counts.get(finding["severity"], 0) + 1
    scanned_at = iso_8601_datetime_without_milliseconds(image.last_scan or datetime.now(UTC).replace(tzinfo=None))
    response["imageScanFindings"] = {
        "imageScanCompletedAt": scanned_at,
        "vulnerabilitySourceUpdatedAt": scanned_at,
        "findings": list(pinned["findings"]),
        "findingSeverityCounts": counts,
    }
    return response
