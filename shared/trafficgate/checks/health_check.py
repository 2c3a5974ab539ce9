"""BeforeInstall: the green target group's health check can judge the new tasks (``elb.health_check_config``).

Layer L2 (a check). The judgement is pure (:func:`judge_health_check`), tested on its own; the
check reads the target group (``elasticloadbalancing:DescribeTargetGroups``) and the service's
grace period (``ecs:DescribeServices``).

A health check that cannot reach the container, or a matcher that refuses what the health path
answers, leaves every green target unhealthy: CodeDeploy waits, then rolls back. A grace period
shorter than the time a target needs to become healthy lets ECS replace tasks that were only
starting. Each is visible in the configuration before Install.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trafficgate.aws import AWS_ERRORS, read_error
from trafficgate.checks.base import Check, CheckResult
from trafficgate.discovery import containers
from trafficgate.probe.spec import StatusSet

if TYPE_CHECKING:
    from trafficgate.context import CheckContext

HEALTH_CHECK_CONFIG_CHECK_ID = "elb.health_check_config"
#: ``HealthCheckPort`` meaning "the port the target was registered with" (the container port).
TRAFFIC_PORT = "traffic-port"
_TLS = frozenset({"HTTPS", "TLS"})
_HTTP = frozenset({"HTTP", "HTTPS"})


@dataclass(frozen=True, kw_only=True)
class ServiceGrace:
    """The service's ``healthCheckGracePeriodSeconds`` (None: unset, ECS uses 0) and its name."""

    name: str
    seconds: int | None


@dataclass(frozen=True, kw_only=True)
class HealthCheckJudgement:
    """What :func:`judge_health_check` found: each mismatch named, notes, and a summary when none."""

    mismatches: tuple[str, ...]
    warnings: tuple[str, ...]
    summary: str
    value: dict[str, Any]


def describe_codes(codes: Iterable[int]) -> str:
    """``200,302-304`` for a set of status codes (ranges where they run on)."""
    ordered = sorted(set(codes))
    if not ordered:
        return "none"
    return str(StatusSet.parse(",".join(str(c) for c in ordered)))


def judge_health_check(
    group: Mapping[str, Any],
    *,
    container: str,
    container_port: int,
    mapped_ports: Iterable[int] = (),
    expected_status: StatusSet,
    grace: ServiceGrace | None,
    require_grace_period: bool = False,
) -> HealthCheckJudgement:
    """Judge a target group's health check against the container it must reach.

    Parameters
    ----------
    group
        The target group as DescribeTargetGroups returns it.
    container, container_port
        The AppSpec's container and port: what the targets are.
    mapped_ports
        Every TCP port the task definition maps (a health check on another mapped port, such as a
        management port, reaches the task too).
    expected_status
        The codes the health check path answers with when healthy: the matcher must accept each.
    grace
        The service's grace period; None when the service is unknown (then not judged).
    require_grace_period
        Whether a service without a grace period (ECS uses 0) fails, rather than warns.

    Returns
    -------
    HealthCheckJudgement
        One mismatch per rule broken, e.g. ``health check port 80 is neither traffic-port nor ...``.
    """
    name = str(group.get("TargetGroupName") or group.get("TargetGroupArn") or "?")
    protocol = str(group.get("Protocol") or "").upper()
    hc_protocol = str(group.get("HealthCheckProtocol") or protocol).upper()
    hc_port = str(group.get("HealthCheckPort") or TRAFFIC_PORT)
    path = str(group.get("HealthCheckPath") or "/")
    interval = int(group.get("HealthCheckIntervalSeconds") or 30)
    healthy = int(group.get("HealthyThresholdCount") or 5)
    matcher_text = str((group.get("Matcher") or {}).get("HttpCode") or "")
    grpc = str(group.get("ProtocolVersion") or "").upper() == "GRPC"
    mismatches: list[str] = []
    warnings: list[str] = []
    value: dict[str, Any] = {
        "target_group": name,
        "protocol": protocol,
        "health_check_protocol": hc_protocol,
        "health_check_port": hc_port,
        "health_check_path": path,
        "matcher": matcher_text or None,
        "interval_s": interval,
        "healthy_threshold": healthy,
        "grace_period_s": None if grace is None else grace.seconds,
    }
    if group.get("HealthCheckEnabled") is False:
        mismatches.append(f"health checks are disabled on green target group {name}; expected them enabled")
    # Port: the traffic port is the container port the targets were registered with.
    on_traffic_port = hc_port == TRAFFIC_PORT or hc_port == str(container_port)
    if not on_traffic_port:
        mapped = sorted(set(mapped_ports))
        if not hc_port.isdigit() or int(hc_port) not in mapped:
            mismatches.append(
                f"health check port {hc_port} is neither {TRAFFIC_PORT} nor the container port "
                f"{container_port} ({container}) nor a port the task definition maps "
                f"({', '.join(str(p) for p in mapped) or 'none'})"
            )
    # Protocol: on the traffic port, the health check must speak what the container speaks there.
    http_on_traffic_port = on_traffic_port and hc_protocol in _HTTP and protocol in _HTTP | _TLS
    if http_on_traffic_port and (hc_protocol in _TLS) != (protocol in _TLS):
        mismatches.append(
            f"health check protocol {hc_protocol} does not match the target group's protocol {protocol} on the "
            f"traffic port {container_port}; expected {'HTTPS' if protocol in _TLS else 'HTTP'}"
        )
    # Matcher: every code the health path answers with must count as healthy.
    if hc_protocol in _HTTP and not grpc:
        try:
            matcher = StatusSet.parse(matcher_text or "200")
        except ValueError:
            mismatches.append(
                f"matcher {matcher_text!r} is not a list of codes and ranges such as 200, 200-299 or 200,302"
            )
        else:
            refused = [code for code in expected_status if code not in matcher]
            if refused:
                mismatches.append(
                    f"matcher {matcher_text or '200'} does not accept {describe_codes(refused)}, which the health "
                    f"check path {path} answers (expected status {expected_status})"
                )
    elif grpc:
        warnings.append(f"gRPC health check (matcher {(group.get('Matcher') or {}).get('GrpcCode')}): codes not judged")
    # Grace period: ECS must not judge a task before the load balancer could call it healthy.
    needed = interval * healthy
    rule = f"interval {interval} s x healthy threshold {healthy} = {needed} s"
    if grace is None:
        warnings.append(f"the service is unknown: its health check grace period is not judged (needs >= {rule})")
    elif not grace.seconds:
        message = f"service {grace.name} sets no healthCheckGracePeriodSeconds (0 s) < {rule}"
        if require_grace_period:
            mismatches.append(message)
        else:
            warnings.append(message + " (require_grace_period makes this fail)")
    elif grace.seconds < needed:
        mismatches.append(f"service {grace.name} healthCheckGracePeriodSeconds {grace.seconds} s < {rule}")
    where = f"{hc_protocol} {hc_port}{path}"
    grace_text = (
        "grace period not judged"
        if grace is None
        else f"service {grace.name} grace period {grace.seconds or 0} s"
        + (f" >= {rule}" if grace.seconds and grace.seconds >= needed else f" (needs >= {needed} s)")
    )
    summary = (
        f"green target group {name}: health check {where} reaches container {container}:{container_port}"
        + ("" if grpc or hc_protocol not in _HTTP else f", matcher {matcher_text or '200'} accepts {expected_status}")
        + f"; {grace_text}"
    )
    return HealthCheckJudgement(
        mismatches=tuple(mismatches), warnings=tuple(warnings), summary=summary, value=value
    )


