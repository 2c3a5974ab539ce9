"""The AWS side of an ECS-native rehearsal, built in the stand-in: a BLUE_GREEN (LINEAR, CANARY) service.

:func:`build_ecs_topology` creates what :mod:`.topology` creates for CodeDeploy (the
:mod:`.foundation`, a production and a test listener, the blue and green task definitions), but
the listeners route by *rules*, as ECS blue/green needs: each listener's default action answers
404, and a rule with a host-header condition forwards to blue. The service has the ECS
deployment controller, the strategy of ``--config``, ``loadBalancers[].advancedConfiguration``
naming the alternate (green) target group and both rules, and a lifecycle hook naming the
EcsLifecycleHook function for every stage. Updating it to the green task definition starts the
service deployment the conductor then plays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trafficgate.hooks import EcsStage
from trafficgate_local.rehearsal.ecs_config import EcsStrategy
from trafficgate_local.rehearsal.foundation import HEALTH_CHECK_GRACE_S, build_foundation
from trafficgate_local.rehearsal.topology import (
    BLUE_TARGET_GROUP,
    CLUSTER,
    CONTAINER,
    CONTAINER_PORT,
    DESIRED_COUNT,
    GREEN_TARGET_GROUP,
    SERVICE,
    WRONG_CONTAINER_PORT,
    Clients,
)

if TYPE_CHECKING:
    from mypy_boto3_elbv2 import ElasticLoadBalancingv2Client

__all__ = ["ACCOUNT", "HOST", "EcsTopology", "build_ecs_topology", "forward", "rule_weights", "weights_by_revision"]

ACCOUNT = "123456789012"
#: The host-header condition of both listener rules: the probes (discovery reads the condition) and
#: the simulated users send it, as they would to a real ALB rule.
HOST = "web.trafficgate.test"
#: ELBv2 forward weights are whole numbers (0..999): percent times 10 keeps a 0.5 % canary exact.
WEIGHT_SCALE = 10
_RULE_PRIORITY = 10


@dataclass(frozen=True)
class EcsTopology:
    """What :func:`build_ecs_topology` made: the ARNs the conductor drives the service deployment with."""

    dns_name: str
    load_balancer_arn: str
    blue_tg: str
    green_tg: str
    prod_listener: str
    test_listener: str
    prod_rule: str
    test_rule: str
    #: The green task definition, the target revision's.
    task_definition: str
    #: The service deployment's ARN (the hooks' ``resourceArn``).
    deployment_id: str
    service_arn: str
    target_revision_arn: str
    source_revision_arns: tuple[str, ...]
    function_arn: str

    def target_group_names(self) -> dict[str, str]:
        """Target group ARN → name, for both target groups."""
        return {self.blue_tg: BLUE_TARGET_GROUP, self.green_tg: GREEN_TARGET_GROUP}


def build_ecs_topology(
    clients: Clients,
    *,
    region: str,
    scenario: str,
    strategy: EcsStrategy,
    bake_minutes: float,
    blue: tuple[str, int],
    prod_port: int,
    test_port: int,
    function_name: str,
) -> EcsTopology:
    """Build the ECS-native service in the stand-in and start its service deployment to green.

    Parameters
    ----------
    clients : Clients
        Pointed at the stand-in.
    region : str
        Subnets go into its zones ``a`` and ``b``; the function's ARN is in it.
    scenario : str
        ``bad-port`` makes the green task definition map :data:`WRONG_CONTAINER_PORT`;
        ``blocked-sg`` and ``no-pull-role`` break the :mod:`.foundation`.
    strategy : EcsStrategy
        The service's deployment strategy.
    bake_minutes : float
        ``bakeTimeInMinutes``.
    blue : tuple of (str, int)
        Address of the blue app, registered in the blue target group.
    prod_port, test_port : int
        Ports of the production and test listeners.
    function_name : str
        The EcsLifecycleHook function, named by the lifecycle hook of every stage.
    """
    elbv2, ecs = clients.elbv2, clients.ecs
    base = build_foundation(
        clients, region, blue, second_octet=43, scenario=scenario, listener_ports=(prod_port, test_port)
    )
    lb, blue_tg, green_tg = base.load_balancer, base.blue_tg, base.green_tg
    prod_listener, prod_rule = _listener_and_rule(elbv2, lb["LoadBalancerArn"], prod_port, blue_tg)
    test_listener, test_rule = _listener_and_rule(elbv2, lb["LoadBalancerArn"], test_port, blue_tg)

    function_arn = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{function_name}"
    hooks: list[dict[str, Any]] = [
        {
            "hookTargetArn": function_arn,
            "roleArn": f"arn:aws:iam::{ACCOUNT}:role/trafficgate-ecs-hook-invoke",
            "lifecycleStages": [stage.value for stage in EcsStage],
        }
    ]
    ecs.create_cluster(clusterName=CLUSTER)
    blue_def = base.task_definition(ecs, CONTAINER_PORT, tag="blue", region=region)
    ecs.create_service(
        cluster=CLUSTER,
        serviceName=SERVICE,
        taskDefinition=blue_def,
        desiredCount=DESIRED_COUNT,
        deploymentController={"type": "ECS"},
        deploymentConfiguration=strategy.deployment_configuration(bake_minutes=bake_minutes, hooks=hooks),  # type: ignore[arg-type]
        launchType="FARGATE",
        networkConfiguration=base.service_network(),
        healthCheckGracePeriodSeconds=HEALTH_CHECK_GRACE_S,
        loadBalancers=[
            {
                "targetGroupArn": blue_tg,
                "containerName": CONTAINER,
                "containerPort": CONTAINER_PORT,
                "advancedConfiguration": {
                    "alternateTargetGroupArn": green_tg,
                    "productionListenerRule": prod_rule,
                    "testListenerRule": test_rule,
                    "roleArn": f"arn:aws:iam::{ACCOUNT}:role/trafficgate-ecs-elb",
                },
            }
        ],
    )
    # The new revision the deployment installs; "bad-port" maps the wrong container port.
    green_port = WRONG_CONTAINER_PORT if scenario == "bad-port" else CONTAINER_PORT
    task_def = base.task_definition(ecs, green_port, tag="green", region=region)
    service = ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=task_def)["service"]
    deployment_arn = str(service.get("currentServiceDeployment"))
    described = ecs.describe_service_deployments(serviceDeploymentArns=[deployment_arn])["serviceDeployments"][0]
    return EcsTopology(
        dns_name=lb["DNSName"],
        load_balancer_arn=lb["LoadBalancerArn"],
        blue_tg=blue_tg,
        green_tg=green_tg,
        prod_listener=prod_listener,
        test_listener=test_listener,
        prod_rule=prod_rule,
        test_rule=test_rule,
        task_definition=task_def,
        deployment_id=deployment_arn,
        service_arn=service["serviceArn"],
        target_revision_arn=described["targetServiceRevision"]["arn"],
        source_revision_arns=tuple(r["arn"] for r in described.get("sourceServiceRevisions") or []),
        function_arn=function_arn,
    )


def forward(elbv2: ElasticLoadBalancingv2Client, rule: str, percents: dict[str, float]) -> None:
    """Point ``rule`` at the target groups ``percents`` names (target group ARN → percent)."""
    groups = [{"TargetGroupArn": arn, "Weight": round(p * WEIGHT_SCALE)} for arn, p in percents.items() if p > 0]
    elbv2.modify_rule(RuleArn=rule, Actions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}])  # type: ignore[misc,list-item]


def rule_weights(elbv2: ElasticLoadBalancingv2Client, rule: str, names: dict[str, str]) -> dict[str, int]:
    """Where ``rule`` sends traffic: target group name → percent (rounded)."""
    [found] = elbv2.describe_rules(RuleArns=[rule])["Rules"]
    weights: dict[str, int] = {}
    for action in found.get("Actions", []):
        groups = (action.get("ForwardConfig") or {}).get("TargetGroups") or []
        total = sum(int(g.get("Weight", 1)) for g in groups) or 1
        for g in groups:
            weights[names.get(g["TargetGroupArn"], g["TargetGroupArn"])] = round(100 * int(g.get("Weight", 1)) / total)
    return weights


def weights_by_revision(topology: EcsTopology, green_percent: float) -> dict[str, float]:
    """``testTrafficWeights``/``productionTrafficWeights`` of the event: service revision ARN → percent."""
    weights = {arn: 0.0 for arn in topology.source_revision_arns}
    if topology.source_revision_arns:
        weights[topology.source_revision_arns[0]] = 100.0 - green_percent
    weights[topology.target_revision_arn] = green_percent
    return weights


def _listener_and_rule(
    elbv2: ElasticLoadBalancingv2Client, lb_arn: str, port: int, target_group_arn: str
) -> tuple[str, str]:
    listener: str = elbv2.create_listener(
        LoadBalancerArn=lb_arn,
        Protocol="HTTP",
        Port=port,
        DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}],
    )["Listeners"][0]["ListenerArn"]
    rule: str = elbv2.create_rule(
        ListenerArn=listener,
        Priority=_RULE_PRIORITY,
        Conditions=[{"Field": "host-header", "HostHeaderConfig": {"Values": [HOST]}}],
        Actions=[
            {
                "Type": "forward",
                "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": target_group_arn, "Weight": 100 * WEIGHT_SCALE}]},
            }
        ],
    )["Rules"][0]["RuleArn"]
    return listener, rule
