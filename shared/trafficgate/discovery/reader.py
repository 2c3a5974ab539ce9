"""Discovery from the DeploymentId: CodeDeploy → AppSpec, listeners, target groups, task sets.

Layer L1 (engines): imports the leaves and :mod:`trafficgate.aws`; never checks, context or plans.

The topology (application, group, listeners, target groups, AppSpec) does not change during a
deployment, so it is cached for the life of a warm container. Task sets are live state and
are read again on every call.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Mapping
from dataclasses import replace
from typing import Any

from trafficgate.aws import AWS_ERRORS, AwsClients, describe_error
from trafficgate.discovery.appspec import parse_appspec, revision_content
from trafficgate.discovery.exceptions import DiscoveryError
from trafficgate.discovery.models import Deployment, LifecycleEvent, Listener, TargetGroup, TaskSet

#: BatchGetDeploymentTargets accepts at most 25 target ids per call.
TARGETS_PER_BATCH = 25

_cache: dict[str, Deployment] = {}
_lock = threading.Lock()


def clear_cache() -> None:
    """Forget every cached deployment (tests; a new container starts empty anyway)."""
    with _lock:
        _cache.clear()
        _info_cache.clear()


def discover(
    deployment_id: str,
    clients: AwsClients,
    *,
    with_task_sets: bool = True,
    appspec_buckets: Collection[str] = (),
) -> Deployment:
    """Everything Trafficgate needs to know about a deployment, from its id alone.

    Parameters
    ----------
    appspec_buckets
        S3 buckets an AppSpec revision may be read from (``TRAFFICGATE_APPSPEC_BUCKETS``).

    Raises
    ------
    DiscoveryError
        Naming what could not be found (the deployment, its group, a listener, ...).
    """
    with _lock:
        cached = _cache.get(deployment_id)
    if cached is None:
        cached = _read_topology(deployment_id, clients, appspec_buckets)
        with _lock:
            _cache[deployment_id] = cached
    if not with_task_sets:
        return cached
    return replace(cached, task_sets=read_task_sets(deployment_id, clients))


def call_aws(what: str, fn: Any, **kwargs: Any) -> Any:
    """``fn(**kwargs)``; an AWS error becomes a :class:`DiscoveryError` saying what could not be read."""
    try:
        return fn(**kwargs)
    except AWS_ERRORS as exc:
        raise DiscoveryError(f"could not read {what}: {describe_error(exc)}") from exc


_info_cache: dict[str, dict[str, Any]] = {}


def deployment_info(deployment_id: str, clients: AwsClients) -> dict[str, Any]:
    """``GetDeployment``'s deploymentInfo, cached per container (it does not change)."""
    with _lock:
        cached = _info_cache.get(deployment_id)
    if cached is not None:
        return cached
    codedeploy = clients.client("codedeploy")
    what = f"deployment {deployment_id}"
    info: dict[str, Any] = call_aws(what, codedeploy.get_deployment, deploymentId=deployment_id)["deploymentInfo"]
    if not info.get("applicationName") or not info.get("deploymentGroupName"):
        raise DiscoveryError(f"deployment {deployment_id} names no application or deployment group")
    with _lock:
        _info_cache[deployment_id] = info
    return info


