"""BeforeInstall: tasks in subnets without internet egress have the VPC endpoints they need (``network.vpc_endpoints``).

Layer L2 (a check). Informational by default: the built-in entry is a dry run
(:data:`BUILTIN_POLICY`), reported and never blocking; a plan entry without ``dry_run`` enforces
it. Reads ``ec2:DescribeSubnets``, ``ec2:DescribeRouteTables``,
``ec2:DescribeVpcEndpoints`` and, when the AppSpec carries no network configuration,
``ecs:DescribeServices``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trafficgate.aws import AWS_ERRORS, read_error
from trafficgate.checks.base import Check, CheckResult
from trafficgate.discovery import containers
from trafficgate.discovery.images import ecr_images
from trafficgate.discovery.secrets import secret_uses
from trafficgate.discovery.security_rules import judge_direction
from trafficgate.policy import Policy

if TYPE_CHECKING:
    from trafficgate.context import CheckContext

VPC_ENDPOINTS_CHECK_ID = "network.vpc_endpoints"
#: The built-in entry's policy: reported, never blocking (a plan entry enforces it).
BUILTIN_POLICY = Policy(dry_run=True)
_DEFAULT_ROUTE = "0.0.0.0/0"
#: Interface endpoints answer on HTTPS.
HTTPS_PORT = 443
#: Rules shown in a reason as what was seen.
MAX_RULES_SHOWN = 4
# Endpoints in these states serve no traffic.
_DEAD_STATES = frozenset({"deleting", "deleted", "failed", "rejected", "expired"})
# Route targets other than a NAT or internet gateway that may carry a default route somewhere
# (a transit gateway, a NAT instance, a firewall); not judged: their far side is unknown here.
_OTHER_TARGETS = ("TransitGatewayId", "InstanceId", "NetworkInterfaceId", "VpcPeeringConnectionId", "CoreNetworkArn")


def route_table_of(subnet: str, vpc: str, tables: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The route table a subnet uses: its explicit association, else its VPC's main table."""
    main = None
    for table in tables:
        for association in table.get("Associations") or []:
            if association.get("SubnetId") == subnet:
                return table
            if association.get("Main") and table.get("VpcId") == vpc:
                main = table
    return main


def egress(table: Mapping[str, Any] | None, *, public_ip: bool) -> str | None:
    """How a subnet reaches the internet through ``table``: ``nat-…``, ``igw-…``, another target, or None.

    An internet gateway counts only for tasks with a public IP (``assignPublicIp`` ENABLED).
    """
    for route in (table or {}).get("Routes") or []:
        if route.get("DestinationCidrBlock") != _DEFAULT_ROUTE or route.get("State") == "blackhole":
            continue
        nat = str(route.get("NatGatewayId") or "")
        gateway = str(route.get("GatewayId") or "")
        if nat.startswith("nat-"):
            return nat
        if gateway.startswith("igw-") and public_ip:
            return gateway
        for key in _OTHER_TARGETS:
            if route.get(key):
                return str(route[key])
    return None


def needed_endpoints(definition: Mapping[str, Any], region: str) -> tuple[dict[str, str], list[str]]:
    """Endpoint service name → what needs it; and images no endpoint can serve (outside ECR)."""
    needed: dict[str, str] = {}
    uses, others = ecr_images(definition)
    if uses:
        needed[f"com.amazonaws.{region}.ecr.api"] = "image pulls"
        needed[f"com.amazonaws.{region}.ecr.dkr"] = "image pulls"
        needed[f"com.amazonaws.{region}.s3"] = "image layers"
    for container in containers(definition):
        if (container.get("logConfiguration") or {}).get("logDriver") == "awslogs":
            needed.setdefault(f"com.amazonaws.{region}.logs", "awslogs logging")
    # repositoryCredentials too: ECS reads a private registry's login from Secrets Manager.
    for use in secret_uses(definition):
        kind = use.reference().kind if use.value_from else "unknown"
        if kind in ("secretsmanager", "ssm"):
            needed.setdefault(f"com.amazonaws.{region}.{kind}", "secrets")
    return needed, [str(o["image"]) for o in others]


