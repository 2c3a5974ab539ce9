"""Logger and optional tracing from Powertools, built once per container.

Layer L1 (engines): imports the leaves and :mod:`trafficgate.config` (whose
:class:`~trafficgate.config.ObservabilitySettings` is the one parser of Powertools' variables).
The handler decorator :func:`instrument` adds the Lambda context to every log line and wraps the
handler in the Tracer only when ``TRAFFICGATE_TRACING`` is true, so that a container with tracing
off never imports the X-Ray SDK. The verdict's EMF metrics are emitted by
:mod:`trafficgate.telemetry`, each as its own blob.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TextIO, TypeVar

from aws_lambda_powertools import Logger

from trafficgate.config import ObservabilitySettings

#: Read leniently at import: a bad value must not stop the hook from answering. The hook still
#: fails on it, naming the variable, when Settings are read (see trafficgate.runner).
SETTINGS, _PROBLEMS = ObservabilitySettings.parse()

logger = Logger(service=SETTINGS.service_name, level=SETTINGS.log_level)
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
