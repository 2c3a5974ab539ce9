"""Stable names of what can go wrong with one probe request, and the probe's fixed limits.

Layer L1 (probe engine). The kinds are strings because they appear in reasons, metrics and
logs, where a person greps for them.
"""

from __future__ import annotations

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
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CHUNK = 64 * 1024
SAMPLE_CHARS = 200
#: Bytes kept per body when no body assertion needs more: enough for a 200-character sample.
SAMPLE_BYTES = 1024
MASK = "***"
USER_AGENT = "trafficgate-probe"
DEFAULT_PORTS = {"http": 80, "https": 443}
