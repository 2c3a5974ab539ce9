"""HTTP probe of a listener: a burst of requests against the test or production listener."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from trafficgate.checks.base import Check, CheckError, CheckResult

if TYPE_CHECKING:
    from trafficgate.context import CheckContext
    from trafficgate.discovery import ListenerRole
    from trafficgate.probe import ProbeSpec

ListenerRoleType = Literal["test", "prod"]

TEST_LISTENER_CHECK_ID = "http.test_listener"
PROD_LISTENER_CHECK_ID = "http.prod_listener"


@dataclass(kw_only=True)
class HttpProbe(Check):
    """Probe the listener that now routes to green with a burst of HTTP requests.

    Parameters
    ----------
    listener
        ``"test"`` (AfterAllowTestTraffic, BeforeAllowTraffic) or ``"prod"`` (AfterAllowTraffic).
    spec
        The burst and its assertions; the operator's settings when omitted.
    requests
        Overrides the number of requests of the spec (a short extra burst, for example).
    """

    check_id: str = TEST_LISTENER_CHECK_ID
    listener: ListenerRole = "test"
    spec: ProbeSpec | None = None
    requests: int | None = None
    overrides: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    #: Probe settings a plan may not set: headers come only from the auth secret.
    _NOT_IN_PLAN = frozenset({"headers", "resolve"})

    @classmethod
    def plan_fields(cls) -> dict[str, Any]:
        """Parameters a plan entry may give: the listener, and any ProbeSpec field."""
        from trafficgate.plan.schema import dataclass_fields
        from trafficgate.probe import ProbeSpec

        fields = dataclass_fields(ProbeSpec, exclude=cls._NOT_IN_PLAN)
        fields["listener"] = ListenerRoleType
        return fields

    @classmethod
    def from_plan(cls, check_id: str, params: Mapping[str, Any], **common: Any) -> HttpProbe:
        """Build from validated plan parameters (ProbeSpec fields override the operator's settings)."""
        probe = {k: v for k, v in params.items() if k != "listener"}
        return cls(check_id=check_id, listener=params.get("listener", "test"), overrides=probe, **common)

    def run(self, ctx: CheckContext) -> CheckResult:
        from trafficgate.probe import evaluate, run_burst

        spec = self.spec or ctx.settings.probe
        if spec is None:
            raise CheckError("no probe settings")
        if self.requests is not None:
            spec = dataclasses.replace(spec, requests=self.requests)
        if self.overrides:
            try:
                spec = dataclasses.replace(spec, **self.overrides)
            except ValueError as exc:
                raise CheckError(f"probe parameters: {exc}") from None
        base_url = ctx.base_url(self.listener)
        if base_url is None:
            message = f"deployment group has no {self.listener} listener; HTTP probe skipped"
            if ctx.settings.no_test_listener_policy == "fail":
                return CheckResult.failed(message + f" (policy {ctx.settings.no_test_listener_policy}=fail)")
            return CheckResult.passed(message, warnings=(message,))
        headers = auth_headers(ctx)
        if headers:
            spec = dataclasses.replace(spec, headers={**spec.headers, **headers})
        burst = run_burst(spec, base_url, deadline=ctx.deadline, on_progress=ctx.progress(self.check_id))
        result = evaluate(spec, burst)
        # No query string: it may carry a token (the engine's own "target" leaves it out too).
        url = base_url + spec.path.split("?", 1)[0]
        details: dict[str, Any] = {"url": url, "listener": self.listener, **result.details}
        return dataclasses.replace(result, details=details, samples=burst.completed)


def auth_headers(ctx: CheckContext) -> Mapping[str, str]:
    """Probe headers from the Secrets Manager secret named by ``TRAFFICGATE_AUTH_SECRET_ARN``.

    The secret is a JSON object of header names to values. Values never reach logs or results.
    Read through Powertools Parameters, cached for five minutes per warm container.
    """
    arn = ctx.settings.auth_secret_arn
    if not arn:
        return {}
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError

    provider: SecretsProvider = ctx.aws.cached(
        "secrets-provider", lambda: SecretsProvider(boto3_client=ctx.aws.client("secretsmanager"))
    )
    try:
        value = provider.get(arn, transform="json", max_age=300)
    except TransformParameterError:
        raise CheckError(f"auth secret {arn} is not a JSON object of header names to values") from None
    except GetParameterError as exc:
        cause = exc.__cause__ or exc.__context__  # Powertools raises without "from"
        code = getattr(cause, "response", {}).get("Error", {}).get("Code", type(cause).__name__)
        raise CheckError(f"could not read auth secret {arn}: {code}") from None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise CheckError(f"auth secret {arn} is not a JSON object of header names to string values")
    return value