@dataclass(kw_only=True)
class HealthCheckConfigured(Check):
    """The green target group's health check can reach the container, its matcher accepts what the
    health path answers, and the service's grace period covers the time to become healthy.

    Judged (see :func:`judge_health_check`): health checks enabled; ``HealthCheckPort`` is
    ``traffic-port``, the container port or another port the task definition maps; on the traffic
    port, ``HealthCheckProtocol`` HTTP or HTTPS as the target group's own protocol; the matcher's
    ``HttpCode`` (``200``, ``200-299``, ``200,302``) accepts every expected status; and the service's
    ``healthCheckGracePeriodSeconds`` is at least ``HealthCheckIntervalSeconds`` x
    ``HealthyThresholdCount``. A grace period set too short fails; a service with none (ECS uses 0)
    warns unless ``require_grace_period``.

    Parameters
    ----------
    expected_status
        Codes the health check path answers with when healthy; ``TRAFFICGATE_HEALTH_CHECK_STATUS``
        (default 200) when omitted.
    require_grace_period
        Fail, rather than warn, when the service sets no health check grace period.
    """

    check_id: str = HEALTH_CHECK_CONFIG_CHECK_ID
    expected_status: StatusSet | None = None
    require_grace_period: bool = False

    def run(self, ctx: CheckContext) -> CheckResult:
        appspec = ctx.appspec()
        deployment = ctx.deployment()
        target_group = deployment.green_target_group()
        try:
            found = ctx.aws.client("elbv2").describe_target_groups(TargetGroupArns=[target_group.arn])
        except AWS_ERRORS as exc:
            raise read_error(f"green target group {target_group.name}", exc) from None
        groups = found.get("TargetGroups") or []
        if not groups:
            return CheckResult.failed(
                f"green target group {target_group.name} not found; expected the deployment group's second group",
                value=None,
                threshold=target_group.name,
            )
        mapped = [
            int(m["containerPort"])
            for c in containers(ctx.task_definition())
            for m in c.get("portMappings") or []
            if isinstance(m, dict) and m.get("containerPort") is not None
            and str(m.get("protocol") or "tcp").lower() == "tcp"
        ]
        judgement = judge_health_check(
            groups[0],
            container=appspec.container_name,
            container_port=appspec.container_port,
            mapped_ports=mapped,
            expected_status=self.expected_status or ctx.settings.health_check_status,
            grace=self._grace(ctx),
            require_grace_period=self.require_grace_period,
        )
        threshold = "health check reaches the container, matcher accepts, grace period >= interval x threshold"
        if judgement.mismatches:
            return CheckResult.failed(
                f"green target group {target_group.name}: {'; '.join(judgement.mismatches)}",
                value=judgement.value,
                threshold=threshold,
                details={"mismatches": list(judgement.mismatches)},
                warnings=judgement.warnings,
            )
        return CheckResult.passed(
            judgement.summary, value=judgement.value, threshold=threshold, warnings=judgement.warnings
        )

    @staticmethod
    def _grace(ctx: CheckContext) -> ServiceGrace | None:
        service = ctx.ecs_service()
        if service is None:
            return None
        seconds = service.get("healthCheckGracePeriodSeconds")
        name = str(ctx.deployment().service)
        return ServiceGrace(name=name, seconds=None if seconds is None else int(seconds))
