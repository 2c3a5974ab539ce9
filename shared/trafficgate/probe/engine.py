"""The probe engine: one burst of HTTP requests against a listener, summarised.

Design decisions worth knowing before changing anything here:

* Only ``base_url``'s host is contacted. Redirects are not followed unless asked, and then
  only to the same scheme, host and port; proxies and ``.netrc`` from the environment are
  ignored; ``resolve`` changes the connect address, never the name.
* Every request has a time budget (``timeout_s``, clamped to the caller's ``deadline``):
  connect, read and total. A request cut short by the deadline is *aborted*, not failed: the
  deployment did nothing wrong, we ran out of time.
* The burst fails fast: once the failures exceed what ``min_success_rate`` allows, no new
  request starts. The ones in flight finish (bounded by their budget).
* Bodies are streamed and read up to ``max_body_bytes``; a longer body is *truncated* (not
  a failure by itself) and its connection is discarded, so memory stays bounded.
* No cookies are kept: an ALB stickiness cookie would otherwise pin the whole burst to one
  task.
* Header values from the spec may be credentials: they never reach the result, a repr or a
  log line, and are masked if the server echoes them in a body sample.
"""

from __future__ import annotations

import json
import logging
import math
import os
import queue
import re
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import urljoin, urlsplit

import certifi
import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError, ReadTimeoutError

from trafficgate.probe import jsonpath
from trafficgate.probe.exceptions import ProbeConfigError
from trafficgate.probe.spec import ProbeSpec
from trafficgate.probe.stats import percentile

logger = logging.getLogger(__name__)

# --- error kinds (stable strings: they appear in reasons, metrics and logs) --------------
CONNECT_REFUSED = "connect_refused"
CONNECT_TIMEOUT = "connect_timeout"
READ_TIMEOUT = "read_timeout"
TLS_ERROR = "tls_error"
DNS_ERROR = "dns_error"
CONNECTION_ERROR = "connection_error"
#: follow_redirects is on, the response redirects to another origin and its status is not accepted.
REDIRECT_BLOCKED = "redirect_blocked"
#: follow_redirects is on and the same-origin redirect chain is longer than MAX_REDIRECTS.
REDIRECT_LIMIT = "redirect_limit"
STATUS = "status"
ASSERTION_BODY_REGEX = "assertion:body_regex"
ASSERTION_JSON_PATH = "assertion:json_path"
ASSERTION_HEADER = "assertion:header"

ERROR_KINDS = (
    CONNECT_REFUSED,
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
    TLS_ERROR,
    DNS_ERROR,
    CONNECTION_ERROR,
    REDIRECT_BLOCKED,
    REDIRECT_LIMIT,
    STATUS,
    ASSERTION_BODY_REGEX,
    ASSERTION_JSON_PATH,
    ASSERTION_HEADER,
)

MAX_REDIRECTS = 5
TLS_VERIFY_DISABLED = "TLS verification disabled"
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024
_SAMPLE_CHARS = 200
#: Bytes kept per body when no body assertion needs more: enough for a 200-character sample.
_SAMPLE_BYTES = 1024
_MASK = "***"
_USER_AGENT = "trafficgate-probe"
_DEFAULT_PORTS = {"http": 80, "https": 443}


# --- results -----------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class FailureSample:
    """One failed request, described for a person.

    ``body`` is the first 200 characters of the response body (credentials from the spec's
    headers masked); ``latency_ms`` is ``None`` when no response came back.
    """

    index: int
    kind: str
    status: int | None
    latency_ms: float | None
    body: str
    detail: str | None
    truncated: bool


