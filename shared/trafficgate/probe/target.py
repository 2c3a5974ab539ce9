"""Where a burst goes: the listener's URL, the address to connect to, the Host header and TLS name.

Layer L1 (probe engine). ``host_header`` and ``resolve`` work like ``curl -H Host:`` and
``curl --resolve``: the URL names the virtual host, the connection goes to the address.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from trafficgate.probe.exceptions import ProbeConfigError
from trafficgate.probe.kinds import DEFAULT_PORTS, TLS_VERIFY_DISABLED
from trafficgate.probe.spec import ProbeSpec


@dataclass(frozen=True)
class Target:
    scheme: str
    url_host: str
    port: int
    base_path: str
    connect_netloc: str
    #: Host header to send explicitly (None: requests derives it from the URL).
    host_header: str | None
    #: SNI and certificate name when it differs from the connect address.
    tls_name: str | None
    #: Host names that count as "the same host" for redirects.
    origin_hosts: frozenset[str]

    @classmethod
    def build(cls, spec: ProbeSpec, base_url: str) -> Target:
        try:
            parts = urlsplit(base_url.strip())
            port = parts.port
        except ValueError as exc:
            raise ProbeConfigError(f"base URL is invalid: {exc}") from None
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            raise ProbeConfigError(f"base URL scheme {parts.scheme!r} is not supported; use http or https")
        if not parts.hostname:
            raise ProbeConfigError("base URL has no host; expected e.g. https://my-alb.example.com:8443")
        if parts.username is not None or parts.password is not None:
            # Credentials belong in spec.headers, which are kept out of logs and results.
            raise ProbeConfigError("base URL must not contain credentials; pass them as probe headers")
        if parts.query or parts.fragment:
            raise ProbeConfigError("base URL must not have a query or fragment; put the query in the path")
        url_host = parts.hostname.lower()
        port = port or DEFAULT_PORTS[scheme]
        default_port = port == DEFAULT_PORTS[scheme]
        address = spec.resolve.get(url_host)
        connect_host = address if address is not None else url_host
        connect_netloc = f"{bracket(connect_host)}:{port}"
        host_header = spec.host_header
        if host_header is None and address is not None:
            host_header = bracket(url_host) + ("" if default_port else f":{port}")
        header_name = None
        if spec.host_header is not None:
            header_name = re.sub(r":\d+$", "", spec.host_header).strip("[]").lower()
        tls_name = header_name or (url_host if address is not None else None)
        origin_hosts = frozenset(h for h in (url_host, header_name) if h)
        return cls(
            scheme=scheme,
            url_host=url_host,
            port=port,
            base_path=parts.path.rstrip("/"),
            connect_netloc=connect_netloc,
            host_header=host_header,
            tls_name=tls_name,
            origin_hosts=origin_hosts,
        )

    @property
    def https(self) -> bool:
        return self.scheme == "https"

    @property
    def connect_host(self) -> str:
        return self.connect_netloc.rsplit(":", 1)[0].strip("[]")

    @property
    def adapter_prefix(self) -> str:
        return f"{self.scheme}://{self.connect_netloc}/"

    def connect_url(self, path: str) -> str:
        return f"{self.scheme}://{self.connect_netloc}{path}"

    def named_url(self, path: str) -> str:
        """The URL as the server sees it: used to resolve relative redirects."""
        return f"{self.scheme}://{bracket(self.url_host)}:{self.port}{path}"

    def display(self, path: str) -> str:
        """URL without the query string (which might carry a token) for results and logs."""
        return self.named_url(path.split("?", 1)[0])

    def same_origin_path(self, url: str) -> str | None:
        """Path and query of ``url`` when it is on this scheme, host and port; else None."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return None
        scheme = parts.scheme.lower()
        if scheme != self.scheme or (parts.hostname or "").lower() not in self.origin_hosts:
            return None
        if (port or DEFAULT_PORTS[scheme]) != self.port or parts.username or parts.password:
            return None
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def probe_targets(sides: Sequence[tuple[ProbeSpec, str]]) -> tuple[tuple[Target, ...], list[str]]:
    """Each side's :class:`Target` (a burst has one side, green against blue two), checked before
    anything is sent, and the warnings they call for, each once.

    Raises
    ------
    ProbeConfigError
        A base URL is unusable, or a ``ca_bundle`` does not exist.
    """
    targets = tuple(Target.build(spec, base_url) for spec, base_url in sides)
    warnings: list[str] = []
    for (spec, _), target in zip(sides, targets, strict=True):
        if spec.ca_bundle is not None and not os.path.exists(spec.ca_bundle):
            raise ProbeConfigError(f"ca_bundle {spec.ca_bundle!r} does not exist")
        if target.https and not spec.tls_verify and TLS_VERIFY_DISABLED not in warnings:
            warnings.append(TLS_VERIFY_DISABLED)
    return targets, warnings
