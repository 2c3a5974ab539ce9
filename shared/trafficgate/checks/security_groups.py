"""BeforeInstall: the load balancer can reach the tasks through their security groups (``ec2.security_groups``).

Layer L2 (a check). The rule matching is pure
(:func:`trafficgate.discovery.security_rules.judge_direction`), tested on its own; the check
reads the groups, the subnets and the load balancer with ``ec2:DescribeSecurityGroups``,
``ec2:DescribeSubnets``, ``elasticloadbalancing:DescribeLoadBalancers`` and, when the AppSpec
gives no network configuration, ``ecs:DescribeServices``.

A blocked security group is the classic "targets never become healthy" deployment: the tasks run,
the load balancer's health checks time out, and CodeDeploy rolls back after its timeout. Before
Install it can be seen in the rules themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trafficgate.aws import AWS_ERRORS, error_code, read_error
from trafficgate.checks.base import Check, CheckError, CheckResult
from trafficgate.discovery.security_rules import Judgement, judge_direction

if TYPE_CHECKING:
    from trafficgate.context import CheckContext

SECURITY_GROUPS_CHECK_ID = "ec2.security_groups"
#: Rules shown in a reason as what was seen (the rest are counted).
MAX_RULES_SHOWN = 4


@dataclass(kw_only=True)
class SecurityGroupsAllowLoadBalancer(Check):
    """The tasks' security groups let the load balancer in on the container port, and the load
    balancer's let it out to them.

    The tasks' groups and subnets are the AppSpec's ``NetworkConfiguration.AwsvpcConfiguration``,
    else the ECS service's ``networkConfiguration``. The load balancer is the one behind the
    deployment's listeners (else the green target group's). Ingress must allow TCP on the
    AppSpec's container port (a rule for all traffic, or a port range covering it, counts) from one
    of the load balancer's groups, or from CIDRs covering its subnets; the load balancer's groups
    must allow egress to one of the tasks' groups or to CIDRs covering the tasks' subnets (the
    default egress rule, all traffic to 0.0.0.0/0, does). A load balancer without security groups
    (a Network Load Balancer may have none) is judged by its subnets' CIDRs, with no egress rule.
    Rules naming a prefix list cannot be resolved: when nothing else allows the traffic the check is
    inconclusive and names them. A task definition whose network mode is not ``awsvpc`` uses its
    container instances' groups, which this check does not judge.
    """

    check_id: str = SECURITY_GROUPS_CHECK_ID

    def run(self, ctx: CheckContext) -> CheckResult:
        appspec = ctx.appspec()
        port = appspec.container_port
        network = ctx.task_network()
        if network is None or not network.security_groups:
            mode = str(ctx.task_definition().get("networkMode") or "bridge")
            deployment = ctx.deployment()
            if mode != "awsvpc":
                why = f"network mode {mode}: the tasks use their container instances' security groups"
            elif network is not None:
                why = (
                    f"the awsvpc configuration of {network.source} names no security groups: the tasks get "
                    "their VPC's default group, which this check does not read"
                )
            else:
                why = (
                    f"no awsvpc network configuration in the AppSpec or on service {deployment.service or '?'}: "
                    "the tasks' security groups are unknown"
                )
            note = f"{why}; not judged (expected awsvpc subnets and security groups)"
            return CheckResult.passed(note, value=None, threshold=f"tcp/{port}", warnings=(note,))
        balancer = self._load_balancer(ctx)
        lb_name = str(balancer.get("LoadBalancerName") or balancer.get("LoadBalancerArn"))
        lb_groups = tuple(str(g) for g in balancer.get("SecurityGroups") or [])
        lb_subnets = tuple(
            str(z["SubnetId"]) for z in balancer.get("AvailabilityZones") or [] if z.get("SubnetId")
        )
        groups, missing_groups = _security_groups(ctx, [*network.security_groups, *lb_groups])
        if missing_groups:
            owners = [
                f"{g} ({'tasks' if g in network.security_groups else f'load balancer {lb_name}'})"
                for g in missing_groups
            ]
            return CheckResult.failed(
                f"security group(s) not found: {', '.join(owners)}; expected every group of the tasks "
                f"({network.source}) and of the load balancer to exist",
                value=list(missing_groups),
                threshold="existing security groups",
            )
        cidrs = _subnet_cidrs(ctx, [*lb_subnets, *network.subnets])
        lb_cidrs = [cidrs[s] for s in lb_subnets if s in cidrs]
        task_cidrs = [cidrs[s] for s in network.subnets if s in cidrs]
        task_groups = {g: groups[g] for g in network.security_groups}
        ingress = judge_direction(
            task_groups, direction="ingress", port=port, peer_groups=lb_groups, peer_cidrs=lb_cidrs
        )
        egress = (
            judge_direction(
                {g: groups[g] for g in lb_groups},
                direction="egress",
                port=port,
                peer_groups=network.security_groups,
                peer_cidrs=task_cidrs,
            )
            if lb_groups
            else None
        )
        tasks = ", ".join(network.security_groups)
        lb_side = (
            f"{', '.join(lb_groups)} (load balancer {lb_name})"
            if lb_groups
            else f"the subnets of load balancer {lb_name} ({', '.join(lb_cidrs) or 'unknown CIDRs'})"
        )
        plural = len(network.security_groups) > 1
        problems: list[str] = []
        unknown: list[str] = []
        if ingress.state == "missing":
            problems.append(
                f"{tasks} (tasks) {'have' if plural else 'has'} no ingress from {lb_side} on tcp/{port}"
                + _partly(ingress)
                + _seen(ingress, "ingress")
            )
        elif ingress.state == "unknown":
            unknown.append(
                f"{tasks} (tasks) allow tcp/{port} from prefix list(s) {', '.join(ingress.prefix_lists)} only, "
                f"which this check cannot resolve; expected ingress from {lb_side}"
            )
        if egress is not None and egress.state == "missing":
            problems.append(
                f"{', '.join(lb_groups)} (load balancer {lb_name}) {'have' if len(lb_groups) > 1 else 'has'} "
                f"no egress to {tasks} (tasks) on tcp/{port}" + _partly(egress)
                + _seen(egress, "egress")
            )
        elif egress is not None and egress.state == "unknown":
            unknown.append(
                f"{', '.join(lb_groups)} (load balancer {lb_name}) allow tcp/{port} to prefix list(s) "
                f"{', '.join(egress.prefix_lists)} only, which this check cannot resolve; expected egress to {tasks}"
            )
        details: dict[str, Any] = {
            "port": port,
            "network_source": network.source,
            "task_security_groups": list(network.security_groups),
            "task_subnet_cidrs": task_cidrs,
            "load_balancer": lb_name,
            "load_balancer_security_groups": list(lb_groups),
            "load_balancer_subnet_cidrs": lb_cidrs,
            "ingress": {"state": ingress.state, "matched": list(ingress.matched), "seen": list(ingress.seen)},
        }
        if egress is not None:
            details["egress"] = {"state": egress.state, "matched": list(egress.matched), "seen": list(egress.seen)}
        value = {"ingress": ingress.state, "egress": egress.state if egress is not None else "not applicable"}
        threshold = f"tcp/{port} from the load balancer to the tasks"
        if problems:
            return CheckResult.failed("; ".join(problems + unknown), value=value, threshold=threshold, details=details)
        if unknown:
            return CheckResult.inconclusive("; ".join(unknown), value=value, threshold=threshold, details=details)
        out = (
            f", and {', '.join(lb_groups)} allow{'' if len(lb_groups) > 1 else 's'} egress to them"
            if egress is not None
            else " (the load balancer has no security groups: no egress rule to judge)"
        )
        return CheckResult.passed(
            f"{tasks} (tasks, from {network.source}) allow{'' if plural else 's'} ingress from {lb_side} "
            f"on tcp/{port}{out}",
            value=value,
            threshold=threshold,
            details=details,
        )

    @staticmethod
    def _load_balancer(ctx: CheckContext) -> Mapping[str, Any]:
        deployment = ctx.deployment()
        listeners = (*deployment.prod_listeners, *deployment.test_listeners)
        arns = list(dict.fromkeys(listener.load_balancer_arn for listener in listeners))
        elbv2 = ctx.aws.client("elbv2")
        try:
            if not arns:
                group = deployment.green_target_group()
                found = elbv2.describe_target_groups(TargetGroupArns=[group.arn])["TargetGroups"]
                arns = list(found[0].get("LoadBalancerArns") or []) if found else []
            if not arns:
                raise CheckError(
                    f"deployment {ctx.deployment_id}: no listener or target group names a load balancer, "
                    "so there is no security group to judge the tasks' ingress against"
                )
            balancers = elbv2.describe_load_balancers(LoadBalancerArns=arns[:1])["LoadBalancers"]
        except AWS_ERRORS as exc:
            raise read_error("the deployment's load balancer", exc) from None
        if not balancers:
            raise CheckError(f"load balancer {arns[0]} not found")
        balancer: Mapping[str, Any] = balancers[0]
        return balancer


def _partly(judgement: Judgement) -> str:
    """When CIDR rules cover some of the peer's subnets: which ones they leave out."""
    if not judgement.partial or not judgement.uncovered:
        return ""
    return f" (no rule covers {', '.join(judgement.uncovered)})"