@dataclass(frozen=True, kw_only=True)
class BurstResult:
    """What one burst measured.

    Latency percentiles (nearest rank, milliseconds) cover every request that got an HTTP
    response, whatever its status or assertion result, measured from sending the request
    to the end of reading the (possibly truncated) body, across followed redirects.
    Connection errors and timeouts have no latency; they are counted in ``error_counts``.
    They are ``None`` when no response came back.

    ``aborted`` requests were started but cut short by the deadline: neither successes
    nor failures. ``stopped_early`` means the failure budget ran out and the remaining
    requests were never sent; ``deadline_hit`` means the deadline stopped the burst (no new
    requests, or requests aborted).
    """

    target: str
    requests_planned: int
    requests_sent: int
    successes: int
    failures: int
    aborted: int
    allowed_failures: int
    status_counts: Mapping[int, int]
    failed_status_counts: Mapping[int, int]
    error_counts: Mapping[str, int]
    latency_count: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None
    latency_max_ms: float | None
    duration_s: float
    stopped_early: bool
    deadline_hit: bool
    failure_samples: tuple[FailureSample, ...]
    cert_days_left: float | None
    cert_error: str | None
    truncated_responses: int
    bytes_read: int
    redirects_followed: int
    redirects_blocked: int
    warnings: tuple[str, ...]

    @property
    def completed(self) -> int:
        """Requests judged (successes + failures); excludes aborted ones."""
        return self.successes + self.failures

    @property
    def success_rate(self) -> float | None:
        """successes / completed, or ``None`` when nothing completed."""
        return self.successes / self.completed if self.completed else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable copy (status codes become string keys)."""
        data = asdict(self)
        data["status_counts"] = {str(k): v for k, v in sorted(self.status_counts.items())}
        data["failed_status_counts"] = {str(k): v for k, v in sorted(self.failed_status_counts.items())}
        data["error_counts"] = dict(sorted(self.error_counts.items()))
        data["failure_samples"] = [asdict(s) for s in self.failure_samples]
        data["warnings"] = list(self.warnings)
        data["success_rate"] = None if self.success_rate is None else round(self.success_rate, 4)
        data["completed"] = self.completed
        return data


# --- target ------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Target:
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
    def build(cls, spec: ProbeSpec, base_url: str) -> _Target:
        try:
            parts = urlsplit(base_url.strip())
            port = parts.port
        except ValueError as exc:
            raise ProbeConfigError(f"base URL is invalid: {exc}") from None
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS:
            raise ProbeConfigError(f"base URL scheme {parts.scheme!r} is not supported; use http or https")
        if not parts.hostname:
            raise ProbeConfigError("base URL has no host; expected e.g. https://my-alb.example.com:8443")
        if parts.username is not None or parts.password is not None:
            # Credentials belong in spec.headers, which are kept out of logs and results.
            raise ProbeConfigError("base URL must not contain credentials; pass them as probe headers")
        if parts.query or parts.fragment:
            raise ProbeConfigError("base URL must not have a query or fragment; put the query in the path")
        url_host = parts.hostname.lower()
        port = port or _DEFAULT_PORTS[scheme]
        default_port = port == _DEFAULT_PORTS[scheme]
        address = spec.resolve.get(url_host)
        connect_host = address if address is not None else url_host
        connect_netloc = f"{_bracket(connect_host)}:{port}"
        host_header = spec.host_header
        if host_header is None and address is not None:
            host_header = _bracket(url_host) + ("" if default_port else f":{port}")
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
        return f"{self.scheme}://{_bracket(self.url_host)}:{self.port}{path}"

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
        if (port or _DEFAULT_PORTS[scheme]) != self.port or parts.username or parts.password:
            return None
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


# --- transport ---------------------------------------------------------------------------
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


def _new_session() -> requests.Session:
    session = requests.Session()
    # No proxies or .netrc credentials from the environment: the probe talks to the target only.
    session.trust_env = False
    # No cookies: an ALB stickiness cookie would pin the whole burst to one task.
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    session.headers["User-Agent"] = _USER_AGENT
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
        self._target = _Target.build(spec, base_url)
        self.base_url = base_url.rstrip("/")
        self.trust_env = False
        self.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        self.verify = (spec.ca_bundle or True) if spec.tls_verify else False
        self.headers["User-Agent"] = _USER_AGENT
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


# --- error classification --------------------------------------------------------------
class _TotalTimeout(Exception):
    """The request used up its total time budget while reading the body."""


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

    if has(_TotalTimeout):
        return READ_TIMEOUT
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


_TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    requests.exceptions.RequestException,
    urllib3.exceptions.HTTPError,
    OSError,
    _TotalTimeout,
)


# --- certificate expiry ----------------------------------------------------------------
def _der_item(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER item at ``pos``."""
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise ValueError("truncated DER")
    return tag, pos, pos + length


