"""Every environment variable Trafficgate reads, in one place, and a few fixed vocabularies.

Layer L0 (leaves): imports nothing of ours. The names are a public contract: template.yaml sets
them from stack parameters and the README documents each one. Parsing and validation live in
:mod:`trafficgate.config`.
"""

from __future__ import annotations

# --- runtime and reporting -------------------------------------------------------------
#: Milliseconds kept in reserve before the Lambda deadline for the one report to CodeDeploy.
DEADLINE_MARGIN_MS = "TRAFFICGATE_DEADLINE_MARGIN_MS"
#: Total attempts (first call plus retries) for PutLifecycleEventHookExecutionStatus.
REPORT_MAX_ATTEMPTS = "TRAFFICGATE_REPORT_MAX_ATTEMPTS"
#: Wall-clock budget of the report, all attempts together; the deadline margin is derived from it.
REPORT_BUDGET_MS = "TRAFFICGATE_REPORT_BUDGET_MS"
#: An SNS topic that receives every verdict (deployment, hook, verdict, reason). Empty: none.
VERDICT_TOPIC_ARN = "TRAFFICGATE_VERDICT_TOPIC_ARN"
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
#: sequential (default) or fixed: how a burst judges its success rate against MIN_SUCCESS_RATE.
PROBE_DECISION = "TRAFFICGATE_PROBE_DECISION"
#: False-fail level of the sequential decision, in (0, 0.5).
PROBE_ALPHA = "TRAFFICGATE_PROBE_ALPHA"
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

# --- green against blue (http.compare) ------------------------------------------------------
#: on/off: compare green (test listener) with blue (production listener) at AfterAllowTestTraffic
#: and BeforeAllowTraffic, whenever both listeners are known.
COMPARE = "TRAFFICGATE_COMPARE"
#: How much higher green's error rate may be than blue's (absolute, 0 to 1).
MAX_ERROR_RATE_INCREASE = "TRAFFICGATE_MAX_ERROR_RATE_INCREASE"
#: The error-rate increase the comparison is sized to catch: it passes only once green is shown
#: less than this much worse than blue (at 95 %); at least MAX_ERROR_RATE_INCREASE.
DETECT_ERROR_RATE_INCREASE = "TRAFFICGATE_DETECT_ERROR_RATE_INCREASE"
#: How many times slower than blue green may be (a ratio >= 1, on the median).
MAX_LATENCY_INCREASE = "TRAFFICGATE_MAX_LATENCY_INCREASE"
#: A slowdown must also exceed this many milliseconds to count.
MIN_LATENCY_INCREASE_MS = "TRAFFICGATE_MIN_LATENCY_INCREASE_MS"
#: False-rollback level of the comparison's sequential tests, in (0, 0.5).
COMPARE_ALPHA = "TRAFFICGATE_COMPARE_ALPHA"
#: Requests per side at most; a comparison still open there is inconclusive.
COMPARE_MAX_REQUESTS = "TRAFFICGATE_COMPARE_MAX_REQUESTS"

#: Comma-separated S3 buckets the gate may read AppSpec revisions (revisionType S3) from.
APPSPEC_BUCKETS = "TRAFFICGATE_APPSPEC_BUCKETS"