def _seen(judgement: Judgement, direction: str) -> str:
    rules = list(judgement.seen)
    if not rules:
        return f"; its {direction} rules: none"
    shown = "; ".join(rules[:MAX_RULES_SHOWN])
    more = f"; and {len(rules) - MAX_RULES_SHOWN} more" if len(rules) > MAX_RULES_SHOWN else ""
    return f" (seen {direction}: {shown}{more})"


def _security_groups(ctx: CheckContext, ids: Sequence[str]) -> tuple[dict[str, Mapping[str, Any]], list[str]]:
    """Group id → group, and the ids EC2 does not know (asked one by one once a batch says NotFound)."""
    unique = list(dict.fromkeys(ids))
    ec2 = ctx.aws.client("ec2")
    try:
        found = ec2.describe_security_groups(GroupIds=unique)["SecurityGroups"]
        return {str(g["GroupId"]): g for g in found}, []
    except AWS_ERRORS as exc:
        if not error_code(exc).startswith("InvalidGroup"):
            raise read_error(f"security groups {', '.join(unique)}", exc) from None
    groups: dict[str, Mapping[str, Any]] = {}
    missing: list[str] = []
    for group_id in unique:
        try:
            for group in ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"]:
                groups[str(group["GroupId"])] = group
        except AWS_ERRORS as exc:
            if not error_code(exc).startswith("InvalidGroup"):
                raise read_error(f"security group {group_id}", exc) from None
            missing.append(group_id)
    return groups, missing


def _subnet_cidrs(ctx: CheckContext, subnet_ids: Sequence[str]) -> dict[str, str]:
    unique = list(dict.fromkeys(subnet_ids))
    if not unique:
        return {}
    try:
        subnets = ctx.aws.client("ec2").describe_subnets(SubnetIds=unique)["Subnets"]
    except AWS_ERRORS as exc:
        raise read_error(f"subnets {', '.join(unique)}", exc) from None
    return {str(s["SubnetId"]): str(s["CidrBlock"]) for s in subnets if s.get("CidrBlock")}