@dataclass(kw_only=True)
class VpcEndpoints(Check):
    """Tasks in subnets with no route to a NAT or internet gateway have the VPC endpoints they need.

    A subnet uses its explicitly associated route table, else its VPC's main table. A default
    route (``0.0.0.0/0``) to a NAT gateway is egress; to an internet gateway, only when the tasks
    get a public IP; to a transit gateway, an instance or an interface, it is taken as egress (not
    judged further). For the others, the VPC must have ``ecr.api`` and ``ecr.dkr`` (ECR images),
    ``s3`` (a gateway endpoint on the subnet's route table, or an interface endpoint), ``logs``
    (awslogs driver), ``secretsmanager`` or ``ssm`` (secrets). An image outside ECR cannot be
    pulled there at all.

    An interface endpoint serves the tasks only when its private DNS is on (the tasks call the
    service's usual name) and its security groups admit TCP 443 from the tasks' security groups
    or from the subnet's CIDR. An endpoint created without groups has its VPC's default group,
    which admits only its own members: the classic ``CannotPullContainerError`` in a private
    subnet. The tasks' own egress to the endpoints is not judged (the default rule allows it).
    Missing or unusable endpoints fail the check; the built-in entry runs it as a dry run
    (:data:`BUILTIN_POLICY`), so they are reported and never block unless a plan lists it.
    """

    check_id: str = VPC_ENDPOINTS_CHECK_ID

    def run(self, ctx: CheckContext) -> CheckResult:
        network = ctx.task_network()
        if network is None or not network.subnets:
            where = "the AppSpec or on the service" if network is None else network.source
            note = f"no awsvpc subnets in {where}: endpoints not judged"
            return CheckResult.passed(note, value=None, threshold="endpoints for isolated subnets", warnings=(note,))
        definition = ctx.task_definition()
        ec2 = ctx.aws.client("ec2")
        region = str(ec2.meta.region_name)
        try:
            subnets = ec2.describe_subnets(SubnetIds=list(network.subnets))["Subnets"]
            vpcs = sorted({str(s["VpcId"]) for s in subnets})
            tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": vpcs}])["RouteTables"]
            endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": vpcs}])["VpcEndpoints"]
        except AWS_ERRORS as exc:
            raise read_error(f"the network of subnets {', '.join(network.subnets)}", exc) from None
        needed, foreign = needed_endpoints(definition, region)
        missing: list[str] = []
        warnings: list[str] = []
        routes: dict[str, str | None] = {}
        # The endpoints' security groups, read once and only when a subnet has no egress.
        groups: dict[str, Mapping[str, Any]] | None = None
        for subnet in subnets:
            subnet_id, vpc = str(subnet["SubnetId"]), str(subnet["VpcId"])
            table = route_table_of(subnet_id, vpc, tables)
            routes[subnet_id] = egress(table, public_ip=network.public_ip)
            if routes[subnet_id] is not None:
                continue
            table_id = str((table or {}).get("RouteTableId") or "")
            where = f"subnet {subnet_id} has no route to a NAT or internet gateway and VPC {vpc}"
            cidr = str(subnet.get("CidrBlock") or "")
            for service, why in needed.items():
                endpoint = _endpoint(endpoints, vpc, service, table_id)
                if endpoint is None:
                    missing.append(f"{where} has no endpoint {service} ({why})")
                    continue
                if groups is None:
                    groups = _endpoint_groups(ctx, endpoints, needed)
                problem, warning = _unusable(endpoint, groups, network.security_groups, subnet_id, cidr)
                if problem:
                    missing.append(f"{where}: endpoint {endpoint.get('VpcEndpointId')} ({service}) {problem}")
                if warning:
                    warnings.append(f"endpoint {endpoint.get('VpcEndpointId')} ({service}) {warning}")
            missing.extend(
                f"{where} cannot pull image {image}: it is not in ECR (no endpoint serves it)" for image in foreign
            )
        details = {"network": network.source, "egress": routes, "needed": needed, "missing": missing}
        value = {"isolated_subnets": sum(1 for r in routes.values() if r is None), "missing": len(missing)}
        warnings = list(dict.fromkeys(warnings))
        if missing:
            return CheckResult.failed(
                f"{'; '.join(missing)}; expected egress or these endpoints",
                value=value,
                threshold=0,
                details=details,
                warnings=tuple(warnings),
            )
        isolated = value["isolated_subnets"]
        reason = (
            f"{isolated} subnet(s) without egress have every endpoint the task needs"
            if isolated
            else f"every subnet of the tasks ({', '.join(network.subnets)}) has egress"
        )
        return CheckResult.passed(reason, value=value, threshold=0, details=details, warnings=tuple(warnings))


