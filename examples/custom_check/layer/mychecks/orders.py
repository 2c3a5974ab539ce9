"""Two custom checks for an orders service: one as a class, one as a function.

Plan entries refer to them by dotted path::

    - id: orders.schema_version
      check: mychecks.orders:SchemaVersion
      expected: 2
    - id: orders.version_header
      check: mychecks.orders:version_header
      expected: green
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from trafficgate.checks.base import Check, CheckResult
from trafficgate.context import CheckContext


@dataclass(kw_only=True)
class SchemaVersion(Check):
    """The orders endpoint on the new version answers with the expected schema version.

    Parameters
    ----------
    listener
        ``test`` before production traffic moves, ``prod`` after.
    path
        Endpoint that returns a JSON object with the version field.
    field
        Name of that field.
    expected
        The schema version the new release must serve.
    """

    check_id: str = "orders.schema_version"
    listener: Literal["test", "prod"] = "test"
    path: str = "/orders/schema"
    field: str = "schema_version"
    expected: int = 2

    def run(self, ctx: CheckContext) -> CheckResult:
        # ctx.http() is bound to the listener: discovered URL, Host/TLS settings, auth headers.
        response = ctx.http(self.listener).get(self.path)
        if response.status_code != 200:
            return CheckResult.failed(
                f"GET {self.path} answered {response.status_code}", value=response.status_code, threshold=200
            )
        try:
            version = response.json()[self.field]
        except (ValueError, KeyError, TypeError):
            return CheckResult.failed(f"GET {self.path} has no JSON field {self.field!r}", threshold=self.expected)
        if version != self.expected:
            return CheckResult.failed(
                f"{self.field} {version} != expected {self.expected}", value=version, threshold=self.expected
            )
        return CheckResult.passed(f"{self.field} {version} as expected", value=version, threshold=self.expected)


def version_header(
    ctx: CheckContext, *, listener: Literal["test", "prod"] = "test", path: str = "/", expected: str = ""
) -> CheckResult:
    """The new version announces itself in the ``X-App-Version`` response header."""
    seen = ctx.http(listener).get(path).headers.get("X-App-Version")
    if seen != expected:
        return CheckResult.failed(f"X-App-Version is {seen!r}, expected {expected!r}", value=seen, threshold=expected)
    return CheckResult.passed(f"X-App-Version is {seen!r}", value=seen, threshold=expected)