# --- AWS-side checks -------------------------------------------------------------------
#: Comma-separated check ids to switch off, e.g. "ecr.scan_findings,cloudwatch.unhealthy_hosts".
DISABLED_CHECKS = "TRAFFICGATE_DISABLED_CHECKS"
#: Comma-separated environment variable names every container of the new task definition must set.
REQUIRED_ENV = "TRAFFICGATE_REQUIRED_ENV"
#: Lowest ECR scan finding severity that fails BeforeInstall (default CRITICAL).
SCAN_SEVERITY = "TRAFFICGATE_SCAN_SEVERITY"
#: What an image without scan findings means: warn (pass with a warning), pass or fail.
SCAN_NO_DATA = "TRAFFICGATE_SCAN_NO_DATA"
#: How long AfterInstall waits for the green task set to become steady.
STEADY_TIMEOUT_S = "TRAFFICGATE_STEADY_TIMEOUT_S"
#: Comma-separated CloudWatch alarm names (``prefix*`` allowed) checked with the group's alarms.
ALARMS = "TRAFFICGATE_ALARMS"
#: Bake window of AfterAllowTraffic's metric checks, in seconds (a bake longer than one
#: invocation continues: see CONTINUATION).
BAKE_SECONDS = "TRAFFICGATE_BAKE_SECONDS"
#: on (default) or off: whether a check that needs more time than one invocation (a long bake,
#: an approval) continues the hook: ECS IN_PROGRESS, or a CodeDeploy hook invoking itself.
CONTINUATION = "TRAFFICGATE_CONTINUATION"
#: How long an ECS hook may keep a stage waiting across calls, in seconds (CodeDeploy: at most
#: its one-hour hook limit, whatever this says).
MAX_WAIT_SECONDS = "TRAFFICGATE_MAX_WAIT_SECONDS"
#: ARN of an HMAC KMS key (HMAC_256): a hook's progress carried to its next call is sealed with
#: it, and a progress without a valid seal fails the hook.
PROGRESS_KEY_ARN = "TRAFFICGATE_PROGRESS_KEY_ARN"
#: Highest acceptable HTTPCode_Target_5XX_Count / RequestCount over the bake window.
MAX_5XX_RATE = "TRAFFICGATE_MAX_5XX_RATE"
#: Highest acceptable TargetResponseTime p95 over the bake window, in ms.
MAX_TARGET_P95_MS = "TRAFFICGATE_MAX_TARGET_P95_MS"
#: Highest acceptable UnHealthyHostCount (maximum over the bake window).
MAX_UNHEALTHY_HOSTS = "TRAFFICGATE_MAX_UNHEALTHY_HOSTS"
#: Fewest requests in the bake window for the metric checks to judge.
MIN_SAMPLES = "TRAFFICGATE_MIN_SAMPLES"
#: What too few samples mean for the metric checks: pass (with a warning), fail or inconclusive.
METRICS_NO_DATA = "TRAFFICGATE_METRICS_NO_DATA"
#: Status codes the green target group's health check path answers with when healthy (default 200):
#: its matcher must accept each (``elb.health_check_config``).
HEALTH_CHECK_STATUS = "TRAFFICGATE_HEALTH_CHECK_STATUS"
#: ECS per-step canary gate (cloudwatch.step_gate): how far back its per-minute window reaches, in
#: seconds (never before the service deployment started).
STEP_WINDOW_SECONDS = "TRAFFICGATE_STEP_WINDOW_SECONDS"

# --- check plans -------------------------------------------------------------------------
#: A plan file bundled with the functions (YAML or JSON); relative paths start at the function root.
PLAN_FILE = "TRAFFICGATE_PLAN_FILE"
#: SSM parameter prefix of per-group plans: <prefix>/<application>/<deployment-group>. "off" disables.
PLAN_SSM_PREFIX = "TRAFFICGATE_PLAN_SSM_PREFIX"
#: Comma-separated top-level packages a plan's custom checks may come from (e.g. "mychecks").
#: Nothing else is imported: whoever writes a plan must not choose arbitrary code to run.
CHECK_PACKAGES = "TRAFFICGATE_CHECK_PACKAGES"

#: ECR finding severities, lowest first (``TRAFFICGATE_SCAN_SEVERITY`` names one of them).
SEVERITIES = ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL")

#: Every Trafficgate variable, for documentation and for the local runner's pass-through.
ALL = (
    DEADLINE_MARGIN_MS,
    REPORT_MAX_ATTEMPTS,
    REPORT_BUDGET_MS,
    VERDICT_TOPIC_ARN,
    TRACING,
    TEST_URL,
    PROD_URL,
    NO_TEST_LISTENER_POLICY,
    PROBE_PATH,
    PROBE_REQUESTS,
    PROBE_CONCURRENCY,
    MIN_SUCCESS_RATE,
    PROBE_DECISION,
    PROBE_ALPHA,
    MAX_P95_MS,
    REQUEST_TIMEOUT_S,
    ACCEPTED_STATUS,
    BODY_REGEX,
    HOST_HEADER,
    TLS_VERIFY,
    CA_BUNDLE,
    AUTH_SECRET_ARN,
    RESOLVE,
    COMPARE,
    MAX_ERROR_RATE_INCREASE,
    DETECT_ERROR_RATE_INCREASE,
    MAX_LATENCY_INCREASE,
    MIN_LATENCY_INCREASE_MS,
    COMPARE_ALPHA,
    COMPARE_MAX_REQUESTS,
    APPSPEC_BUCKETS,
    DISABLED_CHECKS,
    REQUIRED_ENV,
    SCAN_SEVERITY,
    SCAN_NO_DATA,
    STEADY_TIMEOUT_S,
    ALARMS,
    BAKE_SECONDS,
    CONTINUATION,
    MAX_WAIT_SECONDS,
    PROGRESS_KEY_ARN,
    MAX_5XX_RATE,
    MAX_TARGET_P95_MS,
    MAX_UNHEALTHY_HOSTS,
    MIN_SAMPLES,
    METRICS_NO_DATA,
    HEALTH_CHECK_STATUS,
    STEP_WINDOW_SECONDS,
    PLAN_FILE,
    PLAN_SSM_PREFIX,
    CHECK_PACKAGES,
)
