"""Admin HTTP endpoints of the stand-in, as a WSGI middleware in front of moto's server app.

Every request whose path starts with :data:`ADMIN_PREFIX` is answered here with JSON; everything else
(the AWS APIs, ``/moto-api/...``) goes to moto untouched. The endpoints map one-to-one onto
:class:`~trafficgate_local.standin.codedeploy.StandIn`, so a separate process can drive a standalone
server through :class:`~trafficgate_local.standin.client.StandInAdmin`.

Every endpoint takes ``region`` (query string or JSON body; the server's default region otherwise)
and optionally ``accountId``.

=======  ==============================  =====================================================
Method   Path (under ``/_trafficgate``)  Action
=======  ==============================  =====================================================
GET      ``/health``                     liveness and the server's default region
POST     ``/deployments``                seed an ECS deployment (optionally with a fixed id)
POST     ``/deployments/rename``         ``{oldId, newId}``
POST     ``/hook-executions``            register a hook execution id (``startEvent: false``:
                                         ahead of time, the lifecycle stays where it is)
GET      ``/statuses``                   accepted status reports (``?deploymentId=``)
GET      ``/calls``                      every Put call, rejected ones included
GET      ``/faults``                     pending faults
POST     ``/faults``                     inject a fault
DELETE   ``/faults``                     drop pending faults
POST     ``/task-sets``                  replace a target's task sets
POST     ``/target-status``              set a target's status
POST     ``/lifecycle-events``           set a lifecycle event's status
POST     ``/deployment-status``          set a deployment's status (a final one ends it)
GET      ``/target-health-timing``       ``{initialSeconds, drainingSeconds}`` in force
POST     ``/target-health-timing``       set either or both (seconds, 0-3600)
POST     ``/target-health``              override one target's state (``targetGroupArn``,
                                         ``targetId``, ``port``, ``state``, ``reason``,
                                         ``description``)
DELETE   ``/target-health``              drop a target group's overrides (``targetGroupArn``)
GET      ``/service-deployments``        an ECS service's deployments, newest first
                                         (``cluster``, ``service``)
GET      ``/service-deployment``         one ECS service deployment (``serviceDeploymentArn``)
POST     ``/service-deployment/stage``   move it to a stage (``serviceDeploymentArn``,
                                         ``lifecycleStage``)
POST     ``/service-deployment/status``  set its status (``serviceDeploymentArn``, ``status``,
                                         ``statusReason``)
POST     ``/reset``                      reset this region's CodeDeploy (moto data + ours)
=======  ==============================  =====================================================
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID
from werkzeug.wrappers import Request, Response

from .codedeploy import PUT_STATUS_OPERATION, StandIn
from .exceptions import StandInError
from .target_health import seconds

ADMIN_PREFIX = "/_trafficgate"

_Handler = Callable[[StandIn, Mapping[str, Any]], Any]
_WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _required(args: Mapping[str, Any], name: str) -> Any:
    value = args.get(name)
    if value in (None, ""):
        raise StandInError(f"'{name}' is required")
    return value


def _health(stand_in: StandIn, args: Mapping[str, Any]) -> Any:
    return {"ok": True, "region": stand_in.region_name, "accountId": stand_in.account_id}


def _create_deployment(stand_in: StandIn, args: Mapping[str, Any]) -> Any:
    names = {
        "applicationName": "application_name",
        "deploymentGroupName": "deployment_group_name",
        "clusterName": "cluster_name",
        "serviceName": "service_name",
    }
    kwargs: dict[str, Any] = {kw: args[key] for key, kw in names.items() if args.get(key)}
    deployment_id = stand_in.create_ecs_deployment(
        deployment_id=args.get("deploymentId"),
        alarm_configuration=args.get("alarmConfiguration"),
        task_sets=args.get("taskSets"),
        **kwargs,
    )
    targets = stand_in.target_ids(deployment_id)
    return {"deploymentId": deployment_id, "targetIds": targets}


def _rename_deployment(stand_in: StandIn, args: Mapping[str, Any]) -> Any:
    stand_in.rename_deployment(_required(args, "oldId"), _required(args, "newId"))
    return {"deploymentId": args["newId"]}


def _register(stand_in: StandIn, args: Mapping[str, Any]) -> Any:
    start_event = args.get("startEvent", True)
    if not isinstance(start_event, bool):
        raise StandInError(f"'startEvent' must be true or false, not {start_event!r}")
    execution_id = stand_in.register_hook_execution(
        _required(args, "deploymentId"),
        _required(args, "lifecycleEventName"),
        args.get("lifecycleEventHookExecutionId"),
        start_event=start_event,
    )
    return {"lifecycleEventHookExecutionId": execution_id}


def _statuses(stand_in: StandIn, args: Mapping[str, Any]) -> Any:
    return {"statuses": [r.to_dict() for r in stand_in.statuses(args.get("deploymentId"))]}


def _calls(stand_in: StandIn, args: Mapping[str, Any]) -> Any:
    return {"calls": [c.to_dict() for c in stand_in.report_calls(args.get("deploymentId"))]}


def _faults(stand_in: StandIn, args: Mapping[str, Any]) -> Any:
    return {"faults": [f.to_dict() for f in stand_in.faults()]}


def _inject_fault(stand_in: StandIn, args: Mapping[str, Any]) -> Any:
    stand_in.inject_fault(
        operation=args.get("operation") or PUT_STATUS_OPERATION,
        error_code=args.get("errorCode") or "ThrottlingException",
        http_status=int(args.get("httpStatus") or 400),
        times=int(args.get("times") or 1),
        message=args.get("message"),
    )
    return _faults(stand_in, args)


def _clear_faults(stand_in: StandIn, args: Mapping[str, Any]) -> Any:
    stand_in.clear_faults()
    return {"faults": []}


def _task_sets(stand_in: StandIn, args: Mapping[str, Any]) -> Any:
    task_sets = _required(args, "taskSets")
    if not isinstance(task_sets, list):
        raise StandInError("'taskSets' must be a list")
    stand_in.set_task_sets(_required(args, "deploymentId"), task_sets, target_id=args.get("targetId"))
    return {"ok": True}


def _target_status(stand_in: StandIn, args: Mapping[str, Any]) -> Any:
    stand_in.set_target_status(
        _required(args, "deploymentId"), _required(args, "status"), target_id=args.get("targetId")
    )
    return {"ok": True}


def _lifecycle_event(stand_in: StandIn, args: Mapping[str, Any]) -> Any:
    stand_in.set_lifecycle_event_status(
        _required(args, "deploymentId"), _required(args, "lifecycleEventName"), _required(args, "status")
    )
    return {"ok": True}


def _deployment_status(stand_in: StandIn, args: Mapping[str, Any]) -> Any:
    stand_in.set_deployment_status(_required(args, "deploymentId"), _required(args, "status"))
    return {"ok": True}


def _timing(stand_in: StandIn, args: Mapping[str, Any]) -> Any:
    return stand_in.target_health_timing().to_dict()


def _set_timing(stand_in: StandIn, args: Mapping[str, Any]) -> Any:
    given = {name: args[name] for name in ("initialSeconds", "drainingSeconds") if args.get(name) is not None}
    if not given:
        raise StandInError("give 'initialSeconds', 'drainingSeconds' or both")
    # Validated here so that the message names the field as the caller spelt it.
    values = {name: seconds(value, f"'{name}'") for name, value in given.items()}
    timing = stand_in.set_target_health_timing(
        initial_s=values.get("initialSeconds"), draining_s=values.get("drainingSeconds")
    )
    return timing.to_dict()


def _set_target_health(stand_in: StandIn, args: Mapping[str, Any]) -> Any:
    port = args.get("port")
    if port is not None and (isinstance(port, bool) or not str(port).isdigit()):
        raise StandInError(f"'port' must be a port number, not {port!r}")
    stand_in.set_target_health(
        _required(args, "targetGroupArn"),
        _required(args, "targetId"),
        None if port is None else int(port),
        _required(args, "state"),
        args.get("reason"),
        args.get("description"),
    )
    return {"ok": True}


def _clear_target_health(stand_in: StandIn, args: Mapping[str, Any]) -> Any:
    stand_in.clear_target_health(_required(args, "targetGroupArn"))
    return {"ok": True}


def _service_deployments(stand_in: StandIn, args: Mapping[str, Any]) -> Any:
    records = stand_in.service_deployments(_required(args, "cluster"), _required(args, "service"))
    return {"serviceDeployments": [r.to_dict() for r in records]}


def _service_deployment(stand_in: StandIn, args: Mapping[str, Any]) -> Any:
    return stand_in.service_deployment(_required(args, "serviceDeploymentArn")).to_dict()


def _service_deployment_stage(stand_in: StandIn, args: Mapping[str, Any]) -> Any:
    arn, stage = _required(args, "serviceDeploymentArn"), _required(args, "lifecycleStage")
    return stand_in.set_service_deployment_stage(arn, stage).to_dict()


def _service_deployment_status(stand_in: StandIn, args: Mapping[str, Any]) -> Any:
    arn, status = _required(args, "serviceDeploymentArn"), _required(args, "status")
    return stand_in.set_service_deployment_status(arn, status, args.get("statusReason")).to_dict()


def _reset(stand_in: StandIn, args: Mapping[str, Any]) -> Any:
    stand_in.reset()
    return {"ok": True}


#: (method, path below ADMIN_PREFIX) -> handler. An explicit table, so the endpoint list is greppable.
ROUTES: dict[tuple[str, str], _Handler] = {
    ("GET", "/health"): _health,
    ("POST", "/deployments"): _create_deployment,
    ("POST", "/deployments/rename"): _rename_deployment,
    ("POST", "/hook-executions"): _register,
    ("GET", "/statuses"): _statuses,
    ("GET", "/calls"): _calls,
    ("GET", "/faults"): _faults,
    ("POST", "/faults"): _inject_fault,
    ("DELETE", "/faults"): _clear_faults,
    ("POST", "/task-sets"): _task_sets,
    ("POST", "/target-status"): _target_status,
    ("POST", "/lifecycle-events"): _lifecycle_event,
    ("POST", "/deployment-status"): _deployment_status,
    ("GET", "/target-health-timing"): _timing,
    ("POST", "/target-health-timing"): _set_timing,
    ("POST", "/target-health"): _set_target_health,
    ("DELETE", "/target-health"): _clear_target_health,
    ("GET", "/service-deployments"): _service_deployments,
    ("GET", "/service-deployment"): _service_deployment,
    ("POST", "/service-deployment/stage"): _service_deployment_stage,
    ("POST", "/service-deployment/status"): _service_deployment_status,
    ("POST", "/reset"): _reset,
}


def _json_response(status: int, payload: Any) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json")


class AdminMiddleware:
    """WSGI middleware serving :data:`ROUTES` under :data:`ADMIN_PREFIX` and passing the rest on.

    Parameters
    ----------
    app : WSGI application
        moto's server application (``DomainDispatcherApplication``).
    default_region : str, optional
        Region used when a request names none; without it such requests get a 400.
    account_id : str, optional
        Default moto account.
    """

    def __init__(
        self, app: _WSGIApp, *, default_region: str | None = None, account_id: str = DEFAULT_ACCOUNT_ID
    ) -> None:
        self.app = app
        self.default_region = default_region
        self.account_id = account_id

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path != ADMIN_PREFIX and not path.startswith(ADMIN_PREFIX + "/"):
            return self.app(environ, start_response)
        response = self._handle(Request(environ), path[len(ADMIN_PREFIX) :] or "/")
        return response(environ, start_response)

    def _handle(self, request: Request, route: str) -> Response:
        handler = ROUTES.get((request.method, route.rstrip("/") or "/"))
        if handler is None:
            allowed = sorted(method for method, path in ROUTES if path == route.rstrip("/"))
            if allowed:
                return _json_response(405, {"error": "MethodNotAllowed", "message": f"use {', '.join(allowed)}"})
            return _json_response(404, {"error": "NotFound", "message": f"no admin endpoint {route}"})
        try:
            args = self._arguments(request)
            region = args.get("region") or self.default_region
            if not region:
                raise StandInError("'region' is required: this server was started without a default region")
            stand_in = StandIn(region, account_id=args.get("accountId") or self.account_id)
            return _json_response(200, handler(stand_in, args))
        except StandInError as exc:
            return _json_response(400, {"error": "StandInError", "message": str(exc)})
        except (ValueError, TypeError, KeyError) as exc:
            return _json_response(400, {"error": "BadRequest", "message": f"{type(exc).__name__}: {exc}"})

    @staticmethod
    def _arguments(request: Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.args.items())
        if request.get_data():
            body = json.loads(request.get_data(as_text=True))
            if not isinstance(body, dict):
                raise StandInError("the request body must be a JSON object")
            args.update(body)
        return args