def certificate_not_after(der: bytes) -> datetime:
    """The ``notAfter`` time of a DER X.509 certificate, without a crypto dependency.

    Raises
    ------
    ValueError
        If the bytes are not a certificate this tiny parser understands.
    """
    try:
        _, cert_start, _ = _der_item(der, 0)
        _, pos, _ = _der_item(der, cert_start)  # TBSCertificate
        tag, _, end = _der_item(der, pos)
        if tag == 0xA0:  # [0] version
            pos = end
            tag, _, end = _der_item(der, pos)
        for _ in range(3):  # serialNumber, signature, issuer
            _, _, pos = _der_item(der, pos)
        _, validity, _ = _der_item(der, pos)
        _, _, not_before_end = _der_item(der, validity)
        tag, start, end = _der_item(der, not_before_end)
        text = der[start:end].decode("ascii")
    except (IndexError, UnicodeDecodeError) as exc:
        raise ValueError("not a DER certificate") from exc
    if tag == 0x17:  # UTCTime YYMMDDHHMMSSZ; RFC 5280: YY >= 50 means 19YY
        year = int(text[:2])
        text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"
    elif tag != 0x18:  # GeneralizedTime YYYYMMDDHHMMSSZ
        raise ValueError(f"unexpected time tag 0x{tag:02x}")
    return datetime.strptime(text, "%Y%m%d%H%M%SZ").replace(tzinfo=UTC)


