"""The ECR images a task definition runs: image URIs parsed into registry, repository, tag and digest.

Layer L1 (engines); pure parsing, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trafficgate.discovery.taskdef import containers

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
class ImageUse:
    image: EcrImage
    containers: tuple[str, ...]


def ecr_images(definition: Mapping[str, Any]) -> tuple[list[ImageUse], list[dict[str, str]]]:
    """ECR images of every container (deduplicated, with their containers) and the skipped others."""
    uses: dict[str, list[str]] = {}
    parsed: dict[str, EcrImage] = {}
    skipped: list[dict[str, str]] = []
    for container in containers(definition):
        name, uri = str(container.get("name")), str(container.get("image") or "")
        image = parse_ecr_image(uri)
        if image is None:
            skipped.append({"container": name, "image": uri})
            continue
        parsed.setdefault(image.uri, image)
        uses.setdefault(image.uri, []).append(name)
    return [ImageUse(parsed[uri], tuple(names)) for uri, names in uses.items()], skipped
