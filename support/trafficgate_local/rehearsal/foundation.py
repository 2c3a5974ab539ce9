"""What a rehearsal's service stands on, for both platforms: network, security groups, images and roles.

:func:`build_foundation` creates in the stand-in what a production ECS service on Fargate needs
before its first task starts, as a team following the ECS blue/green guide would have it:

- a VPC of two **private** subnets (the main route table has no default route; DNS hostnames
  on, as private DNS needs) with the VPC endpoints the tasks need instead of a NAT gateway: ECR
  ``api`` and ``dkr``, CloudWatch Logs (interface endpoints with private DNS, in a group that
  admits HTTPS from the tasks' group) and S3 (a gateway endpoint on the main route table);
- an internal load balancer in those subnets with its own security group, open on the listener
  ports;
- the tasks' security group, which lets the load balancer's group in on the container port;
- a private ECR repository with blue's and green's images, each scanned clean;
- the task's log group, and the task execution role, allowed to pull from that repository and to
  write to that log group;
- the blue and green target groups, blue's app registered in the blue one.

Two scenarios break one piece, as the guide's troubleshooting list describes them:

- ``blocked-sg``: the tasks' group lets the load balancer in on port 443 only, so health checks
  to the container port would time out (``ec2.security_groups`` names the missing rule);
- ``no-pull-role``: the execution role may pull only from another team's repository, so the
  new tasks would stop with ``CannotPullContainerError`` (``iam.execution_role`` names the
  action it lacks).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trafficgate_local.standin import set_scan_findings

if TYPE_CHECKING:
    from mypy_boto3_ecs import ECSClient
    from mypy_boto3_elbv2 import ElasticLoadBalancingv2Client

    from trafficgate_local.rehearsal.topology import Clients

__all__ = [
    "ACCOUNT",
    "BLOCKED_PORT",
    "BLUE_TARGET_GROUP",
    "CONTAINER",
    "CONTAINER_PORT",
    "EXECUTION_ROLE",
    "GREEN_TARGET_GROUP",
    "HEALTH_CHECK_GRACE_S",
    "OTHER_REPOSITORY",
    "REPOSITORY",
    "Foundation",
    "build_foundation",
    "register_task_definition",
]

ACCOUNT = "123456789012"
CONTAINER = "web"
CONTAINER_PORT = 8080
BLUE_TARGET_GROUP = "trafficgate-blue"
GREEN_TARGET_GROUP = "trafficgate-green"
#: The private ECR repository of the service's images (tags ``blue`` and ``green``).
REPOSITORY = "trafficgate-rehearsal"
#: The repository the ``no-pull-role`` scenario's execution role may pull from instead.
OTHER_REPOSITORY = "another-team-app"
EXECUTION_ROLE = "trafficgate-rehearsal-execution"
#: The service's ``healthCheckGracePeriodSeconds``: covers the target group's default health
#: checks (interval 30 s x healthy threshold 5), as ``elb.health_check_config`` asks.
HEALTH_CHECK_GRACE_S = 180
#: The only port the ``blocked-sg`` scenario's task group opens to the load balancer.
BLOCKED_PORT = 443
LOG_GROUP = "/ecs/trafficgate-rehearsal"
#: Endpoint services (after ``com.amazonaws.<region>.``) the private subnets get as interfaces.
INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "logs")
#: The listeners are open to the world (the load balancer's own group), as a public ALB is.
ANYWHERE = "0.0.0.0/0"


@dataclass(frozen=True)
class Foundation:
    """What :func:`build_foundation` made."""

    vpc: str
    subnets: tuple[str, ...]
    load_balancer: dict[str, Any]
    lb_security_group: str
    task_security_group: str
    blue_tg: str
    green_tg: str
    execution_role_arn: str
    #: ``<account>.dkr.ecr.<region>.amazonaws.com/trafficgate-rehearsal`` (add ``:blue`` or ``:green``).
    repository_uri: str

    def service_network(self) -> dict[str, Any]:
        """The service's ``networkConfiguration`` (CreateService)."""
        return {
            "awsvpcConfiguration": {
                "subnets": list(self.subnets),
                "securityGroups": [self.task_security_group],
                "assignPublicIp": "DISABLED",
            }
        }

    def appspec_network(self) -> dict[str, Any]:
        """The AppSpec's ``NetworkConfiguration`` of the same tasks."""
        return {
            "AwsvpcConfiguration": {
                "Subnets": list(self.subnets),
                "SecurityGroups": [self.task_security_group],
                "AssignPublicIp": "DISABLED",
            }
        }

    def task_definition(self, ecs: ECSClient, container_port: int, *, tag: str, region: str) -> str:
        """Register the service's task definition for image ``tag``, mapping ``container_port``; return its ARN."""
        return register_task_definition(
            ecs,
            container_port,
            image=f"{self.repository_uri}:{tag}",
            execution_role_arn=self.execution_role_arn,
            region=region,
        )


