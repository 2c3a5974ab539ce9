"""The AWS side of a rehearsal, built in the stand-in: what a real ECS blue/green deployment stands on.

:func:`build_topology` creates the :mod:`.foundation` (a private VPC with its endpoints, the
load balancer's and the tasks' security groups, the blue and green target groups, the images
and the execution role), a production and a test listener, an ECS cluster and service
(CodeDeploy controller, awsvpc) with the blue task definition, the green task definition the
deployment installs, and a CodeDeploy application, deployment group and deployment whose
AppSpec names the hook functions and the tasks' network. The conductor then drives that
deployment through the returned :class:`Topology`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3

from trafficgate_local.rehearsal.foundation import (
    BLUE_TARGET_GROUP,
    CONTAINER,
    CONTAINER_PORT,
    GREEN_TARGET_GROUP,
    HEALTH_CHECK_GRACE_S,
    build_foundation,
)
from trafficgate_local.standin import add_task
from trafficgate_local.standin.appspec import ecs_revision

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_codedeploy import CodeDeployClient
    from mypy_boto3_ecr import ECRClient
    from mypy_boto3_ecs import ECSClient
    from mypy_boto3_elbv2 import ElasticLoadBalancingv2Client
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_logs import CloudWatchLogsClient

    from trafficgate_local.standin import StandIn

__all__ = [
    "APPLICATION",
    "BLUE_TARGET_GROUP",
    "BLUE_TASK_SET",
    "CLUSTER",
    "CONTAINER",
    "CONTAINER_PORT",
    "DEPLOYMENT_GROUP",
    "DESIRED_COUNT",
    "GREEN_TARGET_GROUP",
    "SERVICE",
    "WRONG_CONTAINER_PORT",
    "Clients",
    "Topology",
    "add_out_of_memory_task",
    "build_topology",
    "create_green_task_set",
    "task_set",
]

APPLICATION = "trafficgate-rehearsal"
DEPLOYMENT_GROUP = "trafficgate-rehearsal-dg"
CLUSTER = "trafficgate-rehearsal"
SERVICE = "web"
#: The container port the ``bad-port`` scenario's task definition maps instead of CONTAINER_PORT.
WRONG_CONTAINER_PORT = 80
DESIRED_COUNT = 2
#: The original (blue) task set of the service.
BLUE_TASK_SET = "ecs-svc/blue"


@dataclass(frozen=True)
class Clients:
    """boto3 clients of the services a rehearsal uses, all pointed at the stand-in."""

    ec2: Any
    elbv2: ElasticLoadBalancingv2Client
    ecs: ECSClient
    codedeploy: CodeDeployClient
    cloudwatch: CloudWatchClient
    iam: IAMClient
    ecr: ECRClient
    logs: CloudWatchLogsClient
    kms: KMSClient

    @classmethod
    def connect(cls, endpoint_url: str, region: str) -> Clients:
        """Create the clients for ``region`` at the stand-in's ``endpoint_url``."""
        session = boto3.session.Session(region_name=region)
        return cls(
            ec2=session.client("ec2", endpoint_url=endpoint_url),
            elbv2=session.client("elbv2", endpoint_url=endpoint_url),
            ecs=session.client("ecs", endpoint_url=endpoint_url),
            codedeploy=session.client("codedeploy", endpoint_url=endpoint_url),
            cloudwatch=session.client("cloudwatch", endpoint_url=endpoint_url),
            iam=session.client("iam", endpoint_url=endpoint_url),
            ecr=session.client("ecr", endpoint_url=endpoint_url),
            logs=session.client("logs", endpoint_url=endpoint_url),
            kms=session.client("kms", endpoint_url=endpoint_url),
        )


@dataclass(frozen=True)
class Topology:
    """What :func:`build_topology` made: the names and ARNs the conductor drives the deployment with."""

    dns_name: str
    load_balancer_arn: str
    blue_tg: str
    green_tg: str
    prod_listener: str
    test_listener: str
    #: The task definition the deployment installs (green's).
    task_definition: str
    deployment_id: str

    def target_group_names(self) -> dict[str, str]:
        """Target group ARN → name, for both target groups."""
        return {self.blue_tg: BLUE_TARGET_GROUP, self.green_tg: GREEN_TARGET_GROUP}