def _read_topology(deployment_id: str, clients: AwsClients, appspec_buckets: Collection[str]) -> Deployment:
    codedeploy = clients.client("codedeploy")
    info = deployment_info(deployment_id, clients)
    application = info["applicationName"]
    group_name = info["deploymentGroupName"]
    group = call_aws(
        f"deployment group {application}/{group_name}",
        codedeploy.get_deployment_group,
        applicationName=application,
        deploymentGroupName=group_name,
    )["deploymentGroupInfo"]

    pairs = (group.get("loadBalancerInfo") or {}).get("targetGroupPairInfoList") or []
    if not pairs:
        raise DiscoveryError(
            f"deployment group {application}/{group_name} has no loadBalancerInfo.targetGroupPairInfoList"
        )
    pair = pairs[0]
    prod_arns = list((pair.get("prodTrafficRoute") or {}).get("listenerArns") or [])
    test_arns = list((pair.get("testTrafficRoute") or {}).get("listenerArns") or [])
    if not prod_arns:
        raise DiscoveryError(f"deployment group {application}/{group_name} has no production listener")
    listeners = read_listeners(clients, prod_arns + test_arns)
    services = group.get("ecsServices") or []
    return Deployment(
        deployment_id=deployment_id,
        application=application,
        deployment_group=group_name,
        deployment_config=info.get("deploymentConfigName") or group.get("deploymentConfigName") or "",
        appspec=parse_appspec(
            revision_content(info.get("revision") or {}, deployment_id, clients, appspec_buckets, application),
            deployment_id,
        ),
        cluster=services[0].get("clusterName") if services else None,
        service=services[0].get("serviceName") if services else None,
        prod_listeners=tuple(listeners[a] for a in prod_arns),
        test_listeners=tuple(listeners[a] for a in test_arns),
        target_groups=_read_target_groups(clients, [tg.get("name", "") for tg in pair.get("targetGroups") or []]),
        alarm_configuration=dict(group.get("alarmConfiguration") or {}),
    )


def read_listeners(clients: AwsClients, arns: list[str]) -> dict[str, Listener]:
    """The listeners ``arns`` with their load balancers' DNS names (and HTTPS certificate names)."""
    elbv2 = clients.client("elbv2")
    found = {
        item["ListenerArn"]: item
        for item in call_aws("listeners " + ", ".join(arns), elbv2.describe_listeners, ListenerArns=arns)["Listeners"]
    }
    missing = [a for a in arns if a not in found]
    if missing:
        raise DiscoveryError("listener not found: " + ", ".join(missing))
    lb_arns = sorted({item["LoadBalancerArn"] for item in found.values()})
    dns = {
        lb["LoadBalancerArn"]: lb.get("DNSName", "")
        for lb in call_aws("load balancers", elbv2.describe_load_balancers, LoadBalancerArns=lb_arns)["LoadBalancers"]
    }
    listeners: dict[str, Listener] = {}
    for arn, item in found.items():
        lb_arn = item["LoadBalancerArn"]
        if not dns.get(lb_arn):
            raise DiscoveryError(f"load balancer {lb_arn} of listener {arn} has no DNS name")
        protocol = str(item.get("Protocol", "HTTP"))
        names, problem = _certificate_names(clients, arn) if protocol.upper() in {"HTTPS", "TLS"} else ((), None)
        listeners[arn] = Listener(
            arn=arn,
            protocol=protocol,
            port=int(item["Port"]),
            load_balancer_arn=lb_arn,
            dns_name=dns[lb_arn],
            tls_names=names,
            certificate_problem=problem,
        )
    return listeners


def _certificate_names(clients: AwsClients, listener_arn: str) -> tuple[tuple[str, ...], str | None]:
    """The names the listener's default certificate covers (ACM), or why they are unknown.

    Never fatal: a probe with an operator-given Host header needs none of this.
    """
    try:
        answer = clients.client("elbv2").describe_listener_certificates(ListenerArn=listener_arn)
    except AWS_ERRORS as exc:
        return (), f"could not read the certificates of listener {listener_arn}: {describe_error(exc)}"
    certificates = answer.get("Certificates") or []
    default = next((c for c in certificates if c.get("IsDefault")), certificates[0] if certificates else None)
    arn = str((default or {}).get("CertificateArn") or "")
    if ":acm:" not in arn:
        return (), f"listener {listener_arn} presents a certificate that is not in ACM ({arn or 'none'})"
    try:
        certificate = clients.client("acm").describe_certificate(CertificateArn=arn)["Certificate"]
    except AWS_ERRORS as exc:
        return (), f"could not describe certificate {arn}: {describe_error(exc)}"
    names = [str(certificate.get("DomainName") or "")]
    names += [str(n) for n in certificate.get("SubjectAlternativeNames") or []]
    return tuple(dict.fromkeys(n for n in names if n)), None


