"""Logger and optional tracing from Powertools, built once per container; masked, and per invocation.

Layer L1 (engines): imports the leaves and :mod:`trafficgate.config` (whose
:class:`~trafficgate.config.ObservabilitySettings` is the one parser of Powertools' variables).
The handler decorator :func:`instrument` adds the Lambda context to every log line and wraps the
handler in the Tracer only when ``TRAFFICGATE_TRACING`` is true, so that a container with tracing
off never imports the X-Ray SDK. The verdict's EMF metrics are emitted by
:mod:`trafficgate.telemetry`, each as its own blob.

Two guarantees hold for every line this logger writes, whoever writes it:

* **masked**: the formatter masks every registered secret in the finished line (message, keys,
  exception text), so no run of six characters of one reaches CloudWatch Logs;
* **never under another invocation**: a thread started for an invocation carries that invocation
  in a context variable; once the container has moved on to the next invocation, lines from a
  thread that was walked away from (a check stuck past the deadline) are dropped instead of being
  written under the new invocation's ids.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable
from typing import Any, TextIO, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from trafficgate.config import ObservabilitySettings
from trafficgate.redaction import mask

#: The invocation a thread works for (its execution id); copied into the threads it starts.
INVOCATION: contextvars.ContextVar[str | None] = contextvars.ContextVar("trafficgate_invocation", default=None)
_current_lock = threading.Lock()
_current_invocation: str | None = None


class MaskingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter, with every registered secret masked in the finished line."""

    def format(self, record: logging.LogRecord) -> str:
        return mask(super().format(record))


class CurrentInvocationFilter(logging.Filter):
    """Drops records from threads of an invocation the container has since left."""

    def filter(self, record: logging.LogRecord) -> bool:
        owner = INVOCATION.get()
        return owner is None or owner == _current_invocation


def begin_invocation(token: str) -> contextvars.Token[str | None]:
    """Make ``token`` the container's current invocation, and this thread's."""
    global _current_invocation
    with _current_lock:
        _current_invocation = token
    return INVOCATION.set(token)


def end_invocation(reset: contextvars.Token[str | None]) -> None:
    """This thread no longer works for the invocation (the container's current one is kept)."""
    INVOCATION.reset(reset)


#: Read leniently at import: a bad value must not stop the hook from answering. The hook still
#: fails on it, naming the variable, when Settings are read (see trafficgate.runner).
SETTINGS, _PROBLEMS = ObservabilitySettings.parse()

logger = Logger(service=SETTINGS.service_name, level=SETTINGS.log_level, logger_formatter=MaskingFormatter())
# On the handler, not the logger: records of child loggers (trafficgate.probe.*) pass through it too.
logger.registered_handler.addFilter(CurrentInvocationFilter())
for _problem in _PROBLEMS:
    logger.error(f"{_problem}; using the default for now")

Handler = TypeVar("Handler", bound=Callable[..., Any])


def instrument(handler: Handler) -> Handler:
    """Decorate a hook handler with Powertools logging and (optionally) tracing."""
    wrapped: Any = handler
    if SETTINGS.tracing:
        # Imported only here: the X-Ray SDK costs start-up time that untraced hooks should not pay.
        from aws_lambda_powertools import Tracer

        wrapped = Tracer(service=SETTINGS.service_name).capture_lambda_handler(wrapped)
    wrapped = logger.inject_lambda_context(wrapped, clear_state=True)
    return wrapped  # type: ignore[no-any-return]


def send_logs_to(stream: TextIO) -> None:
    """Point the Powertools log handler at another stream (the local runner keeps stdout clean)."""
    handler = logger.registered_handler
    if hasattr(handler, "setStream"):
        handler.setStream(stream)
