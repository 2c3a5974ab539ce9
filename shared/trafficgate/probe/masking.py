"""Mask the spec's header values (possible credentials) in text taken from responses.

Layer L1 (probe engine).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from trafficgate.probe.kinds import MASK


class Masker:
    """Masks the spec's header values (possible credentials) in text taken from responses."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        secrets: set[str] = set()
        for value in headers.values():
            if len(value) >= 4:
                secrets.add(value)
            # "Bearer <token>": also mask the token on its own.
            secrets.update(part for part in value.split() if len(part) >= 8)
        self._pattern = (
            re.compile("|".join(re.escape(s) for s in sorted(secrets, key=len, reverse=True))) if secrets else None
        )

    def __call__(self, text: str) -> str:
        return self._pattern.sub(MASK, text) if self._pattern is not None else text
