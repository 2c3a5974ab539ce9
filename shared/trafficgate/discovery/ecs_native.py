"""Discovery for Amazon ECS native blue/green: from the service deployment ARN to listeners and groups.

Layer L1 (engines): imports the leaves and :mod:`trafficgate.aws`; never checks, context or plans.

The chain, from the hook event alone: DescribeServiceDeployments(resourceArn) gives the target
(green) and source (blue) service revisions; DescribeServiceRevisions gives the target revision's
task definition and ``loadBalancers[].advancedConfiguration``: the production and test listener
*rules* and the alternate target group; DescribeRules gives each rule's forward weights, and the
listener ARN is the rule ARN's parent (ELBv2 spells it that way, and DescribeRules does not return
it); DescribeListeners and DescribeLoadBalancers give the URLs, as for CodeDeploy.

The same :class:`~trafficgate.discovery.models.Deployment` comes out, so every check judges an ECS
native deployment the way it judges a CodeDeploy one: ``application`` is the service's name,
``deployment_group`` its cluster's, ``deployment_config`` the strategy (``BLUE_GREEN``, ``LINEAR``,
``CANARY``), and ``target_groups`` is ``(blue, green)``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from trafficgate.aws import AwsClients
from trafficgate.discovery.exceptions import DiscoveryError
from trafficgate.discovery.models import AppSpec, Deployment, Listener, TargetGroup, TaskSet, concrete
from trafficgate.discovery.reader import call_aws, read_listeners


def _read_service_deployment(arn: str, clients: AwsClients) -> dict[str, Any]:
    answer = call_aws(
        f"service deployment {arn}", clients.client("ecs").describe_service_deployments, serviceDeploymentArns=[arn]
    )
    found = [d for d in answer.get("serviceDeployments") or [] if d.get("serviceDeploymentArn") == arn]
    if not found:
        reasons = ", ".join(str(f.get("reason")) for f in answer.get("failures") or []) or "not returned"
        raise DiscoveryError(f"service deployment {arn} not found ({reasons})")
    deployment: dict[str, Any] = found[0]
    return deployment


def revision_task_sets(deployment: Mapping[str, Any], green_group: str | None) -> tuple[TaskSet, ...]:
    """The service deployment's revisions as the task sets the checks know: the target revision is
    GREEN, each source revision BLUE; counts and production weight as ECS reports them now."""

    def task_set(revision: Mapping[str, Any], label: str, group: str | None) -> TaskSet:
        return TaskSet(
            identifier=str(revision.get("arn") or ""),
            label=label,
            desired=int(revision.get("requestedTaskCount") or 0),
            pending=int(revision.get("pendingTaskCount") or 0),
            running=int(revision.get("runningTaskCount") or 0),
            status="ACTIVE",
            traffic_weight=float(revision.get("requestedProductionTrafficWeight") or 0.0),
            target_group=group,
        )

    target = deployment.get("targetServiceRevision") or {}
    sources = [task_set(r, "BLUE", None) for r in deployment.get("sourceServiceRevisions") or []]
    return (*sources, task_set(target, "GREEN", green_group)) if target else tuple(sources)


def read_revision_task_sets(arn: str, clients: AwsClients, green_group: str | None) -> tuple[TaskSet, ...]:
    """The revisions' live counts (see :func:`revision_task_sets`), read again."""
    return revision_task_sets(_read_service_deployment(arn, clients), green_group)


