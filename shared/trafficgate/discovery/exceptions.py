"""Errors of deployment discovery."""

from __future__ import annotations

from trafficgate.checks.base import CheckError


class DiscoveryError(CheckError):
    """Something the deployment should have could not be found; the message names it."""
