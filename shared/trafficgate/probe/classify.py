"""Turn a transport exception (requests, urllib3, socket, ssl) into a stable error kind.

Layer L1 (probe engine).
"""

from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Iterator
from typing import Any

import requests
import urllib3
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError, ReadTimeoutError

from trafficgate.probe.kinds import (
    CONNECT_REFUSED,
    CONNECT_TIMEOUT,
    CONNECTION_ERROR,
    DNS_ERROR,
    READ_TIMEOUT,
    TLS_ERROR,
    TOTAL_TIMEOUT,
)


class TotalTimeout(Exception):
    """The request used up its whole time budget (connect, headers and body together)."""


def _exception_chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, its causes, contexts and the exceptions wrapped in its args/reason."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        nested: list[Any] = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        nested.extend(current.args)
        stack.extend(e for e in nested if isinstance(e, BaseException))


def classify_error(exc: BaseException) -> str:
    """Map a transport exception (requests, urllib3, socket, ssl) to an error kind.

    requests wraps urllib3 errors which wrap socket errors, so the whole chain is searched,
    most specific kind first (a refused connection is also a "new connection error", which
    urllib3 makes a subclass of its connect timeout).
    """
    chain = list(_exception_chain(exc))

    def has(*types: type[BaseException]) -> bool:
        return any(isinstance(e, types) for e in chain)

    if has(TotalTimeout):
        return TOTAL_TIMEOUT
    if has(ssl.SSLError, ssl.CertificateError, requests.exceptions.SSLError, urllib3.exceptions.SSLError):
        return TLS_ERROR
    if has(NameResolutionError, socket.gaierror):
        return DNS_ERROR
    if has(ConnectionRefusedError):
        return CONNECT_REFUSED
    if has(requests.exceptions.ConnectTimeout) or any(
        isinstance(e, ConnectTimeoutError) and not isinstance(e, NewConnectionError) for e in chain
    ):
        return CONNECT_TIMEOUT
    if has(requests.exceptions.ReadTimeout, ReadTimeoutError, TimeoutError):
        return READ_TIMEOUT
    return CONNECTION_ERROR


def closed_before_response(exc: BaseException) -> bool:
    """The connection failed before any byte of a response arrived: a stale kept-alive connection.

    ``RemoteDisconnected`` ("closed connection without response"), or a reset or broken pipe while
    sending. Never a timeout: a server that is slow to answer must not be asked twice.
    """
    chain = list(_exception_chain(exc))
    if any(isinstance(e, TimeoutError | ReadTimeoutError | requests.exceptions.Timeout | TotalTimeout) for e in chain):
        return False
    return any(
        isinstance(e, http.client.RemoteDisconnected | ConnectionResetError | BrokenPipeError | ConnectionAbortedError)
        for e in chain
    )


TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    requests.exceptions.RequestException,
    urllib3.exceptions.HTTPError,
    OSError,
    TotalTimeout,
)
