"""boto3 clients, created lazily and kept for the life of a warm container, and AWS error codes.

Layer L1 (engines): imports only the leaves. Region and endpoint come from the environment
(``AWS_REGION``, ``AWS_ENDPOINT_URL``): nothing is hard-coded, so the same code talks to AWS,
to moto_server or to the local stand-in.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound

from trafficgate.exceptions import CheckError, ConfigError

if TYPE_CHECKING:
    from mypy_boto3_codedeploy import CodeDeployClient

T = TypeVar("T")

#: What a boto3 call raises when AWS (or the way to it) fails: catch both, always.
AWS_ERRORS: tuple[type[Exception], ...] = (ClientError, BotoCoreError)

# Short socket timeouts: a hook has minutes, not the 60 s botocore default, to spend on one call.
_BASE_CONFIG = Config(connect_timeout=5, read_timeout=10, retries={"mode": "standard", "total_max_attempts": 3})
#: The report is a tiny call made inside the deadline margin: a stuck attempt gives way to the next.
REPORT_CONNECT_TIMEOUT_S = 1.0
REPORT_READ_TIMEOUT_S = 2.0


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


def profile_not_found(exc: ProfileNotFound) -> str:
    """What to tell about a named profile that is in neither AWS file (botocore's message names neither)."""
    return (
        f"AWS profile {exc.kwargs.get('profile')!r} not found in the AWS config or credentials file "
        "(AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE): check --profile or AWS_PROFILE"
    )


class AwsClients:
    """A small factory of boto3 clients sharing one session.

    Parameters
    ----------
    session
        The boto3 session to use; a new default session when omitted.
    region, profile
        The AWS region and named profile (``--region``/``--profile``). Unset, the region comes from
        ``AWS_REGION`` (which Lambda sets and botocore alone does not read) or
        ``AWS_DEFAULT_REGION``, the profile from ``AWS_PROFILE``.
    """

    def __init__(
        self,
        *,
        session: boto3.session.Session | None = None,
        region: str | None = None,
        profile: str | None = None,
    ) -> None:
        self._session = session
        self._region = region
        self._profile = profile
        self._clients: dict[str, Any] = {}
        # Re-entrant: a cached() factory may itself ask for a client (the secrets provider does).
        self._lock = threading.RLock()

    @property
    def session(self) -> boto3.session.Session:
        """The boto3 session, with a region, or a :class:`ConfigError` saying how to give one.

        Raises
        ------
        ConfigError
            No region anywhere, or the profile (``--profile``, ``AWS_PROFILE``) does not exist.
        """
        if self._session is None:
            region = self._region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None
            try:
                session = boto3.session.Session(region_name=region, profile_name=self._profile or None)
            except ProfileNotFound as exc:
                raise ConfigError(profile_not_found(exc)) from None
            if not session.region_name:
                raise ConfigError(
                    "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION), give the profile a region, "
                    "or pass --region"
                )
            self._session = session
        return self._session

    def client(self, service: str, *, region: str | None = None, config: Config | None = None) -> Any:
        """The cached client for ``service`` (``"ecs"``, ``"elbv2"``, ...).

        Parameters
        ----------
        region
            Another region than the function's (an image or a secret may live elsewhere);
            the function's own region when omitted or equal to it.
        config
            Settings merged over the short defaults (timeouts, retries) for this client.
        """
        with self._lock:
            key = service if config is None else f"{service}@{id(config)}"
            if key not in self._clients:
                merged = _BASE_CONFIG if config is None else _BASE_CONFIG.merge(config)
                self._clients[key] = self.session.client(service, config=merged)  # type: ignore[call-overload]
            default = self._clients[key]
            if region is None or region == default.meta.region_name:
                return default
            regional = f"{key}:{region}"
            if regional not in self._clients:
                self._clients[regional] = self.session.client(  # type: ignore[call-overload]
                    service, region_name=region, config=default.meta.config
                )
            return self._clients[regional]

    def cached(self, key: str, factory: Callable[[], T]) -> T:
        """A per-container object built once from these clients (e.g. a Powertools provider)."""
        with self._lock:
            if key not in self._clients:
                self._clients[key] = factory()
            value: T = self._clients[key]
            return value

    def reporting_client(self, read_timeout_s: float = REPORT_READ_TIMEOUT_S) -> CodeDeployClient:
        """A CodeDeploy client for one attempt of the verdict report: no retries of its own, and
        socket timeouts no longer than ``read_timeout_s`` (rounded down to 0.25 s), so that an attempt
        never outlives what is left of the report's budget. The reporter retries, within that budget.
        """
        steps = max(1, int(min(read_timeout_s, REPORT_READ_TIMEOUT_S) / 0.25))
        read = steps * 0.25
        key = f"codedeploy:report:{steps}"
        with self._lock:
            if key not in self._clients:
                config = _BASE_CONFIG.merge(
                    Config(
                        connect_timeout=min(REPORT_CONNECT_TIMEOUT_S, read),
                        read_timeout=read,
                        retries={"mode": "standard", "total_max_attempts": 1},
                    )
                )
                self._clients[key] = self.session.client("codedeploy", config=config)
            client: CodeDeployClient = self._clients[key]
            return client
