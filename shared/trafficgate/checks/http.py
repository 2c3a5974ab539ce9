"""HTTP probe of a listener: a burst of requests against the test or production listener.

Layer L2 (a check): imports the check API and the probe engine.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from trafficgate import constants as env
from trafficgate.checks.base import Check, CheckError, CheckResult
from trafficgate.discovery import ListenerRole
from trafficgate.policy import NoDataPolicy, Policy
from trafficgate.probe.exceptions import ProbeConfigError
from trafficgate.probe.spec import PASS_BETA, ProbeSpec, clean_requests_to_pass

if TYPE_CHECKING:
    from trafficgate.context import CheckContext

TEST_LISTENER_CHECK_ID = "http.test_listener"
PROD_LISTENER_CHECK_ID = "http.prod_listener"

#: The built-in entries' policy with the sequential decision (the default). Inconclusive means the
#: success rate was shown neither above nor below the threshold by the last request: the false-fail
#: level ``alpha`` bounds a rollback only if the check fails on evidence alone, so this passes, with
#: the reason and a warning (fail closed would roll back most services with any background error
#: rate; see the README). No request judged at all is no evidence: that fails. A plan entry has the
#: usual policy defaults (fail closed), and may say ``on_inconclusive: pass``.
BUILTIN_POLICY = Policy(on_inconclusive="pass")
#: The most time a sequential burst claims from the checks before it (see ``expected_s``).
MAX_EXPECTED_S = 45.0

#: Probe settings a plan may not set: headers come only from the auth secret, resolve only
#: from the operator's environment.
NOT_IN_PLAN = frozenset({"headers", "resolve"})


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
    overrides
        ProbeSpec fields a plan sets on top of the operator's settings.
    """

    check_id: str = TEST_LISTENER_CHECK_ID
    listener: ListenerRole = "test"
    spec: ProbeSpec | None = None
    requests: int | None = None
    overrides: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    sample_unit: ClassVar[str] = "requests"

    @classmethod
    def plan_fields(cls) -> dict[str, Any]:
        """Parameters a plan entry may give: the listener, and any ProbeSpec field but headers/resolve."""
        hints = typing.get_type_hints(ProbeSpec)
        fields = {f.name: hints[f.name] for f in dataclasses.fields(ProbeSpec) if f.init and f.name not in NOT_IN_PLAN}
        return {**fields, "listener": ListenerRole}

    @classmethod
    def from_plan(cls, check_id: str, params: Mapping[str, Any], **common: Any) -> HttpProbe:
        """Build from validated plan parameters (ProbeSpec fields override the operator's settings).

        The overrides are tried on a default spec now, so that a bad value (a JMESPath expression
        that does not parse, a negative timeout) is a plan error naming its field, not a
        surprise at run time.

        Raises
        ------
        ProbeConfigError
            Naming the field (``exc.field``) that the spec refused.
        """
        probe = {k: v for k, v in params.items() if k != "listener"}
        dataclasses.replace(ProbeSpec(), **probe)
        return cls(check_id=check_id, listener=params.get("listener", "test"), overrides=probe, **common)

    def sample_defaults(self, ctx: CheckContext) -> tuple[int | None, NoDataPolicy]:
        # A burst with no request judged is no evidence of anything: it fails, under any policy
        # that does not say otherwise (a plan entry's on_inconclusive: pass must not pass it).
        return 1, "fail"

    def expected_s(self, ctx: CheckContext) -> float:
        # One round of requests per `concurrency`, each about a second at worst for a healthy green.
        # Sequential: a healthy green passes after its clean run (327 requests at 0.99), up to
        # MAX_EXPECTED_S; the burst stops itself at the check's deadline anyway.
        spec = self.spec or ctx.settings.probe
        requests = self.requests or int(self.overrides.get("requests", spec.requests))
        concurrency = int(self.overrides.get("concurrency", spec.concurrency))
        timeout = float(self.overrides.get("timeout_s", spec.timeout_s))
        if str(self.overrides.get("decision", spec.decision)) != "sequential":
            return math.ceil(requests / max(1, concurrency)) * min(timeout, 1.0) + 1.0
        rate = float(self.overrides.get("min_success_rate", spec.min_success_rate))
        clean = clean_requests_to_pass(rate, PASS_BETA)
        needed = requests if clean is None else min(requests, max(clean, 1))
        return min(math.ceil(needed / max(1, concurrency)) * min(timeout, 1.0) + 1.0, MAX_EXPECTED_S)

    def run(self, ctx: CheckContext) -> CheckResult:
        from trafficgate.probe import evaluate, run_burst  # requests only when a burst runs

        spec = self.spec or ctx.settings.probe
        if self.requests is not None:
            spec = dataclasses.replace(spec, requests=self.requests)
        if self.overrides:
            try:
                spec = dataclasses.replace(spec, **self.overrides)
            except ProbeConfigError as exc:
                raise CheckError(f"probe parameters: {exc}") from None
        base_url = ctx.base_url(self.listener)
        if base_url is not None:
            spec = ctx.probe_spec(self.listener, spec)  # an HTTPS listener's certificate name
        if base_url is None:
            message = f"deployment group has no {self.listener} listener; HTTP probe skipped"
            if ctx.settings.no_test_listener_policy == "fail":
                return CheckResult.failed(f"{message} ({env.NO_TEST_LISTENER_POLICY}=fail)")
            return CheckResult.passed(message, warnings=(message,))
        headers = ctx.auth_headers()
        if headers:
            spec = dataclasses.replace(spec, headers={**spec.headers, **headers})
        burst = run_burst(
            spec, base_url, deadline=ctx.deadline, on_progress=ctx.progress(self.check_id), cancel=ctx.cancelled
        )
        result = evaluate(spec, burst)
        # No query string: it may carry a token (the engine's own "target" leaves it out too).
        url = base_url + spec.path.split("?", 1)[0]
        details: dict[str, Any] = {"url": url, "listener": self.listener, **result.details}
        return dataclasses.replace(result, details=details, samples=burst.completed)
