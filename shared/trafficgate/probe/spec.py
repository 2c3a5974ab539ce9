"""What one probe burst does: :class:`ProbeSpec` and the accepted status codes.

Layer L1 (probe engine). Pure data and validation: no I/O, cheap to import (settings need it).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from trafficgate.probe.exceptions import ProbeConfigError
from trafficgate.probe.stats import allowed_failures
from trafficgate.ranges import Range, bounded, out_of_range
from trafficgate.stats import clean_run_to_pass, failing_run_to_fail

_MIN_STATUS = 100
_MAX_STATUS = 599
#: Upper bound on worker threads of one burst; more would only measure the Lambda's CPU.
MAX_CONCURRENCY = 256
#: The longest a Lambda function can run: no single wait of a probe needs more.
LAMBDA_MAX_S = 900.0
#: The most requests one burst may send (at the default 5 ms a request, minutes of traffic).
MAX_REQUESTS = 10_000
#: The most bytes of one body the probe reads; with bodies kept for assertions, times the
#: concurrency, this bounds the burst's memory.
MAX_BODY_BYTES = 8 * 1_048_576

_LATENCY_MS = Range(0, LAMBDA_MAX_S * 1000, exclusive_minimum=True)

#: How a burst judges its success rate: ``sequential`` stops as soon as the evidence shows the rate
#: above or below ``min_success_rate``; ``fixed`` sends every request and compares the observed rate.
Decision = Literal["sequential", "fixed"]
DECISIONS: tuple[Decision, ...] = ("sequential", "fixed")
#: Chance that a sequential burst shows a pass when green's success rate is below the threshold:
#: a pass is "shown at 95 %", the confidence of the rule of three.
PASS_BETA = 0.05
#: What the spec accepts, as patterns that also go into the published plan JSON Schema.
# "$" escaped inside the classes: some JSON Schema validators (fastjsonschema) rewrite a bare "$".
HEADER_NAME_PATTERN = r"^[!#\$%&'*+\-.^_`|~0-9A-Za-z]+$"
METHOD_PATTERN = r"^[!#\$%&'*+\-.^_`|~0-9A-Z]+$"
PATH_PATTERN = r"^/[^\s\x00-\x1f\x7f]*$"
HOST_PATTERN = r"^[A-Za-z0-9.\-_]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$"
_TOKEN = re.compile(HEADER_NAME_PATTERN)
_METHOD = re.compile(METHOD_PATTERN)
_PATH = re.compile(PATH_PATTERN)
_HOST = re.compile(HOST_PATTERN)


@dataclass(frozen=True, slots=True)
class StatusSet:
    """A set of HTTP status codes written as ranges: ``"200-399"``, ``"200,204,300-302"``.

    Use :meth:`parse` to build one from text; ``str()`` gives the canonical text back.
    """

    ranges: tuple[tuple[int, int], ...]

    @classmethod
    def parse(cls, text: str) -> StatusSet:
        """Parse comma-separated codes and inclusive ranges.

        Raises
        ------
        ProbeConfigError
            (a ``ValueError``) naming the offending item and the accepted syntax.
        """
        items = [item.strip() for item in str(text).split(",")]
        if not any(items):
            raise ProbeConfigError(
                f"accepted status {text!r} is empty; expected codes and ranges like '200-399' or '200,204'"
            )
        ranges: list[tuple[int, int]] = []
        for item in items:
            if not item:
                raise ProbeConfigError(f"accepted status {text!r} has an empty item between commas")
            lo_text, sep, hi_text = item.partition("-")
            try:
                lo = int(lo_text.strip())
                hi = int(hi_text.strip()) if sep else lo
            except ValueError:
                raise ProbeConfigError(
                    f"accepted status item {item!r} is not a code or range; expected e.g. '200' or '200-399'"
                ) from None
            for code in (lo, hi):
                if not _MIN_STATUS <= code <= _MAX_STATUS:
                    raise ProbeConfigError(
                        f"accepted status code {code} in {text!r} is outside {_MIN_STATUS}-{_MAX_STATUS}"
                    )
            if lo > hi:
                raise ProbeConfigError(f"accepted status range {item!r} runs backwards; write '{hi}-{lo}'")
            ranges.append((lo, hi))
        return cls(ranges=_merge(ranges))

    def __contains__(self, code: object) -> bool:
        return isinstance(code, int) and any(lo <= code <= hi for lo, hi in self.ranges)

    def __iter__(self) -> Iterator[int]:
        for lo, hi in self.ranges:
            yield from range(lo, hi + 1)

    def __str__(self) -> str:
        return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in self.ranges)


def _merge(ranges: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return tuple(merged)


#: 2xx and 3xx: redirects are not followed by default, so a redirecting health page passes.
DEFAULT_ACCEPTED_STATUS = StatusSet.parse("200-399")


@dataclass(frozen=True, kw_only=True)
class ProbeSpec:
    """One burst of HTTP requests against a listener, and what each response must satisfy.

    Parameters
    ----------
    path
        Request path (and optional query), starting with ``/``; appended to the base URL.
    method
        HTTP method, upper case.
    requests, concurrency
        Requests in the burst (with ``decision="sequential"``, at most) and how many run at once
        (at most 256).
    timeout_s
        Connect timeout, read timeout and cap on the total time of one request.
    accepted_status
        Status codes that count as success (default ``200-399``).
    min_success_rate
        Share of requests that must succeed, in [0, 1].
    decision
        ``"sequential"`` (default): an anytime-valid test of the success rate against
        ``min_success_rate`` (:class:`trafficgate.stats.SequentialMean`). The burst stops with a
        fail once the rate is shown below it (chance ``alpha`` when it is not), with a pass once
        shown above it (at 95 %: chance :data:`PASS_BETA` when it is not), and is inconclusive
        at ``requests`` when neither was shown. ``"fixed"``: every request is sent and the
        observed rate must reach ``min_success_rate``; the burst stops early as soon as the
        failures exceed what that allows.
    alpha
        False-fail level of the sequential decision, in (0, 0.5).
    max_p50_ms, max_p95_ms, max_p99_ms
        Latency limits in milliseconds (``None``: not checked).
    body_regex
        Regular expression searched for in the (possibly truncated) response body.
    json_equals
        JMESPath expression -> expected JSON value, e.g. ``{"status": "ok", "items[0].id": 7}``.
        An absent path reads as null.
    json_exists
        JMESPath expressions that must find a value (not absent, not null).
    header_matches
        Response header name -> regular expression searched for in its value.
    min_cert_days
        HTTPS only: fail when the server certificate expires in fewer days.
    host_header
        Host header to send; on HTTPS it is also the SNI name and the name the certificate
        is verified against (any ``:port`` suffix is stripped for those).
    tls_verify, ca_bundle
        Certificate verification (on by default) and an optional CA bundle path.
    headers
        Extra request headers. They may hold credentials: never shown in reprs, results
        or logs.
    follow_redirects
        Follow at most 5 redirects to the same scheme, host and port. Redirects elsewhere
        are never followed.
    max_body_bytes
        Bytes of each body read at most; the rest is discarded with the connection.
    failure_samples
        How many failed requests are described in the result.
    resolve
        Hostname -> IP address to connect to instead (like ``curl --resolve``); the Host
        header and TLS name stay the URL's hostname.
    """

    path: str = field(default="/", metadata={"pattern": PATH_PATTERN})
    method: str = field(default="GET", metadata={"pattern": METHOD_PATTERN})
    requests: int = bounded(400, Range(1, MAX_REQUESTS, integer=True))
    concurrency: int = bounded(5, Range(1, MAX_CONCURRENCY, integer=True))
    timeout_s: float = bounded(5.0, Range(0, LAMBDA_MAX_S, exclusive_minimum=True))
    accepted_status: StatusSet = DEFAULT_ACCEPTED_STATUS
    min_success_rate: float = bounded(0.99, Range(0, 1))
    decision: Decision = "sequential"
    alpha: float = bounded(0.01, Range(0, 0.5, exclusive_minimum=True, exclusive_maximum=True))
    max_p50_ms: float | None = bounded(None, _LATENCY_MS)
    max_p95_ms: float | None = bounded(1000.0, _LATENCY_MS)
    max_p99_ms: float | None = bounded(None, _LATENCY_MS)
    body_regex: str | None = None
    json_equals: Mapping[str, Any] = field(default_factory=dict)
    json_exists: tuple[str, ...] = ()
    header_matches: Mapping[str, str] = field(default_factory=dict, metadata={"key_pattern": HEADER_NAME_PATTERN})
    min_cert_days: int | None = bounded(None, Range(0, 3650, integer=True))
    host_header: str | None = field(default=None, metadata={"pattern": HOST_PATTERN})
    tls_verify: bool = True
    ca_bundle: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    follow_redirects: bool = False
    max_body_bytes: int = bounded(1_048_576, Range(0, MAX_BODY_BYTES, integer=True))
    failure_samples: int = bounded(5, Range(0, 100, integer=True))
    resolve: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Private copies: a caller mutating its dict later must not change a spec that
        # worker threads share. (Plain dicts, not MappingProxyType: copy.deepcopy, pickle
        # and dataclasses.asdict keep working.)
        object.__setattr__(self, "json_equals", dict(self.json_equals))
        object.__setattr__(self, "json_exists", tuple(self.json_exists))
        object.__setattr__(self, "header_matches", dict(self.header_matches))
        object.__setattr__(self, "headers", dict(self.headers))
        object.__setattr__(self, "resolve", {k.lower(): v for k, v in dict(self.resolve).items()})
        self._validate()

    @property
    def allowed_failures(self) -> int:
        """Failed requests the burst may have and still pass."""
        return allowed_failures(self.requests, self.min_success_rate)

    @property
    def sequential(self) -> bool:
        """Whether the success rate is judged by the sequential test (see ``decision``)."""
        return self.decision == "sequential"

    def _validate_sequential(self) -> None:
        """A sequential cap that could never show a pass would only ever fail or be inconclusive."""
        if self.min_success_rate >= 1.0 or self.min_success_rate <= 0.0:
            return  # the edges: every request must succeed, or nothing is required
        needed = clean_requests_to_pass(self.min_success_rate, PASS_BETA)
        if needed is None:
            raise ProbeConfigError(
                f"min_success_rate {self.min_success_rate!r} cannot be shown by a sequential burst of at most "
                f"{MAX_REQUESTS} requests; lower it, or use decision 'fixed'",
                field="min_success_rate",
            )
        if self.requests < needed:
            raise ProbeConfigError(
                f"requests {self.requests} is too few for the sequential decision at min_success_rate="
                f"{self.min_success_rate:g}: a pass needs {needed} requests in a row without an error; send at "
                "least that many, lower min_success_rate, or use decision 'fixed'",
                field="requests",
            )

    @property
    def has_body_assertions(self) -> bool:
        return self.body_regex is not None or bool(self.json_equals) or bool(self.json_exists)

    def _validate(self) -> None:
        if not isinstance(self.path, str) or not _PATH.fullmatch(self.path) or _has_space_or_ctl(self.path):
            raise ProbeConfigError(
                f"path {self.path!r} must start with '/' and contain no spaces or control characters", field="path"
            )
        if not isinstance(self.method, str) or not _METHOD.fullmatch(self.method):
            raise ProbeConfigError(
                f"method {self.method!r} must be an upper-case HTTP method such as GET", field="method"
            )
        if self.decision not in DECISIONS:
            raise ProbeConfigError(
                f"decision {self.decision!r} must be one of {', '.join(DECISIONS)}", field="decision"
            )
        bad = out_of_range(self)
        if bad is not None:
            name, problem = bad
            raise ProbeConfigError(f"{name} {getattr(self, name)!r} {problem}", field=name)
        if self.sequential:
            self._validate_sequential()
        if not isinstance(self.accepted_status, StatusSet):
            raise ProbeConfigError(
                "accepted_status must be a StatusSet; use StatusSet.parse('200-399')", field="accepted_status"
            )
        if self.body_regex is not None:
            _require_regex("body_regex", self.body_regex)
        if self.json_equals or self.json_exists:
            from trafficgate.probe.jsonquery import compile_expression  # jmespath only when asked for

            for name, expressions in (("json_equals", self.json_equals), ("json_exists", self.json_exists)):
                for expression in expressions:
                    try:
                        compile_expression(expression)
                    except ProbeConfigError as exc:
                        raise ProbeConfigError(f"{name}: {exc}", field=name) from None
        for name, pattern in self.header_matches.items():
            _require_header_name("header_matches", name)
            _require_regex(f"header_matches[{name!r}]", pattern)
        if self.host_header is not None and not _HOST.fullmatch(self.host_header):
            raise ProbeConfigError(
                f"host_header {self.host_header!r} must be a host name with an optional :port", field="host_header"
            )
        if self.ca_bundle is not None and not self.ca_bundle.strip():
            raise ProbeConfigError("ca_bundle must be a file path or None", field="ca_bundle")
        for name, value in self.headers.items():
            _require_header_name("headers", name)
            # Never echo the value: it may be a credential.
            if not isinstance(value, str) or "\r" in value or "\n" in value:
                raise ProbeConfigError(f"header {name!r} value must be a string without line breaks", field="headers")
            if value != value.strip():
                # requests would reject it with an error that quotes the value.
                raise ProbeConfigError(
                    f"header {name!r} value must not start or end with whitespace", field="headers"
                )
        if self.max_body_bytes == 0 and self.has_body_assertions:
            raise ProbeConfigError(
                "max_body_bytes is 0 but body_regex/json assertions need the body", field="max_body_bytes"
            )
        for host, address in self.resolve.items():
            if not host or not _HOST.fullmatch(host) or ":" in host:
                raise ProbeConfigError(f"resolve key {host!r} must be a host name without port", field="resolve")
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise ProbeConfigError(
                    f"resolve[{host!r}] = {address!r} must be an IPv4 or IPv6 address", field="resolve"
                ) from None


@functools.lru_cache(maxsize=64)
def clean_requests_to_pass(min_success_rate: float, beta: float) -> int | None:
    """Requests in a row without an error that show a sequential pass; None when more than MAX_REQUESTS."""
    max_rate = 1.0 - min_success_rate
    if max_rate >= 1.0:
        return 0
    if max_rate <= 0.0:
        return None
    try:
        return clean_run_to_pass(max_rate, beta, limit=MAX_REQUESTS + 1)
    except ValueError:
        return None


@functools.lru_cache(maxsize=64)
def fewest_sequential_requests(min_success_rate: float, alpha: float) -> int | None:
    """The fewest requests in which a sequential burst can fail (a green failing every one of them);
    None when more than MAX_REQUESTS."""
    max_rate = 1.0 - min_success_rate
    if not 0.0 < max_rate < 1.0:
        return 1  # the edges: at 1 the first failure fails; at 0 nothing fails
    try:
        return failing_run_to_fail(max_rate, alpha, limit=MAX_REQUESTS + 1)
    except ValueError:
        return None


def _has_space_or_ctl(text: str) -> bool:
    return any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text)


def _require_regex(name: str, pattern: Any) -> None:
    from trafficgate.probe.regex import compile_pattern  # RE2 only when a pattern is configured

    field_name = name.split("[", 1)[0]
    try:
        compile_pattern(pattern)
    except ProbeConfigError as exc:
        raise ProbeConfigError(f"{name} {exc}", field=field_name) from None


def _require_header_name(where: str, name: Any) -> None:
    if not isinstance(name, str) or not _TOKEN.fullmatch(name):
        raise ProbeConfigError(f"{where}: {name!r} is not a valid HTTP header name", field=where)
