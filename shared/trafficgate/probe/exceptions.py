"""Errors raised by the probe engine.

Layer L1 (probe engine); imports only the leaves. Every message is safe to show to an operator:
it never contains header values (which may hold credentials), and the runner may use it as the
failure reason.
"""

from __future__ import annotations

from trafficgate.exceptions import CheckError


class ProbeError(CheckError):
    """The probe could not run (as opposed to running and finding a bad deployment)."""


class ProbeConfigError(ProbeError, ValueError):
    """A probe setting or the target URL is invalid.

    It is also a :class:`ValueError`, so configuration parsing can catch one type for every
    bad value.

    Parameters
    ----------
    message
        What is wrong, starting with the setting's name.
    field
        The :class:`~trafficgate.probe.spec.ProbeSpec` field at fault, when known, so that a plan
        error or a configuration error can name the exact field or variable.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
