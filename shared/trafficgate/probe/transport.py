"""The HTTP transport of the probe: guarded connections, an adapter with a fixed TLS name, sessions.

Layer L1 (probe engine). No cookies (an ALB stickiness cookie would pin a burst to one task),
no proxies or ``.netrc`` from the environment (the probe talks to the target only). Every socket
the adapter opens is put under the running request's guard (:mod:`trafficgate.probe.guard`), so
a request's whole time is bounded, whatever green does with its bytes.
"""

from __future__ import annotations

import threading
import time
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from trafficgate.probe import guard
from trafficgate.probe.exceptions import ProbeConfigError, ProbeError
from trafficgate.probe.kinds import USER_AGENT
from trafficgate.probe.spec import ProbeSpec
from trafficgate.probe.target import Target


class _Guarded:
    """Puts a connection's socket under the running request's guard, for every request it serves."""

    _watched: guard.Watched | None = None

    def _new_conn(self) -> Any:
        sock = super()._new_conn()  # type: ignore[misc]
        # Noted before TLS wraps it (a handshake that drips is bounded too), once per connection.
        self._watched = guard.Watched.of(sock)
        guard.watch(self._watched)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        if getattr(self, "sock", None) is not None:  # a kept-alive connection serving the next request
            guard.watch(self._watched)
        super().request(*args, **kwargs)  # type: ignore[misc]


class GuardedHTTPConnection(_Guarded, HTTPConnection):
    """An urllib3 connection whose socket the running request's guard can shut."""


class GuardedHTTPSConnection(_Guarded, HTTPSConnection):
    """The HTTPS counterpart of :class:`GuardedHTTPConnection`."""


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


class TargetAdapter(HTTPAdapter):
    """HTTPAdapter that presents a fixed TLS name (SNI and certificate hostname check).

    Used for ``host_header`` and ``resolve``: the URL carries the connect address, while the
    TLS handshake and verification use the virtual host name, like ``curl --resolve``.
    """

    def __init__(self, *, tls_name: str | None, pool_size: int) -> None:
        # Set before super().__init__(), which calls init_poolmanager().
        self._tls_name = tls_name
        super().__init__(pool_connections=1, pool_maxsize=pool_size, max_retries=0)

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        if self._tls_name is not None:
            # urllib3 drops these for plain-HTTP pools; on HTTPS they set SNI and the
            # name matched against the certificate (only when verification is on).
            pool_kwargs["server_hostname"] = self._tls_name
            pool_kwargs["assert_hostname"] = self._tls_name
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


def new_session() -> requests.Session:
    session = requests.Session()
    # No proxies or .netrc credentials from the environment: the probe talks to the target only.
    session.trust_env = False
    # No cookies: an ALB stickiness cookie would pin the whole burst to one task.
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    session.headers["User-Agent"] = USER_AGENT
    return session


class RedirectRefused(ProbeError):
    """A custom check's session was redirected to another origin; the secrets stay home."""


class TargetSession(requests.Session):
    """A ``requests`` session bound to one listener, for custom checks.

    Paths are relative to the listener's base URL; ``resolve``, the Host header and the TLS name
    work as in a probe burst, and so do the TLS settings and the (secret) probe headers. Other
    hosts cannot be reached through it: redirects are not followed unless asked for, and then only
    on the same origin. A redirect elsewhere raises :class:`RedirectRefused`, and every secret
    header is stripped from any request that would leave the origin. Each request's whole time
    (connect, headers, body) is bounded by ``timeout``, and :meth:`cancel` calls every request off.

    Parameters
    ----------
    spec
        Supplies TLS, timeout, Host, resolve and header settings.
    base_url
        The listener's base URL, e.g. ``http://my-alb-123.elb.amazonaws.com:8443``.
    """

    def __init__(self, spec: ProbeSpec, base_url: str) -> None:
        super().__init__()
        self._spec = spec
        self._target = Target.build(spec, base_url)
        self.base_url = base_url.rstrip("/")
        self.trust_env = False
        self.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        self.verify = (spec.ca_bundle or True) if spec.tls_verify else False
        self.headers["User-Agent"] = USER_AGENT
        self.headers.update(spec.headers)
        if self._target.host_header is not None:
            self.headers["Host"] = self._target.host_header
        self._secret_headers = frozenset(name.lower() for name in spec.headers)
        self.mount(self._target.adapter_prefix, TargetAdapter(tls_name=self._target.tls_name, pool_size=4))
        self._reaper: guard.Reaper | None = None
        self._reaper_lock = threading.Lock()

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        path = url.decode() if isinstance(url, bytes) else url
        if not path.startswith("/"):
            raise ProbeConfigError(f"TargetSession takes a path under {self.base_url}, got {path!r}")
        kwargs.setdefault("timeout", self._spec.timeout_s)
        kwargs.setdefault("allow_redirects", False)
        total = _total_seconds(kwargs["timeout"], self._spec.timeout_s)
        with self._guards().guard(time.monotonic() + total + guard.GUARD_SLACK_S) as running:
            if running.over:
                raise ProbeError("the probe was called off (the hook's deadline came)")
            try:
                return super().request(
                    method, self._target.connect_url(self._target.base_path + path), *args, **kwargs
                )
            except requests.RequestException as exc:
                if running.over:
                    raise requests.Timeout(f"request took longer than {total:g} s in all") from exc
                raise

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        """Follow only same-origin redirects, through the same connect address; refuse the rest."""
        location = super().get_redirect_target(resp)
        if location is None:
            return None
        current = urlsplit(resp.url)
        named = self._target.named_url(current.path + (f"?{current.query}" if current.query else ""))
        try:
            path = self._target.same_origin_path(urljoin(named, location))
        except ValueError:
            path = None
        if path is None:
            raise RedirectRefused(
                f"{resp.status_code} redirect from {self.base_url} to another origin refused; "
                "the probe's headers never leave the listener"
            )
        return self._target.connect_url(path)

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: requests.Response) -> None:
        """Strip every secret header, not only Authorization, from a request leaving the origin."""
        super().rebuild_auth(prepared_request, response)  # type: ignore[no-untyped-call]
        target = urlsplit(prepared_request.url or "")
        if (target.hostname or "").lower() != self._target.connect_host.lower():
            for name in list(prepared_request.headers):
                if name.lower() in self._secret_headers or name.lower() == "authorization":
                    del prepared_request.headers[name]

    def cancel(self) -> None:
        """Call off every request of this session, running or to come (the hook's deadline came)."""
        self._guards().cancel()

    def close(self) -> None:
        with self._reaper_lock:
            reaper, self._reaper = self._reaper, None
        if reaper is not None:
            reaper.cancel()
            reaper.__exit__(None, None, None)
        super().close()

    def _guards(self) -> guard.Reaper:
        with self._reaper_lock:
            if self._reaper is None:
                self._reaper = guard.Reaper(name="target-session-reaper").__enter__()
            return self._reaper


def _total_seconds(timeout: Any, default: float) -> float:
    """The whole-request budget from a ``requests`` timeout: a number, or (connect, read)."""
    if isinstance(timeout, int | float) and not isinstance(timeout, bool) and timeout > 0:
        return float(timeout)
    if isinstance(timeout, tuple) and timeout and all(isinstance(t, int | float) for t in timeout):
        return float(sum(timeout))
    return default

