"""Errors raised by the probe engine.

Every error carries a message that is safe to show to an operator: it never contains
header values (which may hold credentials) and the runner may use it as the failure reason.
"""

from __future__ import annotations

from trafficgate.checks.base import CheckError


class ProbeError(CheckError):
    """The probe could not run (as opposed to running and finding a bad deployment)."""


class ProbeConfigError(ProbeError, ValueError):
    """A probe setting or the target URL is invalid.

    It is also a :class:`ValueError`, so configuration parsing can catch one type for
    every bad value.
    """
