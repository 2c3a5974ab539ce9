"""The HTTP transport of the probe: a ``requests`` adapter with a fixed TLS name, and sessions.

Layer L1 (probe engine). No cookies (an ALB stickiness cookie would pin a burst to one task),
no proxies or ``.netrc`` from the environment (the probe talks to the target only).
"""

from __future__ import annotations

from http.cookiejar import DefaultCookiePolicy
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from trafficgate.probe.exceptions import ProbeConfigError
from trafficgate.probe.kinds import USER_AGENT
from trafficgate.probe.spec import ProbeSpec
from trafficgate.probe.target import Target


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


def new_session() -> requests.Session:
    session = requests.Session()
    # No proxies or .netrc credentials from the environment: the probe talks to the target only.
    session.trust_env = False
    # No cookies: an ALB stickiness cookie would pin the whole burst to one task.
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    session.headers["User-Agent"] = USER_AGENT
    return session


class TargetSession(requests.Session):
    """A ``requests`` session bound to one listener, for custom checks.

    Paths are relative to the listener's base URL; ``resolve``, the Host header and the TLS name
    work as in a probe burst, and so do the TLS settings and the (secret) probe headers. Other
    hosts cannot be reached through it, and redirects are not followed unless asked for.

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
        self.mount(self._target.adapter_prefix, TargetAdapter(tls_name=self._target.tls_name, pool_size=4))

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        path = url.decode() if isinstance(url, bytes) else url
        if not path.startswith("/"):
            raise ProbeConfigError(f"TargetSession takes a path under {self.base_url}, got {path!r}")
        kwargs.setdefault("timeout", self._spec.timeout_s)
        kwargs.setdefault("allow_redirects", False)
        return super().request(method, self._target.connect_url(self._target.base_path + path), *args, **kwargs)
