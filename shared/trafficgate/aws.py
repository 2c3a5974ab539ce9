"""boto3 clients, created lazily and kept for the life of a warm container, and AWS error codes.

Layer L1 (engines): imports only the leaves. Region and endpoint come from the environment
(``AWS_REGION``, ``AWS_ENDPOINT_URL``): nothing is hard-coded, so the same code talks to AWS,
to moto_server or to the local stand-in.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from trafficgate.exceptions import CheckError

if TYPE_CHECKING:
    from mypy_boto3_codedeploy import CodeDeployClient

T = TypeVar("T")

#: What a boto3 call raises when AWS (or the way to it) fails: catch both, always.
AWS_ERRORS: tuple[type[Exception], ...] = (ClientError, BotoCoreError)

# Short socket timeouts: a hook has minutes, not the 60 s botocore default, to spend on one call.
_BASE_CONFIG = Config(connect_timeout=5, read_timeout=10, retries={"mode": "standard", "total_max_attempts": 3})


def error_code(exc: BaseException | None) -> str:
    """The AWS error code of a ``ClientError`` (``"AccessDeniedException"``), else the type name.

    Only the code: AWS error *messages* may quote request values, so they stay out of reasons.
    """
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code") or "unknown")
    return "unknown" if exc is None else type(exc).__name__


def describe_error(exc: BaseException) -> str:
    """``AWS error AccessDeniedException`` for a ``ClientError``, else the type name of the error."""
    if isinstance(exc, ClientError):
        return f"AWS error {error_code(exc)}"
    return error_code(exc)


def read_error(what: str, exc: BaseException) -> CheckError:
    """A :class:`CheckError` naming what could not be read and why (the AWS code, never the message)."""
    return CheckError(f"could not read {what}: {describe_error(exc)}")


class AwsClients:
    """A small factory of boto3 clients sharing one session.

    Parameters
    ----------
    session
        The boto3 session to use; a new default session when omitted.
    report_max_attempts
        Attempts for the CodeDeploy client that reports the verdict (standard retry mode
        retries throttling and 5xx with exponential backoff and jitter).
    """

    def __init__(self, *, session: boto3.session.Session | None = None, report_max_attempts: int = 5) -> None:
        self._session = session
        # The report is a tiny call made inside the deadline margin: short socket timeouts, so
        # that a stuck attempt gives way to a retry instead of eating the margin.
        self._report_config = _BASE_CONFIG.merge(
            Config(
                connect_timeout=1,
                read_timeout=2,
                retries={"mode": "standard", "total_max_attempts": report_max_attempts},
            )
        )
        self._clients: dict[str, Any] = {}
        # Re-entrant: a cached() factory may itself ask for a client (the secrets provider does).
        self._lock = threading.RLock()

    @property
    def session(self) -> boto3.session.Session:
        if self._session is None:
            self._session = boto3.session.Session()
        return self._session

    def client(self, service: str, *, region: str | None = None) -> Any:
        """The cached client for ``service`` (``"ecs"``, ``"elbv2"``, ...).

        Parameters
        ----------
        region
            Another region than the function's (an image or a secret may live elsewhere);
            the function's own region when omitted or equal to it.
        """
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self.session.client(service, config=_BASE_CONFIG)  # type: ignore[call-overload]
            default = self._clients[service]
            if region is None or region == default.meta.region_name:
                return default
            key = f"{service}:{region}"
            if key not in self._clients:
                self._clients[key] = self.session.client(service, region_name=region, config=_BASE_CONFIG)  # type: ignore[call-overload]
            return self._clients[key]

    def cached(self, key: str, factory: Callable[[], T]) -> T:
        """A per-container object built once from these clients (e.g. a Powertools provider)."""
        with self._lock:
            if key not in self._clients:
                self._clients[key] = factory()
            value: T = self._clients[key]
            return value

    def reporting_client(self) -> CodeDeployClient:
        """The CodeDeploy client used for the one verdict report, with its own retry budget."""
        with self._lock:
            if "codedeploy:report" not in self._clients:
                self._clients["codedeploy:report"] = self.session.client("codedeploy", config=self._report_config)
            client: CodeDeployClient = self._clients["codedeploy:report"]
            return client
