"""What a check receives: the deployment it judges, the settings, AWS clients and a deadline.

Layer L2 (the check API): imports the leaves and the engines (AWS clients, auth headers,
discovery, the probe's session); never a check, a plan or the runner. Custom checks use it
through ``trafficgate.context.CheckContext`` (also exported by :mod:`trafficgate.checks`).
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from trafficgate import constants as env
from trafficgate import redaction
from trafficgate.auth import auth_headers
from trafficgate.aws import AWS_ERRORS, error_code, read_error
from trafficgate.discovery import (
    AppSpec,
    Deployment,
    LifecycleEvent,
    Listener,
    ListenerRole,
    TaskSet,
    describe_task_definition,
    discover,
    discover_service_deployment,
    lifecycle_events_of,
    read_ecs_targets,
    read_revision_task_sets,
    read_task_sets,
    task_sets_of,
)
from trafficgate.discovery.network import TaskNetwork, appspec_network, service_network
from trafficgate.exceptions import CheckError

if TYPE_CHECKING:
    from trafficgate.aws import AwsClients
    from trafficgate.config import Settings
    from trafficgate.hooks import EcsStage, Hook
    from trafficgate.probe.spec import ProbeSpec
    from trafficgate.probe.transport import TargetSession


@dataclass(kw_only=True)
class CheckContext:
    """The context shared by the checks of one hook invocation.

    Parameters
    ----------
    hook, deployment_id, execution_id
        Which lifecycle event of which deployment is being judged.
    settings
        Validated operator configuration.
    aws
        Lazily created boto3 clients.
    deadline
        ``time.monotonic()`` value by which every check must have returned; checks that wait
        (probes, polls, bakes) stop there.
    on_progress
        ``(check_id, done, total)`` callback for long checks, when someone is watching.
    cache
        Results shared by the checks of this invocation (e.g. the task definition they all judge);
        one invocation, one cache: nothing here outlives the hook.
    time_after_s
        What the checks after the running one are expected to need (set by the runner): a check that
        waits stops that much before the deadline, so they still run.
    platform
        ``codedeploy`` (``deployment_id`` is a CodeDeploy deployment id) or ``ecs`` (an ECS native
        blue/green deployment: ``deployment_id`` is the service deployment ARN, and there are no
        CodeDeploy deployment targets).
    test_traffic_shifted
        ECS native: whether the stage comes after TEST_TRAFFIC_SHIFT (tells green's target group).
    ecs_stage
        ECS native: the lifecycle stage being judged (its plan entry wins over ``hook``'s).
    production_traffic_weights
        ECS native: the event's ``productionTrafficWeights`` (service revision ARN -> percent), what
        production sends each revision at this step.
    target_revision_arn
        ECS native: the event's ``targetServiceRevisionArn``, green's service revision.
    cancelled
        Set when the hook walks away from its checks (the deadline came). Long checks look at it
        between steps, wait with :meth:`sleep`, and pass it to probes, so an abandoned check stops
        within moments instead of living on in the warm container.
    first_called_at
        Wall-clock (epoch) seconds of the hook's first call: this one, or the first of a hook that
        continues across calls (see :mod:`trafficgate.continuation`).
    wait_until
        The latest epoch second this hook may continue until (ECS: ``IN_PROGRESS``; CodeDeploy: the
        function invokes itself), or None when it must decide in this call. See :meth:`can_wait_until`.
    resumed
        The state the running check left when it last asked to wait (:meth:`CheckResult.wait`);
        None on its first run. The runner sets it for that check only.
    empty_plan_reason
        Why the plan chosen for this call has no checks, when that is a decision and not a gap
        (an ECS call between production steps); the verdict says it instead of "no checks in plan".
    """

    hook: Hook
    deployment_id: str
    execution_id: str
    settings: Settings
    aws: AwsClients
    deadline: float
    on_progress: Callable[[str, int, int], None] | None = None
    cache: dict[str, Any] = field(default_factory=dict, repr=False)
    _deployment: Deployment | None = field(default=None, repr=False)
    _ecs_targets: tuple[dict[str, Any], ...] | None = field(default=None, repr=False)
    _deployment_error: CheckError | None = field(default=None, repr=False)
    _sessions: dict[str, TargetSession] = field(default_factory=dict, repr=False)
    time_after_s: float = 0.0
    platform: Literal["codedeploy", "ecs"] = "codedeploy"
    test_traffic_shifted: bool = False
    ecs_stage: EcsStage | None = None
    production_traffic_weights: Mapping[str, float] = field(default_factory=dict)
    target_revision_arn: str | None = None
    cancelled: threading.Event = field(default_factory=threading.Event, repr=False)
    first_called_at: float = field(default_factory=time.time)
    wait_until: float | None = None
    resumed: Mapping[str, Any] | None = None
    empty_plan_reason: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def resumed_time(self, key: str) -> float | None:
        """An epoch-seconds value the running check left in its waiting state (``since``, a bake's
        start), or None on its first run or when the state holds no number there."""
        value = self.resumed.get(key) if self.resumed else None
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
        return None

    def can_wait_until(self, when: float) -> bool:
        """Whether a check may answer :meth:`CheckResult.wait` to run again at epoch second ``when``."""
        return self.wait_until is not None and when <= self.wait_until

    def deployment(self) -> Deployment:
        """The deployment discovered from its id (topology cached per container, task sets fresh).

        A discovery that failed fails the same way for every later check of this invocation,
        without asking AWS again: six BeforeInstall checks must not each spend their time re-reading
        an AppSpec that S3 would not give (boto3 has already retried what was worth retrying).
        """
        if self._deployment is None:
            if self._deployment_error is not None:
                raise type(self._deployment_error)(str(self._deployment_error))
            try:
                if self.platform == "ecs":
                    self._deployment = discover_service_deployment(
                        self.deployment_id, self.aws, test_traffic_shifted=self.test_traffic_shifted
                    )
                    return self._deployment
                topology = discover(
                    self.deployment_id, self.aws, with_task_sets=False, appspec_buckets=self.settings.appspec_buckets
                )
                self._deployment = dataclasses.replace(topology, task_sets=task_sets_of(self.ecs_targets()))
            except CheckError as exc:
                self._deployment_error = exc
                raise
        return self._deployment

    def forget_errors(self) -> None:
        """Forget the reads that failed (discovery, task definitions), so that a retry asks AWS again.

        The runner calls it before a check's next attempt: a policy's ``retries`` exist for errors
        that may pass, and a remembered error would only be repeated.
        """
        self._deployment_error = None
        for key in [k for k, v in self.cache.items() if isinstance(v, CheckError)]:
            del self.cache[key]

    def ecs_targets(self) -> tuple[dict[str, Any], ...]:
        """CodeDeploy's deployment targets (``ecsTarget``), read once per invocation: live state.

        The task sets of :meth:`deployment` and the :meth:`lifecycle_events` come from this one read.
        """
        if self._ecs_targets is None:
            # ECS native deployments have no CodeDeploy targets: no task sets, no lifecycle events.
            self._ecs_targets = () if self.platform == "ecs" else read_ecs_targets(self.deployment_id, self.aws)
        return self._ecs_targets

    def read_task_sets(self) -> tuple[TaskSet, ...]:
        """The deployment's task sets as they are now, read again (a check that waits for them polls this).

        ECS native: the service deployment's revisions, GREEN the target one.
        """
        if self.platform == "ecs":
            green = self.deployment().green
            return read_revision_task_sets(
                self.deployment_id, self.aws, green.target_group if green is not None else None
            )
        return read_task_sets(self.deployment_id, self.aws)

    def lifecycle_events(self) -> tuple[LifecycleEvent, ...]:
        """The deployment's lifecycle events and their status, as read by :meth:`ecs_targets`."""
        return lifecycle_events_of(self.ecs_targets())

    def appspec(self) -> AppSpec:
        """The deployment's AppSpec: task definition, container name and port.

        Raises
        ------
        CheckError
            The revision carries no AppSpec content, so there is no task definition to judge.
        """
        appspec = self.deployment().appspec
        if appspec is None:
            raise CheckError(
                f"deployment {self.deployment_id} carries no AppSpec content; "
                "cannot tell which task definition it deploys"
            )
        return appspec

    def task_definition(self) -> dict[str, Any]:
        """The AppSpec's task definition (``DescribeTaskDefinition``), described once per invocation.

        The answer, or the error, is kept in :attr:`cache`, so the BeforeInstall checks make one
        call between them and each reports the same error.

        Raises
        ------
        TaskDefinitionNotFound
            ECS does not know the task definition.
        CheckError
            It could not be described (access denied, throttled beyond retries, ...).
        """
        arn = self.appspec().task_definition_arn
        key = f"ecs.task_definition:{arn}"
        if key not in self.cache:
            try:
                self.cache[key] = describe_task_definition(self.aws, arn)
            except CheckError as exc:
                self.cache[key] = exc
        cached = self.cache[key]
        if isinstance(cached, CheckError):
            raise type(cached)(str(cached))
        definition: dict[str, Any] = cached
        return definition

    def ecs_service(self) -> dict[str, Any] | None:
        """The deployment's ECS service as ``DescribeServices`` answers it, read once per invocation.

        None when the deployment names no service, or ECS knows neither the cluster nor the
        service (nothing runs there yet). The checks that judge the service's settings (network
        configuration, health-check grace period) share this one read.

        Raises
        ------
        CheckError
            The service could not be described (access denied, throttled beyond retries, ...).
        """
        key = "ecs.service"
        if key not in self.cache:
            deployment = self.deployment()
            found: dict[str, Any] | CheckError | None = None
            if deployment.cluster and deployment.service:
                try:
                    answer = self.aws.client("ecs").describe_services(
                        cluster=deployment.cluster, services=[deployment.service]
                    )
                    services = answer.get("services") or []
                    found = dict(services[0]) if services else None
                except AWS_ERRORS as exc:
                    if error_code(exc) != "ClusterNotFoundException":
                        found = read_error(f"service {deployment.service} of cluster {deployment.cluster}", exc)
            self.cache[key] = found
        cached = self.cache[key]
        if isinstance(cached, CheckError):
            raise type(cached)(str(cached))
        service: dict[str, Any] | None = cached
        return service

    def green_production_percent(self) -> float | None:
        """ECS native: the share of production green's revision has at this call, from the event alone.

        None on CodeDeploy, or when the event gives no weights or no target revision.
        """
        if not self.target_revision_arn or not self.production_traffic_weights:
            return None
        return float(self.production_traffic_weights.get(self.target_revision_arn, 0.0))

    def task_network(self) -> TaskNetwork | None:
        """The tasks' awsvpc network: the AppSpec's, else the ECS service's (one read, shared).

        None when neither names subnets or security groups (a ``bridge`` or ``host`` task, or
        nothing deployed yet).

        Raises
        ------
        CheckError
            The service could not be described.
        """
        appspec = self.deployment().appspec
        found = appspec_network(appspec.raw) if appspec is not None else None
        if found is not None:
            return found
        service = self.ecs_service()
        return None if service is None else service_network(service, str(self.deployment().service))

    def base_url(self, listener: ListenerRole) -> str | None:
        """Base URL of the test or production listener: the operator's override, else discovered.

        None when the deployment group has no such listener.
        """
        override = self.settings.test_url if listener == "test" else self.settings.prod_url
        if override:
            return override
        found = self.deployment().listener(listener)
        return None if found is None else found.base_url

    def probe_spec(self, listener: ListenerRole, spec: ProbeSpec | None = None) -> ProbeSpec:
        """The probe settings for ``listener``: ``spec`` (the operator's by default), and on a discovered
        HTTPS listener the name its certificate serves as Host and TLS name.

        The load balancer's DNS name never matches its certificate: the probe asks for the first
        name of the listener's ACM certificate that is not a wildcard, unless the operator set a Host
        header or a URL.

        Raises
        ------
        CheckError
            The certificate covers only wildcards, or its names are unknown: the message asks for
            ``TRAFFICGATE_HOST_HEADER``. Verification stays on.
        """
        spec = spec or self.settings.probe
        override = self.settings.test_url if listener == "test" else self.settings.prod_url
        if override:
            return spec
        found = self.deployment().listener(listener)
        if found is not None and found.rule_arn is not None:
            spec = self._satisfy_rule(listener, found, spec)
        if spec.host_header is not None or found is None or not found.https:
            return spec
        host = found.tls_host
        if host is None:
            why = found.certificate_problem or f"its certificate covers only {', '.join(found.tls_names) or 'no name'}"
            raise CheckError(
                f"the {listener} listener {found.arn} is HTTPS and {why}: set {env.HOST_HEADER} "
                "(or host_header in the plan) to a name the certificate serves"
            )
        return dataclasses.replace(spec, host_header=host if found.port == 443 else f"{host}:{found.port}")

    @staticmethod
    def _satisfy_rule(listener: ListenerRole, found: Listener, spec: ProbeSpec) -> ProbeSpec:
        """ECS native: the probe sends what the listener rule asks (Host, headers), or says why it cannot."""
        if not found.path_allowed(spec.path):
            raise CheckError(
                f"the probe path {spec.path.split('?', 1)[0]!r} does not match the {listener} listener rule "
                f"{found.rule_arn}'s path patterns ({', '.join(found.rule_paths)}), so its requests would not "
                f"reach the service: set {env.PROBE_PATH} (or path in the plan) to a path the rule routes"
            )
        changes: dict[str, Any] = {}
        if found.rule_host and spec.host_header is None:
            changes["host_header"] = found.rule_host
        missing = {name: value for name, value in found.rule_headers if name.lower() not in {
            key.lower() for key in spec.headers
        }}
        if missing:
            changes["headers"] = {**spec.headers, **missing}
        return dataclasses.replace(spec, **changes) if changes else spec

    def auth_headers(self) -> Mapping[str, str]:
        """The probe's secret request headers (``TRAFFICGATE_AUTH_SECRET_ARN``); empty when none.

        Raises
        ------
        CheckError
            The secret cannot be read or has the wrong shape (the message never holds a value).
        """
        headers = auth_headers(self.settings.auth_secret_arn, self.aws)
        # Known from now on to every masker of the container: logs, summaries, probe samples.
        redaction.register(headers.values())
        return headers

    def http(self, listener: ListenerRole) -> TargetSession:
        """A ready HTTP session on a listener, for custom checks: ``ctx.http("test").get("/orders")``.

        It carries the operator's TLS, Host and timeout settings and the auth secret's headers.
        One session per listener and invocation; the runner closes them when the plan is done.

        Raises
        ------
        CheckError
            When the deployment group has no such listener.
        """
        with self._lock:
            session = self._sessions.get(listener)
        if session is not None:
            return session
        base = self.base_url(listener)
        if base is None:
            raise CheckError(f"deployment group has no {listener} listener")
        from trafficgate.probe.transport import TargetSession  # requests only when a check asks for it

        probe = self.probe_spec(listener)
        spec = dataclasses.replace(probe, headers={**probe.headers, **self.auth_headers()})
        candidate = TargetSession(spec, base)
        with self._lock:
            session = self._sessions.setdefault(listener, candidate)
        if session is not candidate:  # another thread of this invocation was first
            candidate.close()
        return session

    def progress(self, check_id: str) -> Callable[[int, int], None] | None:
        """A ``(done, total)`` callback for long-running checks, when someone is watching."""
        callback = self.on_progress
        if callback is None:
            return None
        return lambda done, total: callback(check_id, done, total)

    def remaining_s(self) -> float:
        """Seconds left before :attr:`deadline` (never negative; none once cancelled)."""
        if self.cancelled.is_set():
            return 0.0
        return max(0.0, self.deadline - time.monotonic())

    def sleep(self, seconds: float) -> bool:
        """Wait up to ``seconds`` (never past the deadline); False when cancelled meanwhile."""
        self.cancelled.wait(max(0.0, min(seconds, self.remaining_s())))
        return not self.cancelled.is_set()

    def cancel(self) -> None:
        """Call the checks off: the hook has reported without them (its deadline came)."""
        self.cancelled.set()
        with self._lock:
            sessions = list(self._sessions.values())
        for session in sessions:
            session.cancel()

    def close(self) -> None:
        """Close what the checks of this invocation opened (the ``http()`` sessions)."""
        with self._lock:
            sessions = list(self._sessions.values())
            self._sessions.clear()
        for session in sessions:
            session.close()
