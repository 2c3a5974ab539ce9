"""Security group rules, matched: does a set of groups let TCP on a port through, to or from a peer?

Layer L1 (discovery): pure, on ``DescribeSecurityGroups`` answers already read. Shared by
``ec2.security_groups`` (the load balancer to the tasks) and ``network.vpc_endpoints`` (the tasks
to their interface endpoints on 443).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Judgement", "describe_rule", "judge_direction"]

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