def task_set(
    identifier: str, label: str, running: int, weight: float, tg: str, desired: int = DESIRED_COUNT
) -> dict[str, Any]:
    """Return a task set as :meth:`~trafficgate_local.standin.StandIn.set_task_sets` takes it.

    Parameters
    ----------
    identifier : str
        Task set id.
    label : str
        ``Blue`` (the PRIMARY set) or ``Green``.
    running : int
        Running tasks; the rest of ``desired`` are pending.
    weight : float
        Percentage of production traffic.
    tg : str
        Name of its target group.
    desired : int
        Desired tasks.
    """
    return {
        "identifier": identifier,
        "label": label,
        "desired_count": desired,
        "pending_count": max(0, desired - running),
        "running_count": running,
        "status": "PRIMARY" if label == "Blue" else "ACTIVE",
        "traffic_weight": weight,
        "target_group_name": tg,
    }


def build_topology(
    clients: Clients,
    stand_in: StandIn,
    *,
    region: str,
    scenario: str,
    deployment_config: str,
    blue: tuple[str, int],
    prod_port: int,
    test_port: int,
    hook_functions: Mapping[str, str],
) -> Topology:
    """Build the deployment in the stand-in, with blue serving both listeners.

    Parameters
    ----------
    clients : Clients
        Pointed at the stand-in.
    stand_in : StandIn
        The stand-in's control API, to give the deployment its blue task set.
    region : str
        Subnets go into its zones ``a`` and ``b``.
    scenario : str
        ``bad-port`` makes the green task definition map :data:`WRONG_CONTAINER_PORT`;
        ``blocked-sg`` and ``no-pull-role`` break the :mod:`.foundation`.
    deployment_config : str
        The deployment group's and the deployment's config.
    blue : tuple of (str, int)
        Address of the blue app, registered in the blue target group.
    prod_port, test_port : int
        Ports of the production and test listeners.
    hook_functions : mapping
        Lifecycle event → function name, for the AppSpec's ``Hooks``.

    Returns
    -------
    Topology
    """
    elbv2, ecs, codedeploy = clients.elbv2, clients.ecs, clients.codedeploy
    base = build_foundation(
        clients, region, blue, second_octet=42, scenario=scenario, listener_ports=(prod_port, test_port)
    )
    lb, blue_tg, green_tg = base.load_balancer, base.blue_tg, base.green_tg
    prod_listener = _listener(elbv2, lb["LoadBalancerArn"], prod_port, blue_tg)
    test_listener = _listener(elbv2, lb["LoadBalancerArn"], test_port, blue_tg)

    ecs.create_cluster(clusterName=CLUSTER)
    blue_def = base.task_definition(ecs, CONTAINER_PORT, tag="blue", region=region)
    ecs.create_service(
        cluster=CLUSTER,
        serviceName=SERVICE,
        taskDefinition=blue_def,
        desiredCount=DESIRED_COUNT,
        deploymentController={"type": "CODE_DEPLOY"},
        launchType="FARGATE",
        networkConfiguration=base.service_network(),
        healthCheckGracePeriodSeconds=HEALTH_CHECK_GRACE_S,
        loadBalancers=[{"targetGroupArn": blue_tg, "containerName": CONTAINER, "containerPort": CONTAINER_PORT}],
    )
    # The new revision the deployment installs; "bad-port" maps the wrong container port.
    green_port = WRONG_CONTAINER_PORT if scenario == "bad-port" else CONTAINER_PORT
    task_def = base.task_definition(ecs, green_port, tag="green", region=region)

    codedeploy.create_application(applicationName=APPLICATION, computePlatform="ECS")
    codedeploy.create_deployment_group(
        applicationName=APPLICATION,
        deploymentGroupName=DEPLOYMENT_GROUP,
        deploymentConfigName=deployment_config,
        serviceRoleArn="arn:aws:iam::123456789012:role/trafficgate-codedeploy",
        deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        blueGreenDeploymentConfiguration={
            "terminateBlueInstancesOnDeploymentSuccess": {"action": "TERMINATE", "terminationWaitTimeInMinutes": 5},
            "deploymentReadyOption": {"actionOnTimeout": "CONTINUE_DEPLOYMENT"},
        },
        ecsServices=[{"clusterName": CLUSTER, "serviceName": SERVICE}],
        loadBalancerInfo={
            "targetGroupPairInfoList": [
                {
                    "targetGroups": [{"name": BLUE_TARGET_GROUP}, {"name": GREEN_TARGET_GROUP}],
                    "prodTrafficRoute": {"listenerArns": [prod_listener]},
                    "testTrafficRoute": {"listenerArns": [test_listener]},
                }
            ]
        },
    )
    deployment_id = codedeploy.create_deployment(
        applicationName=APPLICATION,
        deploymentGroupName=DEPLOYMENT_GROUP,
        deploymentConfigName=deployment_config,
        revision=ecs_revision(
            task_def, CONTAINER, CONTAINER_PORT, hooks=hook_functions, network=base.appspec_network()
        ),
    )["deploymentId"]
    stand_in.set_task_sets(deployment_id, [task_set(BLUE_TASK_SET, "Blue", DESIRED_COUNT, 100.0, BLUE_TARGET_GROUP)])
    return Topology(
        dns_name=lb["DNSName"],
        load_balancer_arn=lb["LoadBalancerArn"],
        blue_tg=blue_tg,
        green_tg=green_tg,
        prod_listener=prod_listener,
        test_listener=test_listener,
        task_definition=task_def,
        deployment_id=deployment_id,
    )