def discover_service_deployment(arn: str, clients: AwsClients, *, test_traffic_shifted: bool) -> Deployment:
    """The deployment an ECS lifecycle hook judges, from its service deployment ARN.

    Parameters
    ----------
    test_traffic_shifted
        Whether the stage comes after TEST_TRAFFIC_SHIFT: from then on the test rule forwards to
        green, before it the green target group is the one production does not use.

    Raises
    ------
    DiscoveryError
        Naming what could not be found or read.
    """
    ecs = clients.client("ecs")
    deployment = _read_service_deployment(arn, clients)
    target_arn = str((deployment.get("targetServiceRevision") or {}).get("arn") or "")
    if not target_arn:
        raise DiscoveryError(f"service deployment {arn} names no target service revision")
    revisions = call_aws(
        f"service revision {target_arn}", ecs.describe_service_revisions, serviceRevisionArns=[target_arn]
    )
    target = next(
        (r for r in revisions.get("serviceRevisions") or [] if r.get("serviceRevisionArn") == target_arn), None
    )
    if target is None:
        raise DiscoveryError(f"service revision {target_arn} not found")
    balancers = [lb for lb in target.get("loadBalancers") or [] if lb.get("advancedConfiguration")]
    if not balancers:
        raise DiscoveryError(
            f"service revision {target_arn} has no load balancer with advancedConfiguration "
            "(a blue/green service needs alternateTargetGroupArn and productionListenerRule)"
        )
    balancer = balancers[0]
    advanced: Mapping[str, Any] = balancer["advancedConfiguration"]
    prod_rule = str(advanced.get("productionListenerRule") or "")
    test_rule = str(advanced.get("testListenerRule") or "")
    primary, alternate = str(balancer.get("targetGroupArn") or ""), str(advanced.get("alternateTargetGroupArn") or "")
    if not prod_rule or not primary or not alternate:
        raise DiscoveryError(
            f"service revision {target_arn}: advancedConfiguration needs productionListenerRule, and the load "
            "balancer targetGroupArn and alternateTargetGroupArn"
        )
    weights, conditions = _read_rules(clients, [r for r in (prod_rule, test_rule) if r])
    blue, green = _blue_green(primary, alternate, weights[prod_rule], weights.get(test_rule), test_traffic_shifted)
    listener_arns = {"prod": listener_of(prod_rule), "test": listener_of(test_rule) if test_rule else ""}
    listeners = read_listeners(clients, [a for a in listener_arns.values() if a])
    names = _target_group_names(clients, [blue, green])
    cluster = _last(str(deployment.get("clusterArn") or ""))
    service = _last(str(deployment.get("serviceArn") or ""))
    container = str(balancer.get("containerName") or "")
    port = balancer.get("containerPort")
    task_definition = str(target.get("taskDefinition") or "")
    appspec = (
        AppSpec(task_definition_arn=task_definition, container_name=container, container_port=int(port))
        if task_definition and container and isinstance(port, int)
        else None
    )
    return Deployment(
        deployment_id=arn,
        application=service,
        deployment_group=cluster,
        deployment_config=str((deployment.get("deploymentConfiguration") or {}).get("strategy") or "BLUE_GREEN"),
        appspec=appspec,
        cluster=cluster or None,
        service=service or None,
        prod_listeners=(_with_rule(listeners[listener_arns["prod"]], prod_rule, conditions[prod_rule]),),
        test_listeners=(
            (_with_rule(listeners[listener_arns["test"]], test_rule, conditions[test_rule]),)
            if listener_arns["test"]
            else ()
        ),
        target_groups=(TargetGroup(name=names[blue], arn=blue), TargetGroup(name=names[green], arn=green)),
        task_sets=revision_task_sets(deployment, names[green]),
    )


def listener_of(rule_arn: str) -> str:
    """The listener ARN of a listener rule ARN (``...:listener-rule/app/lb/id/listener-id/rule-id``)."""
    head, sep, path = rule_arn.partition(":listener-rule/")
    parts = path.split("/")
    if not sep or len(parts) < 5:
        raise DiscoveryError(f"{rule_arn!r} is not an ELBv2 listener rule ARN")
    return f"{head}:listener/{'/'.join(parts[:-1])}"


