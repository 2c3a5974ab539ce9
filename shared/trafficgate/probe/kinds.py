"""Stable names of what can go wrong with one probe request, and the probe's fixed limits.

Layer L1 (probe engine). The kinds are strings because they appear in reasons, metrics and
logs, where a person greps for them.
"""

from __future__ import annotations

CONNECT_REFUSED = "connect_refused"
CONNECT_TIMEOUT = "connect_timeout"
READ_TIMEOUT = "read_timeout"
#: The whole request (connect, headers, body) took longer than its timeout: a server dripping bytes.
TOTAL_TIMEOUT = "total_timeout"
TLS_ERROR = "tls_error"
DNS_ERROR = "dns_error"
CONNECTION_ERROR = "connection_error"
#: follow_redirects is on and the response redirects to another origin (or to a malformed Location).
REDIRECT_BLOCKED = "redirect_blocked"
#: follow_redirects is on and the same-origin redirect chain is longer than MAX_REDIRECTS.
REDIRECT_LIMIT = "redirect_limit"
STATUS = "status"
#: Green answered with something that is not a usable HTTP response (the detail names what).
INVALID_RESPONSE = "invalid_response"
ASSERTION_BODY_REGEX = "assertion:body_regex"
ASSERTION_JSON_PATH = "assertion:json_path"
ASSERTION_HEADER = "assertion:header"

ERROR_KINDS = (
    CONNECT_REFUSED,
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
    TOTAL_TIMEOUT,
    TLS_ERROR,
    DNS_ERROR,
    CONNECTION_ERROR,
    REDIRECT_BLOCKED,
    REDIRECT_LIMIT,
    STATUS,
    INVALID_RESPONSE,
    ASSERTION_BODY_REGEX,
    ASSERTION_JSON_PATH,
    ASSERTION_HEADER,
)

MAX_REDIRECTS = 5
#: Methods retried once when a kept-alive connection turned out closed before any response byte.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
TLS_VERIFY_DISABLED = "TLS verification disabled"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CHUNK = 64 * 1024
SAMPLE_CHARS = 200
#: Bytes kept per body when no body assertion needs more: enough for a 200-character sample.
SAMPLE_BYTES = 1024
MASK = "***"
USER_AGENT = "trafficgate-probe"
DEFAULT_PORTS = {"http": 80, "https": 443}