def create_green_task_set(ecs: ECSClient, topology: Topology) -> str:
    """Create the replacement (green) task set of the service, as Install does; return its id."""
    task_set_info = ecs.create_task_set(
        cluster=CLUSTER,
        service=SERVICE,
        taskDefinition=topology.task_definition,
        loadBalancers=[
            {"targetGroupArn": topology.green_tg, "containerName": CONTAINER, "containerPort": CONTAINER_PORT}
        ],
        launchType="FARGATE",
    )["taskSet"]
    return task_set_info.get("id") or "ecs-svc/green"


def add_out_of_memory_task(region: str, topology: Topology, task_set_id: str) -> None:
    """Add a stopped task to the replacement task set, as ECS reports one killed for running out of memory."""
    add_task(
        region,
        CLUSTER,
        topology.task_definition,
        task_set_id,
        last_status="STOPPED",
        stopped_reason="Essential container in task exited",
        container_reason="OutOfMemoryError: Container killed due to memory usage",
        stop_code="EssentialContainerExited",
        exit_code=137,
    )


def production_weights(elbv2: ElasticLoadBalancingv2Client, topology: Topology) -> dict[str, int]:
    """Return where the production listener sends traffic: target group name → percent."""
    listener = elbv2.describe_listeners(ListenerArns=[topology.prod_listener])["Listeners"][0]
    names = topology.target_group_names()
    weights: dict[str, int] = {}
    for action in listener.get("DefaultActions", []):
        groups = (action.get("ForwardConfig") or {}).get("TargetGroups") or (
            [{"TargetGroupArn": action["TargetGroupArn"], "Weight": 1}] if action.get("TargetGroupArn") else []
        )
        total = sum(int(g.get("Weight", 1)) for g in groups) or 1
        for g in groups:
            weights[names.get(g["TargetGroupArn"], g["TargetGroupArn"])] = round(100 * int(g.get("Weight", 1)) / total)
    return weights


def _listener(elbv2: ElasticLoadBalancingv2Client, lb_arn: str, port: int, target_group: str) -> str:
    arn: str = elbv2.create_listener(
        LoadBalancerArn=lb_arn,
        Protocol="HTTP",
        Port=port,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": target_group}],
    )["Listeners"][0]["ListenerArn"]
    return arn
