"""Every environment variable Trafficgate reads, in one place.

The names are a public contract: template.yaml sets them from stack parameters and the
README documents each one. Parsing and validation live in :mod:`trafficgate.config`.
"""

from __future__ import annotations

# --- runtime and reporting -------------------------------------------------------------
#: Milliseconds kept in reserve before the Lambda deadline for the one report to CodeDeploy.
DEADLINE_MARGIN_MS = "TRAFFICGATE_DEADLINE_MARGIN_MS"
#: Total attempts (first call plus retries) for PutLifecycleEventHookExecutionStatus.
REPORT_MAX_ATTEMPTS = "TRAFFICGATE_REPORT_MAX_ATTEMPTS"
#: "true" switches on the Powertools Tracer (X-Ray). Off by default: no import cost.
TRACING = "TRAFFICGATE_TRACING"

# --- Powertools variables we rely on (documented together with ours) -------------------
METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"
SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
LOG_LEVEL = "POWERTOOLS_LOG_LEVEL"

# --- probe targets -----------------------------------------------------------------------
TEST_URL = "TRAFFICGATE_TEST_URL"
PROD_URL = "TRAFFICGATE_PROD_URL"
NO_TEST_LISTENER_POLICY = "TRAFFICGATE_NO_TEST_LISTENER"

# --- probe engine ------------------------------------------------------------------------
PROBE_PATH = "TRAFFICGATE_PROBE_PATH"
PROBE_REQUESTS = "TRAFFICGATE_PROBE_REQUESTS"
PROBE_CONCURRENCY = "TRAFFICGATE_PROBE_CONCURRENCY"
MIN_SUCCESS_RATE = "TRAFFICGATE_MIN_SUCCESS_RATE"
MAX_P95_MS = "TRAFFICGATE_MAX_P95_MS"
REQUEST_TIMEOUT_S = "TRAFFICGATE_REQUEST_TIMEOUT_S"
ACCEPTED_STATUS = "TRAFFICGATE_ACCEPTED_STATUS"
BODY_REGEX = "TRAFFICGATE_BODY_REGEX"
HOST_HEADER = "TRAFFICGATE_HOST_HEADER"
TLS_VERIFY = "TRAFFICGATE_TLS_VERIFY"
CA_BUNDLE = "TRAFFICGATE_CA_BUNDLE"
AUTH_SECRET_ARN = "TRAFFICGATE_AUTH_SECRET_ARN"
#: host=address pairs (like curl --resolve): connect there, keep Host and TLS name. For local runs.
RESOLVE = "TRAFFICGATE_RESOLVE"

#: Every Trafficgate variable, for documentation and for the local runner's pass-through.
ALL = (
    DEADLINE_MARGIN_MS,
    REPORT_MAX_ATTEMPTS,
    TRACING,
    TEST_URL,
    PROD_URL,
    NO_TEST_LISTENER_POLICY,
    PROBE_PATH,
    PROBE_REQUESTS,
    PROBE_CONCURRENCY,
    MIN_SUCCESS_RATE,
    MAX_P95_MS,
    REQUEST_TIMEOUT_S,
    ACCEPTED_STATUS,
    BODY_REGEX,
    HOST_HEADER,
    TLS_VERIFY,
    CA_BUNDLE,
    AUTH_SECRET_ARN,
    RESOLVE,
)