def _read_target_groups(clients: AwsClients, names: list[str]) -> tuple[TargetGroup, ...]:
    names = [n for n in names if n]
    if not names:
        return ()
    groups = call_aws("target groups " + ", ".join(names), clients.client("elbv2").describe_target_groups, Names=names)[
        "TargetGroups"
    ]
    arns = {g["TargetGroupName"]: g["TargetGroupArn"] for g in groups}
    missing = [n for n in names if n not in arns]
    if missing:
        raise DiscoveryError("target group not found: " + ", ".join(missing))
    return tuple(TargetGroup(name=n, arn=arns[n]) for n in names)


def read_task_sets(deployment_id: str, clients: AwsClients) -> tuple[TaskSet, ...]:
    """The ECS target's task sets as CodeDeploy reports them now (BLUE/GREEN, counts, weights)."""
    return task_sets_of(read_ecs_targets(deployment_id, clients))


def read_lifecycle_events(deployment_id: str, clients: AwsClients) -> tuple[LifecycleEvent, ...]:
    """The ECS target's lifecycle events (name and status), in CodeDeploy's order."""
    return lifecycle_events_of(read_ecs_targets(deployment_id, clients))


def task_sets_of(ecs_targets: Iterable[Mapping[str, Any]]) -> tuple[TaskSet, ...]:
    """The task sets in ``ecsTarget`` answers (see :func:`read_ecs_targets`)."""
    task_sets: list[TaskSet] = []
    for target in ecs_targets:
        for item in target.get("taskSetsInfo") or []:
            task_sets.append(
                TaskSet(
                    # "identifer" is AWS's own spelling in ECSTaskSet (botocore's model has it so);
                    # "identifier" is read too, should AWS ever fix it.
                    identifier=item.get("identifer") or item.get("identifier") or "",
                    label=item.get("taskSetLabel") or "",
                    desired=int(item.get("desiredCount") or 0),
                    pending=int(item.get("pendingCount") or 0),
                    running=int(item.get("runningCount") or 0),
                    status=item.get("status") or "",
                    traffic_weight=float(item.get("trafficWeight") or 0.0),
                    target_group=(item.get("targetGroup") or {}).get("name"),
                )
            )
    return tuple(task_sets)


def lifecycle_events_of(ecs_targets: Iterable[Mapping[str, Any]]) -> tuple[LifecycleEvent, ...]:
    """The lifecycle events in ``ecsTarget`` answers, in CodeDeploy's order."""
    return tuple(
        LifecycleEvent(name=str(event.get("lifecycleEventName") or ""), status=str(event.get("status") or ""))
        for target in ecs_targets
        for event in target.get("lifecycleEvents") or []
    )


def read_ecs_targets(deployment_id: str, clients: AwsClients) -> tuple[dict[str, Any], ...]:
    """``ecsTarget`` of every deployment target (an ECS deployment has one), as CodeDeploy reports it now.

    Live state (task sets, lifecycle events): read it once per invocation and derive both from it
    (:func:`task_sets_of`, :func:`lifecycle_events_of`).
    """
    codedeploy = clients.client("codedeploy")
    what = f"deployment targets of {deployment_id}"
    ids: list[str] = []
    token: str | None = None
    while True:  # ListDeploymentTargets pages with nextToken
        page = call_aws(what, codedeploy.list_deployment_targets, deploymentId=deployment_id, **_token(token))
        ids.extend(page.get("targetIds") or [])
        token = page.get("nextToken")
        if not token:
            break
    targets: list[dict[str, Any]] = []
    for start in range(0, len(ids), TARGETS_PER_BATCH):
        answer = call_aws(
            what,
            codedeploy.batch_get_deployment_targets,
            deploymentId=deployment_id,
            targetIds=ids[start : start + TARGETS_PER_BATCH],
        )
        targets.extend(t.get("ecsTarget") or {} for t in answer.get("deploymentTargets") or [])
    return tuple(targets)


def _token(token: str | None) -> dict[str, str]:
    return {"nextToken": token} if token else {}
