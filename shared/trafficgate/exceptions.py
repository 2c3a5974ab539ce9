"""Errors raised by the Trafficgate library, each wrapping what went wrong below."""

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
