"""Errors raised by the Trafficgate library on purpose.

Layer L0 (leaves): imports nothing of ours. Each package above keeps its own ``exceptions.py``
whose errors derive from these, so that a caller can catch one type per package and every
message is safe to show (no secrets: header values and exception texts from below stay out).
"""

from __future__ import annotations


class TrafficgateError(Exception):
    """Base class of every error Trafficgate raises on purpose."""


class InvalidEventError(TrafficgateError, ValueError):
    """The Lambda event is not a CodeDeploy lifecycle hook event. Nothing is reported."""


class ConfigError(TrafficgateError, ValueError):
    """An environment variable holds a value Trafficgate cannot use.

    The message names the variable, the value and the accepted form.
    """


class ReportError(TrafficgateError):
    """PutLifecycleEventHookExecutionStatus still failed after botocore's retries.

    Raised out of the handler on purpose, so that Lambda's own retry gets a second chance to
    report: a deployment with no answer hangs for an hour.
    """


class CheckError(TrafficgateError):
    """Raised by a check (or an engine below it) when it cannot do its work.

    The message becomes the check's reason, so it must be safe to show: use it for expected
    failures such as "target group arn:... not found". Any other exception a check raises is
    reported with its type name only.
    """