def _cert_days_left(target: _Target, spec: ProbeSpec, timeout: float) -> float:
    if spec.tls_verify:
        context = ssl.create_default_context(cafile=spec.ca_bundle or certifi.where())
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    server_name = target.tls_name or target.url_host
    with (
        socket.create_connection((target.connect_host, target.port), timeout=timeout) as sock,
        context.wrap_socket(sock, server_hostname=server_name) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    if not der:
        raise ssl.SSLError("server sent no certificate")
    remaining = certificate_not_after(der) - datetime.now(UTC)
    return remaining.total_seconds() / 86400.0


# --- per-response assertions ------------------------------------------------------------
class _Rules:
    """The spec's per-response assertions, compiled once per burst."""

    def __init__(self, spec: ProbeSpec) -> None:
        self.accepted = spec.accepted_status
        self.body_re = re.compile(spec.body_regex) if spec.body_regex is not None else None
        self.json_equals = [(p, jsonpath.parse(p), v) for p, v in spec.json_equals.items()]
        self.json_exists = [(p, jsonpath.parse(p)) for p in spec.json_exists]
        self.headers = [(name, re.compile(pattern)) for name, pattern in spec.header_matches.items()]
        self.keep_bytes = spec.max_body_bytes if spec.has_body_assertions else _SAMPLE_BYTES
        self.needs_json = bool(self.json_equals or self.json_exists)

    def check(self, headers: Mapping[str, str], body: bytes, truncated: bool, max_body: int) -> tuple[str, str] | None:
        """(kind, detail) of the first failed assertion, or None."""
        if self.body_re is not None and not self.body_re.search(_decode(body, headers)):
            note = f" (first {max_body} bytes)" if truncated else ""
            return ASSERTION_BODY_REGEX, f"body does not match {self.body_re.pattern!r}{note}"
        if self.needs_json:
            failure = self._check_json(body, truncated, max_body)
            if failure is not None:
                return ASSERTION_JSON_PATH, failure
        for name, pattern in self.headers:
            value = headers.get(name)
            if value is None:
                return ASSERTION_HEADER, f"header {name} missing"
            if not pattern.search(value):
                return ASSERTION_HEADER, f"header {name} {_short(value)} does not match {pattern.pattern!r}"
        return None

    def _check_json(self, body: bytes, truncated: bool, max_body: int) -> str | None:
        if truncated:
            return f"body truncated at {max_body} bytes; JSON not parsed"
        try:
            document = json.loads(body)
        except ValueError:
            return "body is not JSON"
        for path, steps, expected in self.json_equals:
            actual = jsonpath.resolve(document, steps)
            if actual is jsonpath.MISSING:
                return f"{path} missing"
            if not jsonpath.json_equal(actual, expected):
                return f"{path} = {_short(actual)}, expected {_short(expected)}"
        for path, steps in self.json_exists:
            if jsonpath.resolve(document, steps) is jsonpath.MISSING:
                return f"{path} missing"
        return None


def _decode(body: bytes, headers: Mapping[str, str]) -> str:
    charset = "utf-8"
    match = re.search(r"charset=[\"']?([\w.:-]+)", headers.get("Content-Type", ""), re.IGNORECASE)
    if match:
        charset = match.group(1)
    try:
        return body.decode(charset, "replace")
    except LookupError:
        return body.decode("utf-8", "replace")


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Masker:
    """Masks the spec's header values (possible credentials) in text taken from responses."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        secrets: set[str] = set()
        for value in headers.values():
            if len(value) >= 4:
                secrets.add(value)
            # "Bearer <token>": also mask the token on its own.
            secrets.update(part for part in value.split() if len(part) >= 8)
        self._pattern = (
            re.compile("|".join(re.escape(s) for s in sorted(secrets, key=len, reverse=True))) if secrets else None
        )

    def __call__(self, text: str) -> str:
        return self._pattern.sub(_MASK, text) if self._pattern is not None else text


# --- one request -----------------------------------------------------------------------
@dataclass(slots=True, kw_only=True)
class _Outcome:
    index: int
    ok: bool
    aborted: bool = False
    kind: str | None = None
    status: int | None = None
    latency_ms: float | None = None
    detail: str | None = None
    body: bytes = b""
    truncated: bool = False
    bytes_read: int = 0
    redirects: int = 0
    blocked_redirect: bool = False


class _Prober:
    """Everything one request needs; shared read-only by the worker threads."""

    def __init__(
        self,
        spec: ProbeSpec,
        target: _Target,
        session: requests.Session,
        adapter: requests.adapters.BaseAdapter,
        deadline: float | None,
    ) -> None:
        self.spec = spec
        self.target = target
        self.session = session
        self.adapter = adapter
        self.deadline = deadline
        self.rules = _Rules(spec)
        self.verify: bool | str = (spec.ca_bundle or True) if spec.tls_verify else False
        self.headers: dict[str, str] = dict(spec.headers)
        if target.host_header is not None:
            self.headers["Host"] = target.host_header
        self.first_path = target.base_path + spec.path
        self.first_request = self._prepare(spec.method, self.first_path)

    def _prepare(self, method: str, path: str) -> requests.PreparedRequest:
        request = requests.Request(method, self.target.connect_url(path), headers=self.headers)
        return self.session.prepare_request(request)

    def run(self, index: int) -> _Outcome:
        started = time.monotonic()
        budget = self.spec.timeout_s
        clamped = False
        if self.deadline is not None and self.deadline - started < budget:
            budget, clamped = max(self.deadline - started, 0.001), True
        end_by = started + budget
        outcome = _Outcome(index=index, ok=False)
        try:
            self._exchange(outcome, started, end_by)
        except _TRANSPORT_ERRORS as exc:
            outcome.kind = classify_error(exc)
            if clamped and time.monotonic() >= end_by - 0.01 and outcome.kind in (CONNECT_TIMEOUT, READ_TIMEOUT):
                outcome.aborted = True
        return outcome

    def _exchange(self, outcome: _Outcome, started: float, end_by: float) -> None:
        method, path = self.spec.method, self.first_path
        prepared = self.first_request.copy()
        while True:
            left = end_by - time.monotonic()
            if left <= 0:
                raise _TotalTimeout()
            # urllib3's Timeout(total=...) caps connect and each read by what is left.
            timeout: Any = urllib3.Timeout(total=left)
            response = self.adapter.send(prepared, stream=True, timeout=timeout, verify=self.verify, proxies={})
            try:
                status = response.status_code
                location = response.headers.get("Location")
                if self.spec.follow_redirects and status in _REDIRECT_STATUSES and location:
                    next_path = self.target.same_origin_path(urljoin(self.target.named_url(path), location))
                    if next_path is not None and outcome.redirects < MAX_REDIRECTS:
                        outcome.redirects += 1
                        method = _redirect_method(method, status)
                        path = next_path
                        prepared = self._prepare(method, path)
                        _discard(response)
                        continue
                    if next_path is None:
                        outcome.blocked_redirect = True
                    else:
                        outcome.kind = REDIRECT_LIMIT
                outcome.status = status
                self._read_body(response, outcome, end_by)
                outcome.latency_ms = (time.monotonic() - started) * 1000.0
            finally:
                response.close()
            break
        self._judge(outcome, response.headers)

    def _read_body(self, response: requests.Response, outcome: _Outcome, end_by: float) -> None:
        raw = response.raw
        limit = self.spec.max_body_bytes
        keep = self.rules.keep_bytes
        kept = bytearray()
        total = 0
        exhausted = False
        while total < limit:
            if time.monotonic() > end_by:
                raise _TotalTimeout()
            chunk = _read(raw, min(_CHUNK, limit - total))
            if not chunk:
                exhausted = True
                break
            total += len(chunk)
            if len(kept) < keep:
                kept += chunk[: keep - len(kept)]
        if not exhausted:
            # At the cap: one more byte tells "exactly max_body_bytes" from "truncated".
            outcome.truncated = bool(_read(raw, 1))
        outcome.bytes_read = total
        outcome.body = bytes(kept)
        if outcome.truncated:
            # The rest of the body is still on the wire: the connection cannot be reused.
            _discard(response)
        else:
            release = getattr(raw, "release_conn", None)
            if callable(release):
                release()

    def _judge(self, outcome: _Outcome, headers: Mapping[str, str]) -> None:
        if outcome.kind == REDIRECT_LIMIT:
            outcome.detail = f"more than {MAX_REDIRECTS} redirects (status {outcome.status})"
            return
        if outcome.status not in self.rules.accepted:
            outcome.kind = REDIRECT_BLOCKED if outcome.blocked_redirect else STATUS
            outcome.detail = f"status {outcome.status} not in {self.rules.accepted}"
            return
        failure = self.rules.check(headers, outcome.body, outcome.truncated, self.spec.max_body_bytes)
        if failure is not None:
            outcome.kind, outcome.detail = failure
            return
        outcome.ok = True


def _read(raw: Any, amount: int) -> bytes:
    if isinstance(raw, urllib3.HTTPResponse):
        return raw.read(amount, decode_content=True)
    data = raw.read(amount)
    return bytes(data) if data else b""


def _discard(response: requests.Response) -> None:
    """Close the connection under a response whose body was not read to the end."""
    close = getattr(response.raw, "close", None)
    if callable(close):
        close()


def _redirect_method(method: str, status: int) -> str:
    # What browsers (and requests) do: 303 turns into GET, and so do 301/302 after a POST.
    if status == 303 and method != "HEAD":
        return "GET"
    if status in (301, 302) and method == "POST":
        return "GET"
    return method


# --- the burst ---------------------------------------------------------------------------
class _Control:
    """Shared between workers: which request is next and whether to stop (under a lock)."""

    def __init__(
        self,
        planned: int,
        allowed_failures: int,
        deadline: float | None,
        latency_limits: Sequence[tuple[float, int]] = (),
    ) -> None:
        self.lock = threading.Lock()
        self.planned = planned
        self.allowed_failures = allowed_failures
        self.deadline = deadline
        # (limit_ms, how many responses may be slower than it before the percentile must exceed it)
        self.latency_limits = tuple(latency_limits)
        self.slow = [0] * len(self.latency_limits)
        self.next_index = 0
        self.failures = 0
        self.stop_reason: str | None = None
        self.crash: BaseException | None = None

    def claim(self) -> int | None:
        with self.lock:
            if self.stop_reason is not None or self.next_index >= self.planned:
                return None
            if self.deadline is not None and time.monotonic() >= self.deadline:
                self.stop_reason = "deadline"
                return None
            index = self.next_index
            self.next_index += 1
            return index

    def record(self, outcome: _Outcome) -> None:
        if outcome.aborted:
            return
        with self.lock:
            if outcome.latency_ms is not None:
                # Fail fast on latency too: once more responses are slower than a limit than the
                # percentile can absorb over the whole burst, that percentile is certain to exceed it.
                for i, (limit_ms, budget) in enumerate(self.latency_limits):
                    if outcome.latency_ms > limit_ms:
                        self.slow[i] += 1
                        if self.slow[i] > budget and self.stop_reason is None:
                            self.stop_reason = "latency"
            if outcome.ok:
                return
            self.failures += 1
            if self.failures > self.allowed_failures and self.stop_reason is None:
                self.stop_reason = "failures"

    def stop(self, reason: str) -> None:
        with self.lock:
            if self.stop_reason is None:
                self.stop_reason = reason


def _worker(prober: _Prober, control: _Control, results: queue.SimpleQueue[_Outcome | None]) -> None:
    try:
        while (index := control.claim()) is not None:
            outcome = prober.run(index)
            control.record(outcome)
            results.put(outcome)
    except BaseException as exc:  # a bug, not a transport error: hand it to the caller's thread
        with control.lock:
            control.crash = control.crash or exc
            control.stop_reason = control.stop_reason or "crash"
    finally:
        results.put(None)


class _Tally:
    """Aggregates outcomes in the calling thread."""

    def __init__(self, spec: ProbeSpec, mask: _Masker) -> None:
        self.spec = spec
        self.mask = mask
        self.done = 0
        self.successes = 0
        self.failures = 0
        self.aborted = 0
        self.status_counts: Counter[int] = Counter()
        self.failed_status_counts: Counter[int] = Counter()
        self.error_counts: Counter[str] = Counter()
        self.latencies: list[float] = []
        self.samples: list[FailureSample] = []
        self.truncated = 0
        self.bytes_read = 0
        self.redirects_followed = 0
        self.redirects_blocked = 0

    def add(self, outcome: _Outcome) -> None:
        self.done += 1
        self.bytes_read += outcome.bytes_read
        self.redirects_followed += outcome.redirects
        if outcome.aborted:
            self.aborted += 1
            return
        if outcome.status is not None and outcome.latency_ms is not None:
            self.status_counts[outcome.status] += 1
            self.latencies.append(outcome.latency_ms)
        self.truncated += outcome.truncated
        self.redirects_blocked += outcome.blocked_redirect
        if outcome.ok:
            self.successes += 1
            return
        self.failures += 1
        kind = outcome.kind or CONNECTION_ERROR
        self.error_counts[kind] += 1
        if kind == STATUS and outcome.status is not None:
            self.failed_status_counts[outcome.status] += 1
        if len(self.samples) < self.spec.failure_samples:
            text = outcome.body.decode("utf-8", "replace")[:_SAMPLE_CHARS]
            self.samples.append(
                FailureSample(
                    index=outcome.index,
                    kind=kind,
                    status=outcome.status,
                    latency_ms=None if outcome.latency_ms is None else round(outcome.latency_ms, 1),
                    body=self.mask(text),
                    detail=None if outcome.detail is None else self.mask(outcome.detail),
                    truncated=outcome.truncated,
                )
            )


def run_burst(
    spec: ProbeSpec,
    base_url: str,
    *,
    deadline: float | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    session: requests.Session | None = None,
) -> BurstResult:
    """Send ``spec.requests`` requests, ``spec.concurrency`` at a time, and summarise them.

    Parameters
    ----------
    spec
        What to send and what each response must satisfy.
    base_url
        ``http(s)://host[:port][/prefix]``; ``spec.path`` is appended. The only host contacted.
    deadline
        A :func:`time.monotonic` value. No request starts after it and requests in flight
        are cut at it (and counted as aborted, not failed).
    on_progress
        Called as ``on_progress(done, planned)`` in the calling thread after every request.
    session
        Optional :class:`requests.Session` whose headers and auth are merged into each
        request. A custom adapter mounted on it (a fake in tests) is used as is; the stock
        ``HTTPAdapter`` is replaced for this burst by one that applies ``host_header``,
        ``resolve`` and a pool as large as the concurrency. Without a session the engine
        uses its own (no cookies, no proxies or netrc from the environment).

    Returns
    -------
    BurstResult
        Counts, latency percentiles, samples of failures and warnings. Judge it with
        :func:`trafficgate.probe.evaluate`.

    Raises
    ------
    ProbeConfigError
        If ``base_url`` is unusable or ``ca_bundle`` does not exist.
    """
    started = time.monotonic()
    target = _Target.build(spec, base_url)
    if spec.ca_bundle is not None and not os.path.exists(spec.ca_bundle):
        raise ProbeConfigError(f"ca_bundle {spec.ca_bundle!r} does not exist")
    warnings: list[str] = []
    if target.https and not spec.tls_verify:
        warnings.append(TLS_VERIFY_DISABLED)
    cert_days: float | None = None
    cert_error: str | None = None
    if spec.min_cert_days is not None:
        if not target.https:
            warnings.append("min_cert_days ignored: the target is not HTTPS")
        elif deadline is None or time.monotonic() < deadline:
            timeout = spec.timeout_s if deadline is None else min(spec.timeout_s, deadline - time.monotonic())
            try:
                cert_days = round(_cert_days_left(target, spec, max(timeout, 0.001)), 2)
            except ValueError:  # a certificate our small DER reader does not understand
                cert_error = TLS_ERROR
            except _TRANSPORT_ERRORS as exc:
                cert_error = classify_error(exc)

    logger.debug(
        "probe burst starting",
        extra={
            "target": target.display(spec.path),
            "requests": spec.requests,
            "concurrency": spec.concurrency,
        },
    )
    own_session = session is None
    active = session if session is not None else _new_session()
    adapter: requests.adapters.BaseAdapter
    ours: TargetAdapter | None = None
    current = active.get_adapter(target.adapter_prefix)
    if type(current) is HTTPAdapter or own_session:
        ours = TargetAdapter(tls_name=target.tls_name, pool_size=spec.concurrency)
        adapter = ours
    else:
        adapter = current
    mask = _Masker(spec.headers)
    tally = _Tally(spec, mask)
    control = _Control(spec.requests, spec.allowed_failures, deadline, latency_budgets(spec))
    try:
        prober = _Prober(spec, target, active, adapter, deadline)
        _run_workers(prober, control, tally, spec, on_progress)
    finally:
        if ours is not None:
            ours.close()
        if own_session:
            active.close()

    if tally.truncated and spec.has_body_assertions:
        warnings.append(
            f"{tally.truncated} body(ies) longer than max_body_bytes={spec.max_body_bytes}: "
            "assertions saw only the first bytes"
        )
    if tally.redirects_blocked:
        warnings.append(f"{tally.redirects_blocked} redirect(s) to another origin not followed")
    lat = sorted(tally.latencies)
    result = BurstResult(
        target=target.display(spec.path),
        requests_planned=spec.requests,
        requests_sent=control.next_index,
        successes=tally.successes,
        failures=tally.failures,
        aborted=tally.aborted,
        allowed_failures=spec.allowed_failures,
        status_counts=dict(tally.status_counts),
        failed_status_counts=dict(tally.failed_status_counts),
        error_counts=dict(tally.error_counts),
        latency_count=len(lat),
        latency_p50_ms=_pct(lat, 50),
        latency_p95_ms=_pct(lat, 95),
        latency_p99_ms=_pct(lat, 99),
        latency_max_ms=_pct(lat, 100),
        duration_s=round(time.monotonic() - started, 4),
        stopped_early=control.stop_reason in {"failures", "latency"} and control.next_index < spec.requests,
        deadline_hit=control.stop_reason == "deadline" or tally.aborted > 0,
        failure_samples=tuple(tally.samples),
        cert_days_left=cert_days,
        cert_error=cert_error,
        truncated_responses=tally.truncated,
        bytes_read=tally.bytes_read,
        redirects_followed=tally.redirects_followed,
        redirects_blocked=tally.redirects_blocked,
        warnings=tuple(warnings),
    )
    logger.debug(
        "probe burst done",
        extra={
            "target": result.target,
            "successes": result.successes,
            "failures": result.failures,
            "error_counts": dict(result.error_counts),
            "duration_s": result.duration_s,
        },
    )
    return result


def latency_budgets(spec: ProbeSpec) -> list[tuple[float, int]]:
    """For each latency limit: how many responses may exceed it before its percentile must.

    With nearest-rank percentiles over ``n`` responses, the p-th percentile is the value at rank
    ``ceil(p/100 * n)``; it exceeds a limit once more than ``n - ceil(p/100 * n)`` responses do.
    That budget only shrinks when fewer responses arrive, so counting against the planned ``n``
    never stops a burst that could still pass.
    """
    budgets = []
    for pct, limit in ((50, spec.max_p50_ms), (95, spec.max_p95_ms), (99, spec.max_p99_ms)):
        if limit is not None:
            n = spec.requests
            budgets.append((float(limit), n - math.ceil(pct * n / 100 - 1e-9)))
    return budgets


def _run_workers(
    prober: _Prober,
    control: _Control,
    tally: _Tally,
    spec: ProbeSpec,
    on_progress: Callable[[int, int], None] | None,
) -> None:
    results: queue.SimpleQueue[_Outcome | None] = queue.SimpleQueue()
    workers = [
        threading.Thread(target=_worker, args=(prober, control, results), name=f"probe-{n}", daemon=True)
        for n in range(min(spec.concurrency, spec.requests))
    ]
    for worker in workers:
        worker.start()
    running = len(workers)
    try:
        while running:
            outcome = results.get()
            if outcome is None:
                running -= 1
                continue
            tally.add(outcome)
            if on_progress is not None:
                on_progress(tally.done, spec.requests)
    finally:
        # Normally a no-op; after an error in on_progress it stops new requests, and the
        # join waits only for requests in flight (each bounded by its time budget).
        control.stop("aborted")
        for worker in workers:
            worker.join()
    if control.crash is not None:
        raise control.crash


def _pct(sorted_values: Sequence[float], pct: float) -> float | None:
    return round(percentile(sorted_values, pct), 2) if sorted_values else None