def build_foundation(
    clients: Clients,
    region: str,
    blue: tuple[str, int],
    *,
    second_octet: int,
    scenario: str,
    listener_ports: tuple[int, ...],
) -> Foundation:
    """Build the network, security groups, load balancer, target groups, images and execution role.

    Parameters
    ----------
    clients : Clients
        Pointed at the stand-in.
    region : str
        Subnets go into its zones ``a`` and ``b``; endpoints and images are in it.
    blue : tuple of (str, int)
        Address of the blue app, registered in the blue target group.
    second_octet : int
        The VPC is ``10.<second_octet>.0.0/16``.
    scenario : str
        ``blocked-sg`` and ``no-pull-role`` break their piece; every other scenario gets it right.
    listener_ports : tuple of int
        The ports the load balancer's group opens to the world.
    """
    ec2, elbv2 = clients.ec2, clients.elbv2
    vpc = ec2.create_vpc(CidrBlock=f"10.{second_octet}.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnets = tuple(
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{second_octet}.{i}.0/24", AvailabilityZone=f"{region}{z}")[
            "Subnet"
        ]["SubnetId"]
        for i, z in ((1, "a"), (2, "b"))
    )
    lb_sg, task_sg = _security_groups(ec2, vpc, scenario, listener_ports)
    _endpoints(ec2, region, vpc, subnets, task_sg)
    # Internal: the subnets have no internet gateway, and an internet-facing balancer needs one.
    lb = elbv2.create_load_balancer(
        Name="trafficgate-rehearsal", Subnets=list(subnets), SecurityGroups=[lb_sg], Scheme="internal"
    )["LoadBalancers"][0]
    blue_tg = _target_group(elbv2, BLUE_TARGET_GROUP, vpc)
    green_tg = _target_group(elbv2, GREEN_TARGET_GROUP, vpc)
    elbv2.register_targets(TargetGroupArn=blue_tg, Targets=[{"Id": blue[0], "Port": blue[1]}])
    repository_uri = _images(clients, region)
    return Foundation(
        vpc=vpc,
        subnets=subnets,
        load_balancer=dict(lb),
        lb_security_group=lb_sg,
        task_security_group=task_sg,
        blue_tg=blue_tg,
        green_tg=green_tg,
        execution_role_arn=_execution_role(clients, region, scenario),
        repository_uri=repository_uri,
    )