def _endpoint(
    endpoints: Sequence[Mapping[str, Any]], vpc: str, service: str, table_id: str
) -> Mapping[str, Any] | None:
    """The live endpoint of ``service`` that serves a subnet using route table ``table_id``, if any."""
    for endpoint in endpoints:
        if endpoint.get("VpcId") != vpc or endpoint.get("ServiceName") != service:
            continue
        if str(endpoint.get("State") or "").lower() in _DEAD_STATES:
            continue
        # A gateway endpoint (S3) serves only the route tables it is attached to.
        if str(endpoint.get("VpcEndpointType") or "") == "Gateway" and table_id not in (
            endpoint.get("RouteTableIds") or []
        ):
            continue
        return endpoint
    return None


def _unusable(
    endpoint: Mapping[str, Any],
    groups: Mapping[str, Mapping[str, Any]],
    task_groups: Sequence[str],
    subnet_id: str,
    cidr: str,
) -> tuple[str | None, str | None]:
    """Why an interface endpoint cannot serve the tasks of one subnet (a problem), or may not (a warning)."""
    if str(endpoint.get("VpcEndpointType") or "") != "Interface":
        return None, None
    if endpoint.get("PrivateDnsEnabled") is False:
        return "has private DNS off: the tasks resolve the service's public name, which they cannot reach", None
    listed = [str(g.get("GroupId")) for g in endpoint.get("Groups") or []]
    own = {group_id: groups[group_id] for group_id in listed if groups.get(group_id)}
    if not own:
        return None, "security groups unknown (none listed, or not readable): tcp/443 from the tasks not judged"
    judgement = judge_direction(
        own, direction="ingress", port=HTTPS_PORT, peer_groups=task_groups, peer_cidrs=[cidr] if cidr else []
    )
    if judgement.state == "ok":
        return None, None
    peers = ", ".join([*task_groups, f"subnet {subnet_id} ({cidr})"])
    if judgement.state == "unknown":
        lists = ", ".join(judgement.prefix_lists)
        return None, f"allows tcp/{HTTPS_PORT} from prefix list(s) {lists} only; from {peers} not judged"
    seen = "; ".join(judgement.seen[:MAX_RULES_SHOWN]) or "none"
    return f"admits no tcp/{HTTPS_PORT} from the tasks ({peers}) (seen ingress: {seen})", None


def _endpoint_groups(
    ctx: CheckContext, endpoints: Sequence[Mapping[str, Any]], needed: Mapping[str, str]
) -> dict[str, Mapping[str, Any]]:
    """The security groups of the needed interface endpoints, by id (one DescribeSecurityGroups)."""
    ids = sorted(
        {
            str(g.get("GroupId"))
            for e in endpoints
            if e.get("ServiceName") in needed and e.get("VpcEndpointType") == "Interface"
            for g in e.get("Groups") or []
        }
    )
    found: dict[str, Mapping[str, Any]] = {group_id: {} for group_id in ids}
    if not ids:
        return found
    try:
        for group in ctx.aws.client("ec2").describe_security_groups(GroupIds=ids)["SecurityGroups"]:
            found[str(group["GroupId"])] = group
    except AWS_ERRORS as exc:
        raise read_error(f"the endpoints' security groups {', '.join(ids)}", exc) from None
    return found