def _read_rules(
    clients: AwsClients, rule_arns: list[str]
) -> tuple[dict[str, dict[str, int]], dict[str, list[dict[str, Any]]]]:
    """Each rule's forward weights (target group ARN -> weight; a plain forward weighs 1) and conditions."""
    elbv2 = clients.client("elbv2")
    rules = call_aws("listener rules " + ", ".join(rule_arns), elbv2.describe_rules, RuleArns=rule_arns)
    out: dict[str, dict[str, int]] = {}
    conditions: dict[str, list[dict[str, Any]]] = {}
    for rule in rules.get("Rules") or []:
        conditions[str(rule.get("RuleArn"))] = list(rule.get("Conditions") or [])
        weights: dict[str, int] = {}
        for action in rule.get("Actions") or []:
            if action.get("Type") != "forward":
                continue
            groups = (action.get("ForwardConfig") or {}).get("TargetGroups") or []
            for group in groups:
                weights[str(group.get("TargetGroupArn"))] = int(group.get("Weight", 1) or 0)
            if not groups and action.get("TargetGroupArn"):
                weights[str(action["TargetGroupArn"])] = 1
        out[str(rule.get("RuleArn"))] = weights
    missing = [a for a in rule_arns if a not in out]
    if missing:
        raise DiscoveryError("listener rule not found: " + ", ".join(missing))
    return out, conditions


def _values(condition: Mapping[str, Any], config: str) -> list[str]:
    """A condition's values: from its ``<Field>Config`` block, else the older top-level ``Values``."""
    block = condition.get(config) or {}
    return [str(v) for v in (block.get("Values") or condition.get("Values") or [])]


def _with_rule(listener: Listener, rule_arn: str, conditions: list[dict[str, Any]]) -> Listener:
    """The listener, with what its rule asks of a request: the probe sends it, so it reaches that rule."""
    host: str | None = None
    headers: list[tuple[str, str]] = []
    paths: list[str] = []
    for condition in conditions:
        field = condition.get("Field")
        if field == "host-header":
            values = _values(condition, "HostHeaderConfig")
            plain = [v for v in values if "*" not in v and "?" not in v]
            choices = plain or [concrete(v) for v in values]
            host = choices[0] if choices else None
        elif field == "http-header":
            config = condition.get("HttpHeaderConfig") or {}
            values = [str(v) for v in config.get("Values") or []]
            if config.get("HttpHeaderName") and values:
                headers.append((str(config["HttpHeaderName"]), concrete(values[0])))
        elif field == "path-pattern":
            paths.extend(_values(condition, "PathPatternConfig"))
    return dataclasses.replace(
        listener, rule_arn=rule_arn, rule_host=host, rule_headers=tuple(headers), rule_paths=tuple(paths)
    )


def _blue_green(
    primary: str,
    alternate: str,
    production: Mapping[str, int],
    test: Mapping[str, int] | None,
    test_traffic_shifted: bool,
) -> tuple[str, str]:
    """``(blue, green)``: after the test shift, green is where the test rule sends most; before it,
    green is the group production does not use (ECS alternates the two groups deployment by deployment)."""
    pair = (primary, alternate)
    if test_traffic_shifted and test:
        green = max(pair, key=lambda arn: test.get(arn, 0))
        if test.get(green, 0) > 0:
            return (alternate if green == primary else primary), green
    blue = max(pair, key=lambda arn: production.get(arn, 0))
    return blue, (alternate if blue == primary else primary)


def _target_group_names(clients: AwsClients, arns: list[str]) -> dict[str, str]:
    groups = call_aws(
        "target groups " + ", ".join(arns), clients.client("elbv2").describe_target_groups, TargetGroupArns=arns
    )["TargetGroups"]
    names = {g["TargetGroupArn"]: g["TargetGroupName"] for g in groups}
    missing = [a for a in arns if a not in names]
    if missing:
        raise DiscoveryError("target group not found: " + ", ".join(missing))
    return names


def _last(arn: str) -> str:
    return arn.rsplit("/", 1)[-1] if arn else ""