def register_task_definition(
    ecs: ECSClient, container_port: int, *, image: str, execution_role_arn: str, region: str
) -> str:
    """Register the rehearsal's Fargate task definition: one container, awslogs, pulled with the role."""
    arn: str = ecs.register_task_definition(
        family="trafficgate-rehearsal",
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
        executionRoleArn=execution_role_arn,
        containerDefinitions=[
            {
                "name": CONTAINER,
                "image": image,
                "essential": True,
                "portMappings": [{"containerPort": container_port, "protocol": "tcp"}],
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {"awslogs-group": LOG_GROUP, "awslogs-region": region, "awslogs-stream-prefix": "web"},
                },
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    return arn


def _endpoints(ec2: Any, region: str, vpc: str, subnets: tuple[str, ...], task_sg: str) -> None:
    """What private subnets need instead of a NAT gateway to pull images and ship logs."""
    [main] = ec2.describe_route_tables(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "association.main", "Values": ["true"]}]
    )["RouteTables"]
    # Not the VPC's default group, which would admit only its own members.
    endpoint_sg = ec2.create_security_group(
        GroupName="trafficgate-rehearsal-endpoints", Description="Rehearsal VPC endpoints", VpcId=vpc
    )["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=endpoint_sg,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "UserIdGroupPairs": [{"GroupId": task_sg}]}
        ],
    )
    for service in INTERFACE_ENDPOINTS:
        ec2.create_vpc_endpoint(
            VpcId=vpc,
            ServiceName=f"com.amazonaws.{region}.{service}",
            VpcEndpointType="Interface",
            SubnetIds=list(subnets),
            SecurityGroupIds=[endpoint_sg],
            PrivateDnsEnabled=True,
        )
    ec2.create_vpc_endpoint(
        VpcId=vpc,
        ServiceName=f"com.amazonaws.{region}.s3",
        VpcEndpointType="Gateway",
        RouteTableIds=[main["RouteTableId"]],
    )


def _security_groups(ec2: Any, vpc: str, scenario: str, listener_ports: tuple[int, ...]) -> tuple[str, str]:
    """The load balancer's group (listeners open) and the tasks' group (the load balancer let in)."""
    lb_sg = ec2.create_security_group(
        GroupName="trafficgate-rehearsal-alb", Description="Rehearsal load balancer", VpcId=vpc
    )["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=lb_sg,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": ANYWHERE}]}
            for port in listener_ports
        ],
    )
    task_sg = ec2.create_security_group(
        GroupName="trafficgate-rehearsal-tasks", Description="Rehearsal tasks", VpcId=vpc
    )["GroupId"]
    # "blocked-sg": the rule a copy-paste from another service leaves behind, on the wrong port.
    port = BLOCKED_PORT if scenario == "blocked-sg" else CONTAINER_PORT
    ec2.authorize_security_group_ingress(
        GroupId=task_sg,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "UserIdGroupPairs": [{"GroupId": lb_sg}]}
        ],
    )
    return lb_sg, task_sg


def _target_group(elbv2: ElasticLoadBalancingv2Client, name: str, vpc: str) -> str:
    arn: str = elbv2.create_target_group(Name=name, Protocol="HTTP", Port=CONTAINER_PORT, VpcId=vpc, TargetType="ip")[
        "TargetGroups"
    ][0]["TargetGroupArn"]
    return arn


def _images(clients: Clients, region: str) -> str:
    """Push blue's and green's images to the service's repository, each scanned clean; return its URI."""
    ecr = clients.ecr
    repository = ecr.create_repository(repositoryName=REPOSITORY, imageScanningConfiguration={"scanOnPush": True})[
        "repository"
    ]
    for tag in ("blue", "green"):
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": 1,
                "digest": "sha256:" + f"{tag}".encode().hex().ljust(64, "0"),
            },
            "layers": [],
        }
        ecr.put_image(repositoryName=REPOSITORY, imageManifest=json.dumps(manifest), imageTag=tag)
        set_scan_findings(region, REPOSITORY, tag, [])
    return str(repository["repositoryUri"])


def _execution_role(clients: Clients, region: str, scenario: str) -> str:
    """The task execution role: pulls from the service's repository and writes its logs."""
    clients.logs.create_log_group(logGroupName=LOG_GROUP)
    iam = clients.iam
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    arn = str(iam.create_role(RoleName=EXECUTION_ROLE, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])
    # "no-pull-role": scoped to another team's repository, as a role copied from that service is.
    pulls_from = OTHER_REPOSITORY if scenario == "no-pull-role" else REPOSITORY
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
                "Resource": f"arn:aws:ecr:{region}:{ACCOUNT}:repository/{pulls_from}",
            },
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{LOG_GROUP}:*",
            },
        ],
    }
    iam.put_role_policy(RoleName=EXECUTION_ROLE, PolicyName="pull-and-log", PolicyDocument=json.dumps(policy))
    return arn
