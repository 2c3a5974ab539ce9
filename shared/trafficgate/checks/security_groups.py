"""BeforeInstall: the load balancer can reach the tasks through their security groups (``ec2.security_groups``).

Layer L2 (a check). The rule matching is pure (:func:`judge_direction`), tested on its own; the
check reads the groups, the subnets and the load balancer with ``ec2:DescribeSecurityGroups``,
``ec2:DescribeSubnets``, ``elasticloadbalancing:DescribeLoadBalancers`` and, when the AppSpec
gives no network configuration, ``ecs:DescribeServices``.

A blocked security group is the classic "targets never become healthy" deployment: the tasks run,
the load balancer's health checks time out, and CodeDeploy rolls back after its timeout. Before
Install it can be seen in the rules themselves.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from trafficgate.aws import AWS_ERRORS, error_code, read_error
from trafficgate.checks.base import Check, CheckError, CheckResult

if TYPE_CHECKING:
    from trafficgate.context import CheckContext

SECURITY_GROUPS_CHECK_ID = "ec2.security_groups"
#: Rules shown in a reason as what was seen (the rest are counted).
MAX_RULES_SHOWN = 4
#: ``IpProtocol`` values that carry TCP: by name, by number, or every protocol.
_TCP = frozenset({"tcp", "6"})
_ALL = frozenset({"-1", "all"})

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, kw_only=True)
class Judgement:
    """What :func:`judge_direction` found: ``ok``, ``unknown`` (only prefix lists could allow it) or ``missing``."""

    state: Literal["ok", "unknown", "missing"]
    #: The rules that allow it (``sg-1 tcp/8080 from sg-2``), when ok.
    matched: tuple[str, ...] = ()
    #: Prefix lists of rules on the port, which this check cannot resolve.
    prefix_lists: tuple[str, ...] = ()
    #: The peer CIDRs no rule covers.
    uncovered: tuple[str, ...] = ()
    #: Every rule of the groups in this direction, described (what was seen).
    seen: tuple[str, ...] = field(default_factory=tuple)
    #: Whether CIDR rules on the port cover part of the peer's subnets (then ``uncovered`` says which not).
    partial: bool = False


def _covers_port(permission: Mapping[str, Any], port: int) -> bool:
    protocol = str(permission.get("IpProtocol", "")).lower()
    if protocol in _ALL:
        return True
    if protocol not in _TCP:
        return False
    low, high = permission.get("FromPort"), permission.get("ToPort")
    if low is None or high is None or int(low) == -1:
        return True
    return int(low) <= port <= int(high)


def describe_rule(group: str, permission: Mapping[str, Any], direction: Literal["ingress", "egress"]) -> str:
    """``sg-1 tcp/8080 from sg-2, 10.0.0.0/16`` for a reason: the ports and the peers of one rule."""
    protocol = str(permission.get("IpProtocol", "")).lower()
    if protocol in _ALL:
        ports = "all traffic"
    else:
        low, high = permission.get("FromPort"), permission.get("ToPort")
        name = "tcp" if protocol in _TCP else "udp" if protocol in {"udp", "17"} else f"protocol {protocol}"
        ports = f"{name}/{low}" if low == high else f"{name}/{low}-{high}"
    peers = [str(p.get("GroupId")) for p in permission.get("UserIdGroupPairs") or []]
    peers += [str(r.get("CidrIp")) for r in permission.get("IpRanges") or []]
    peers += [str(r.get("CidrIpv6")) for r in permission.get("Ipv6Ranges") or []]
    peers += [str(p.get("PrefixListId")) for p in permission.get("PrefixListIds") or []]
    word = "from" if direction == "ingress" else "to"
    return f"{group} {ports} {word} {', '.join(peers) or 'nothing'}"


def judge_direction(
    groups: Mapping[str, Mapping[str, Any]],
    *,
    direction: Literal["ingress", "egress"],
    port: int,
    peer_groups: Iterable[str],
    peer_cidrs: Iterable[str],
) -> Judgement:
    """Whether the rules of ``groups`` (one direction) let TCP ``port`` through to or from the peer.

    Security group rules add up: any rule of any of the groups may allow it. A rule allows it when
    its protocol is TCP (or all traffic) with a port range covering ``port``, and its peer is one of
    ``peer_groups`` or its CIDRs together cover every one of ``peer_cidrs`` (the peer's subnets).
    A rule whose peer is a prefix list cannot be resolved here: if nothing else allows it, the
    judgement is ``unknown``, never ``ok``.

    Parameters
    ----------
    groups
        Security group id → the group as DescribeSecurityGroups returns it.
    peer_groups, peer_cidrs
        The other side: its security groups and the CIDRs of its subnets.
    """
    key = "IpPermissions" if direction == "ingress" else "IpPermissionsEgress"
    wanted_groups = set(peer_groups)
    peers = [ipaddress.ip_network(c, strict=False) for c in peer_cidrs]
    matched: list[str] = []
    prefix_lists: list[str] = []
    seen: list[str] = []
    ranges: list[Network] = []
    cidr_rules: list[str] = []
    for group_id, group in groups.items():
        for permission in group.get(key) or []:
            seen.append(describe_rule(group_id, permission, direction))
            if not _covers_port(permission, port):
                continue
            if any(p.get("GroupId") in wanted_groups for p in permission.get("UserIdGroupPairs") or []):
                matched.append(describe_rule(group_id, permission, direction))
            own = [ipaddress.ip_network(str(r["CidrIp"]), strict=False) for r in permission.get("IpRanges") or []]
            own += [
                ipaddress.ip_network(str(r["CidrIpv6"]), strict=False) for r in permission.get("Ipv6Ranges") or []
            ]
            if own:
                ranges.extend(own)
                cidr_rules.append(describe_rule(group_id, permission, direction))
            prefix_lists.extend(str(p.get("PrefixListId")) for p in permission.get("PrefixListIds") or [])
    uncovered = [str(p) for p in peers if not any(_within(p, r) for r in ranges)]
    if matched:
        return Judgement(state="ok", matched=tuple(matched), seen=tuple(seen))
    if peers and not uncovered:
        return Judgement(state="ok", matched=tuple(cidr_rules), seen=tuple(seen))
    if prefix_lists:
        return Judgement(
            state="unknown",
            prefix_lists=tuple(dict.fromkeys(prefix_lists)),
            uncovered=tuple(uncovered),
            seen=tuple(seen),
        )
    return Judgement(state="missing", uncovered=tuple(uncovered), seen=tuple(seen), partial=bool(cidr_rules))


def _within(inner: Network, outer: Network) -> bool:
    return inner.version == outer.version and inner.subnet_of(outer)  # type: ignore[arg-type]


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
