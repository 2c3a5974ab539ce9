"""The deployment conductor: plays a whole CodeDeploy ECS blue/green deployment on this machine.

It builds the deployment in the embedded AWS stand-in (cluster, service, task definition, load
balancer with production and test listeners, two target groups, CodeDeploy application, group
and deployment), serves the listeners with a local load balancer in front of two real apps, and
then plays CodeDeploy's sequence. Each hook runs through its real handler with a fresh
execution id, and its verdict is read from the status recorded by the stand-in, never from the
handler's return value. A Failed verdict, or a hook that never reports within its timeout,
rolls back: the production listener returns to blue and the deployment is marked Failed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

import boto3

from trafficgate import constants
from trafficgate.hooks import Hook
from trafficgate_local.handlers import load_handler
from trafficgate_local.invoke import function_environment
from trafficgate_local.lambda_context import LocalLambdaContext
from trafficgate_local.rehearsal.apps import HEALTHY_BODY_REGEX, SCENARIOS, AppBehaviour, DemoApp
from trafficgate_local.rehearsal.proxy import LocalLoadBalancer
from trafficgate_local.rehearsal.traffic import steps_for
from trafficgate_local.standin.appspec import ecs_revision
from trafficgate_local.template import FunctionSpec, find_function

APPLICATION = "trafficgate-rehearsal"
DEPLOYMENT_GROUP = "trafficgate-rehearsal-dg"
CLUSTER = "trafficgate-rehearsal"
SERVICE = "web"
CONTAINER = "web"
CONTAINER_PORT = 8080
WRONG_CONTAINER_PORT = 80
DESIRED_COUNT = 2


@dataclass
class RehearsalOptions:
    """What to rehearse.

    Parameters
    ----------
    scenario
        Green's behaviour (see :data:`SCENARIOS`); ignored when green is the user's own app.
    deployment_config
        ``CodeDeployDefault.ECSAllAtOnce``, a canary or a linear config.
    time_scale
        Multiplies every wait of the deployment config (0.01 turns 5 minutes into 3 s).
    blue_url, green_url
        Use the user's running apps (``http://127.0.0.1:8081``) instead of ours.
    blue_command, green_command
        Start the user's apps with these commands; ``$PORT`` in the environment says where to listen.
    template
        The SAM template whose functions and environment are used.
    hook_timeout_s
        Overrides the functions' Timeout from the template.
    probe_requests
        Overrides ``TRAFFICGATE_PROBE_REQUESTS`` for this rehearsal.
    env
        Further function environment variables (for example thresholds to try).
    plan
        A check plan file (YAML or JSON) the hooks use instead of the built-in plans.
    check_paths
        Directories holding the plan's custom check modules (as a layer puts them on the path).
    """

    scenario: str = "healthy"
    deployment_config: str = "CodeDeployDefault.ECSAllAtOnce"
    time_scale: float = 0.01
    blue_url: str | None = None
    green_url: str | None = None
    blue_command: str | None = None
    green_command: str | None = None
    template: Path = field(default_factory=lambda: Path.cwd() / "template.yaml")
    region: str = "us-east-1"
    hook_timeout_s: float | None = None
    probe_requests: int | None = None
    env: dict[str, str] = field(default_factory=dict)
    plan: Path | None = None
    check_paths: tuple[Path, ...] = ()

    def validate(self) -> None:
        if self.scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {self.scenario!r}; expected one of: {', '.join(SCENARIOS)}")
        steps_for(self.deployment_config)
        if self.time_scale < 0:
            raise ValueError("--time-scale must be >= 0")
        for name in ("blue", "green"):
            url, command = getattr(self, f"{name}_url"), getattr(self, f"{name}_command")
            if url and command:
                raise ValueError(f"give either --{name}-url or --{name}-cmd, not both")
            if url:
                parts = urlsplit(url)
                if parts.scheme != "http" or not parts.hostname or not parts.port:
                    raise ValueError(f"--{name}-url {url!r}: expected http://host:port")
        if self.plan is not None and not self.plan.is_file():
            raise ValueError(f"plan file {self.plan} not found")
        for path in self.check_paths:
            if not path.is_dir():
                raise ValueError(f"check path {path} is not a directory")
        if not self.template.is_file():
            raise ValueError(f"template {self.template} not found (run from the project root or pass --template)")


@dataclass
class HookRun:
    hook: str
    function_name: str
    execution_id: str
    status: str  # Succeeded, Failed, or "NoReport"
    reason: str
    summary: dict[str, Any] | None
    duration_s: float


@dataclass
class RehearsalResult:
    scenario: str
    deployment_config: str
    deployment_id: str
    status: str  # Succeeded or Failed (rolled back)
    reason: str
    failed_hook: str | None
    hooks: list[HookRun]
    production_target_groups: dict[str, int]
    timeline: list[dict[str, Any]]
    duration_s: float

    @property
    def succeeded(self) -> bool:
        return self.status == "Succeeded"

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "deployment_config": self.deployment_config,
            "deployment_id": self.deployment_id,
            "status": self.status,
            "reason": self.reason,
            "failed_hook": self.failed_hook,
            "production_target_groups": self.production_target_groups,
            "duration_s": round(self.duration_s, 3),
            "hooks": [h.__dict__ for h in self.hooks],
            "timeline": self.timeline,
        }


class Timeline:
    """Records every event and, when live, prints it as it happens."""

    def __init__(self, out: TextIO | None) -> None:
        self.events: list[dict[str, Any]] = []
        self._out = out
        self._started = time.monotonic()
        self._progress_shown = False

    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def emit(self, kind: str, text: str, *, detail: list[str] | None = None, **data: Any) -> None:
        event = {"t": round(self.elapsed(), 3), "kind": kind, "text": text, **data}
        self.events.append(event)
        if self._out is not None:
            self._clear_progress()
            print(f"[{event['t']:6.2f}s] {text}", file=self._out)
            for line in detail or []:
                print(f"          {line}", file=self._out)
            self._out.flush()

    def progress(self, label: str, done: int, total: int) -> None:
        """A one-line progress bar on a terminal; nothing on a pipe (pasted output stays clean)."""
        if self._out is None or not sys.stderr.isatty():
            return
        from trafficgate_local.render import progress_bar

        sys.stderr.write("\r          " + progress_bar(label, done, total))
        sys.stderr.flush()
        self._progress_shown = True

    def _clear_progress(self) -> None:
        if self._progress_shown:
            sys.stderr.write("\r" + " " * 72 + "\r")
            sys.stderr.flush()
            self._progress_shown = False


class Rehearsal:
    """One rehearsal run. Use :func:`rehearse` unless you need the pieces."""

    def __init__(self, options: RehearsalOptions, *, out: TextIO | None = None) -> None:
        options.validate()
        self.options = options
        self.timeline = Timeline(out)
        self._stack = contextlib.ExitStack()
        self._handlers: dict[Hook, Callable[..., Any]] = {}
        self._functions: dict[Hook, FunctionSpec] = {}
        self._hook_runs: list[HookRun] = []
        self.log_path = Path(tempfile.gettempdir()) / f"trafficgate-rehearsal-{os.getpid()}.log"

    # -- the whole run ---------------------------------------------------------------------

    def run(self) -> RehearsalResult:
        # Set-up and each hook write os.environ (fake credentials, endpoint, function environment):
        # put it back afterwards so an in-process caller is left as it was.
        saved_environ = dict(os.environ)
        self._stack.callback(_restore_environ, saved_environ)
        with self._stack:
            self._setup()
            status, reason, failed_hook = self._play()
            production = self._production_weights()
        return RehearsalResult(
            scenario=self.options.scenario
            if not self.options.green_url and not self.options.green_command
            else "custom",
            deployment_config=self.options.deployment_config,
            deployment_id=self.deployment_id,
            status=status,
            reason=reason,
            failed_hook=failed_hook,
            hooks=self._hook_runs,
            production_target_groups=production,
            timeline=self.timeline.events,
            duration_s=self.timeline.elapsed(),
        )

    # -- set-up ----------------------------------------------------------------------------

    def _setup(self) -> None:
        for path in self.options.check_paths:
            # Custom check modules, importable as a layer would make them under /opt/python.
            entry = str(path.resolve())
            sys.path.insert(0, entry)
            self._stack.callback(_remove_path, entry)
        from trafficgate_local.standin import StandInServer

        opts = self.options
        # Never real AWS: fake credentials and the stand-in's endpoint for this process and the hooks.
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_REGION": opts.region,
            "AWS_DEFAULT_REGION": opts.region,
        }.items():
            os.environ[name] = value
        os.environ.pop("AWS_PROFILE", None)
        server = StandInServer(region_name=opts.region)
        server.start()
        self._stack.callback(server.stop)
        os.environ["AWS_ENDPOINT_URL"] = server.endpoint_url
        # moto's backends live in the process, not the server: a second rehearsal in the same
        # process would find the first one's load balancer and target groups (DuplicateTargetGroupName).
        admin = server.admin(opts.region)
        try:
            admin.reset_moto()
        finally:
            admin.close()
        self.stand_in = server.stand_in(opts.region)
        session = boto3.session.Session(region_name=opts.region)
        self.ec2 = session.client("ec2", endpoint_url=server.endpoint_url)
        self.elbv2 = session.client("elbv2", endpoint_url=server.endpoint_url)
        self.ecs = session.client("ecs", endpoint_url=server.endpoint_url)
        self.codedeploy = session.client("codedeploy", endpoint_url=server.endpoint_url)

        self.blue = self._start_app("blue", opts.blue_url, opts.blue_command, AppBehaviour("blue"))
        self.green_behaviour = AppBehaviour("green", opts.scenario)
        self.green_address: tuple[str, int] | None = None
        prod_port, test_port = _free_port(), _free_port()
        self._build_aws(prod_port, test_port)
        self.lb = LocalLoadBalancer(
            self.elbv2,
            {self.prod_listener: prod_port, self.test_listener: test_port},
            cloudwatch=session.client("cloudwatch", endpoint_url=server.endpoint_url),
            load_balancer_arn=self.load_balancer_arn,
        ).start()

        self._stack.callback(self.lb.stop)
        self.timeline.emit(
            "setup",
            f"stand-in {server.endpoint_url} · blue {self.blue[0]}:{self.blue[1]} · "
            f"listeners prod :{prod_port}, test :{test_port} ({self.dns_name})",
            endpoint=server.endpoint_url,
            prod_port=prod_port,
            test_port=test_port,
        )
        self.timeline.emit(
            "deployment",
            f"deployment {self.deployment_id} created: {APPLICATION}/{DEPLOYMENT_GROUP}, "
            f"{opts.deployment_config}, green scenario '{self.timeline_scenario()}'",
            deployment_id=self.deployment_id,
        )

    def timeline_scenario(self) -> str:
        opts = self.options
        if opts.green_url:
            return f"your app at {opts.green_url}"
        if opts.green_command:
            return f"your command `{opts.green_command}`"
        return opts.scenario

    def _start_app(self, name: str, url: str | None, command: str | None, behaviour: AppBehaviour) -> tuple[str, int]:
        if url:
            parts = urlsplit(url)
            assert parts.hostname is not None and parts.port is not None
            return parts.hostname, parts.port
        if command:
            port = _free_port()
            # Its own process group: `sh -c "cd app && python serve.py"` forks the app, and terminating
            # only the shell would leave the app running (and holding our stderr) after the rehearsal.
            proc = subprocess.Popen(
                command,
                shell=True,
                env={**os.environ, "PORT": str(port)},
                stdout=subprocess.DEVNULL,
                start_new_session=True,
            )
            self._stack.callback(_terminate, proc)
            if not _wait_for_port(port, timeout_s=20.0, proc=proc):
                raise RuntimeError(f"{name} command `{command}` did not listen on $PORT={port} within 20 s")
            return "127.0.0.1", port
        app = DemoApp(behaviour).start()
        self._stack.callback(app.stop)
        if name == "green":
            self.green_app = app
        return "127.0.0.1", app.port

    def _build_aws(self, prod_port: int, test_port: int) -> None:
        vpc = self.ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            self.ec2.create_subnet(
                VpcId=vpc, CidrBlock=f"10.42.{i}.0/24", AvailabilityZone=f"{self.options.region}{z}"
            )["Subnet"]["SubnetId"]
            for i, z in ((1, "a"), (2, "b"))
        ]
        lb = self.elbv2.create_load_balancer(Name="trafficgate-rehearsal", Subnets=subnets)["LoadBalancers"][0]
        self.dns_name = lb["DNSName"]
        self.load_balancer_arn = lb["LoadBalancerArn"]
        self.blue_tg = self._target_group("trafficgate-blue", vpc)
        self.green_tg = self._target_group("trafficgate-green", vpc)
        self.elbv2.register_targets(TargetGroupArn=self.blue_tg, Targets=[{"Id": self.blue[0], "Port": self.blue[1]}])
        self.prod_listener = self._listener(lb["LoadBalancerArn"], prod_port, self.blue_tg)
        self.test_listener = self._listener(lb["LoadBalancerArn"], test_port, self.blue_tg)

        self.ecs.create_cluster(clusterName=CLUSTER)
        blue_def = self._register_task_definition(CONTAINER_PORT)
        self.ecs.create_service(
            cluster=CLUSTER,
            serviceName=SERVICE,
            taskDefinition=blue_def,
            desiredCount=DESIRED_COUNT,
            deploymentController={"type": "CODE_DEPLOY"},
            launchType="FARGATE",
            loadBalancers=[
                {"targetGroupArn": self.blue_tg, "containerName": CONTAINER, "containerPort": CONTAINER_PORT}
            ],
        )
        # The new revision the deployment installs; "bad-port" maps the wrong container port.
        green_port = WRONG_CONTAINER_PORT if self.options.scenario == "bad-port" else CONTAINER_PORT
        task_def = self._register_task_definition(green_port)
        self.task_definition = task_def

        self.codedeploy.create_application(applicationName=APPLICATION, computePlatform="ECS")
        self.codedeploy.create_deployment_group(
            applicationName=APPLICATION,
            deploymentGroupName=DEPLOYMENT_GROUP,
            deploymentConfigName=self.options.deployment_config,
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
                        "targetGroups": [{"name": "trafficgate-blue"}, {"name": "trafficgate-green"}],
                        "prodTrafficRoute": {"listenerArns": [self.prod_listener]},
                        "testTrafficRoute": {"listenerArns": [self.test_listener]},
                    }
                ]
            },
        )
        self.deployment_id = self.codedeploy.create_deployment(
            applicationName=APPLICATION,
            deploymentGroupName=DEPLOYMENT_GROUP,
            deploymentConfigName=self.options.deployment_config,
            revision=ecs_revision(
                task_def, CONTAINER, CONTAINER_PORT, hooks={h.value: self._function(h).function_name for h in Hook}
            ),
        )["deploymentId"]
        self.stand_in.set_task_sets(
            self.deployment_id,
            [self._task_set("ecs-svc/blue", "Blue", DESIRED_COUNT, 100.0, "trafficgate-blue")],
        )

    def _register_task_definition(self, container_port: int) -> str:
        arn: str = self.ecs.register_task_definition(
            family="trafficgate-rehearsal",
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="256",
            memory="512",
            containerDefinitions=[
                {
                    "name": CONTAINER,
                    "image": "public.ecr.aws/docker/library/nginx:stable",
                    "essential": True,
                    "portMappings": [{"containerPort": container_port, "protocol": "tcp"}],
                }
            ],
        )["taskDefinition"]["taskDefinitionArn"]
        return arn

    def _target_group(self, name: str, vpc: str) -> str:
        arn: str = self.elbv2.create_target_group(
            Name=name, Protocol="HTTP", Port=CONTAINER_PORT, VpcId=vpc, TargetType="ip"
        )["TargetGroups"][0]["TargetGroupArn"]
        return arn

    def _listener(self, lb_arn: str, port: int, target_group: str) -> str:
        arn: str = self.elbv2.create_listener(
            LoadBalancerArn=lb_arn,
            Protocol="HTTP",
            Port=port,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": target_group}],
        )["Listeners"][0]["ListenerArn"]
        return arn

    @staticmethod
    def _task_set(
        identifier: str, label: str, running: int, weight: float, tg: str, desired: int = DESIRED_COUNT
    ) -> dict[str, Any]:
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

    # -- the sequence ----------------------------------------------------------------------

    def _play(self) -> tuple[str, str, str | None]:
        sequence: list[tuple[str, Callable[[], None] | Hook]] = [
            ("BeforeInstall", Hook.BEFORE_INSTALL),
            ("Install", self._install),
            ("AfterInstall", Hook.AFTER_INSTALL),
            ("AllowTestTraffic", self._allow_test_traffic),
            ("AfterAllowTestTraffic", Hook.AFTER_ALLOW_TEST_TRAFFIC),
            ("BeforeAllowTraffic", Hook.BEFORE_ALLOW_TRAFFIC),
            ("AllowTraffic", self._allow_traffic),
            ("AfterAllowTraffic", Hook.AFTER_ALLOW_TRAFFIC),
        ]
        for name, step in sequence:
            if isinstance(step, Hook):
                run = self._run_hook(step)
                if run.status != "Succeeded":
                    reason = f"{name} {run.status}: {run.reason}"
                    self._rollback(name, reason)
                    return "Failed", reason, name
            else:
                self.stand_in.set_lifecycle_event_status(self.deployment_id, name, "InProgress")
                step()
                self.stand_in.set_lifecycle_event_status(self.deployment_id, name, "Succeeded")
        self._finish()
        return "Succeeded", "every hook reported Succeeded; production traffic on green", None

    def _install(self) -> None:
        if self.options.green_url or self.options.green_command:
            self.green_address = self._start_app(
                "green", self.options.green_url, self.options.green_command, self.green_behaviour
            )
        else:
            self.green_address = self._start_app("green", None, None, self.green_behaviour)
        task_set = self.ecs.create_task_set(
            cluster=CLUSTER,
            service=SERVICE,
            taskDefinition=self.task_definition,
            loadBalancers=[
                {"targetGroupArn": self.green_tg, "containerName": CONTAINER, "containerPort": CONTAINER_PORT}
            ],
            launchType="FARGATE",
        )["taskSet"]
        green_id = task_set.get("id") or "ecs-svc/green"
        self.green_task_set = green_id
        if self.options.scenario == "oom":
            # One replacement task runs out of memory, as ECS reports it: a stopped task of the set.
            from trafficgate_local.standin import add_task

            add_task(
                self.options.region,
                CLUSTER,
                self.task_definition,
                green_id,
                last_status="STOPPED",
                stopped_reason="Essential container in task exited",
                container_reason="OutOfMemoryError: Container killed due to memory usage",
                stop_code="EssentialContainerExited",
                exit_code=137,
            )
        self.elbv2.register_targets(
            TargetGroupArn=self.green_tg, Targets=[{"Id": self.green_address[0], "Port": self.green_address[1]}]
        )
        blue = self._task_set("ecs-svc/blue", "Blue", DESIRED_COUNT, 100.0, "trafficgate-blue")
        for running in range(DESIRED_COUNT + 1):
            green = self._task_set(green_id, "Green", running, 0.0, "trafficgate-green")
            self.stand_in.set_task_sets(self.deployment_id, [blue, green])
            self.timeline.emit(
                "install",
                f"Install: replacement task set {green_id} running {running}/{DESIRED_COUNT}"
                f" (green at {self.green_address[0]}:{self.green_address[1]})",
                running=running,
                desired=DESIRED_COUNT,
            )
            if running < DESIRED_COUNT:
                time.sleep(0.1)

    def _allow_test_traffic(self) -> None:
        self._forward(self.test_listener, {self.green_tg: 1})
        self.timeline.emit(
            "traffic", "AllowTestTraffic: test listener → green (100%)", listener="test", green_percent=100
        )

    def _allow_traffic(self) -> None:
        steps = steps_for(self.options.deployment_config)
        blue = "trafficgate-blue"
        for index, step in enumerate(steps, 1):
            weights = {self.blue_tg: 100 - step.green_percent, self.green_tg: step.green_percent}
            self._forward(self.prod_listener, {arn: w for arn, w in weights.items() if w > 0})
            self.stand_in.set_task_sets(
                self.deployment_id,
                [
                    self._task_set("ecs-svc/blue", "Blue", DESIRED_COUNT, float(100 - step.green_percent), blue),
                    self._task_set(
                        self.green_task_set, "Green", DESIRED_COUNT, float(step.green_percent), "trafficgate-green"
                    ),
                ],
            )
            wait = step.wait_s * self.options.time_scale
            self.timeline.emit(
                "traffic",
                f"AllowTraffic step {index}/{len(steps)}: production listener → green {step.green_percent}%, "
                f"blue {100 - step.green_percent}%"
                + (f"; bake {wait:.1f} s (config {step.wait_s:.0f} s)" if wait else ""),
                listener="prod",
                step=index,
                green_percent=step.green_percent,
                wait_s=round(wait, 3),
            )
            self._sleep_with_progress(wait, f"bake {step.green_percent}%")

    def _sleep_with_progress(self, seconds: float, label: str) -> None:
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            done = int((seconds - left) * 10)
            self.timeline.progress(label, done, int(seconds * 10))
            time.sleep(min(0.1, left))

    def _forward(self, listener: str, weights: dict[str, int]) -> None:
        self.elbv2.modify_listener(
            ListenerArn=listener,
            DefaultActions=[
                {
                    "Type": "forward",
                    "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": a, "Weight": w} for a, w in weights.items()]},
                }
            ],
        )
        self.lb.refresh()

    def _rollback(self, step: str, reason: str) -> None:
        self._forward(self.prod_listener, {self.blue_tg: 1})
        self._forward(self.test_listener, {self.blue_tg: 1})
        tasks = [self._task_set("ecs-svc/blue", "Blue", DESIRED_COUNT, 100.0, "trafficgate-blue")]
        if getattr(self, "green_task_set", None):
            tasks.append(self._task_set(self.green_task_set, "Green", 0, 0.0, "trafficgate-green", desired=0))
        self.stand_in.set_task_sets(self.deployment_id, tasks)
        self.stand_in.set_target_status(self.deployment_id, "Failed")
        self._set_deployment_status("Failed")
        self.timeline.emit(
            "rollback",
            f"ROLLBACK after {step}: production and test listeners → blue; deployment marked Failed",
            step=step,
            reason=reason,
        )

    def _finish(self) -> None:
        self.stand_in.set_target_status(self.deployment_id, "Succeeded")
        self._set_deployment_status("Succeeded")

    def _set_deployment_status(self, status: str) -> None:
        # moto has no StopDeployment; the stand-in's own backend object carries the status.
        self.stand_in.backend.deployments[self.deployment_id].status = status

    def _production_weights(self) -> dict[str, int]:
        listener = self.elbv2.describe_listeners(ListenerArns=[self.prod_listener])["Listeners"][0]
        names = {self.blue_tg: "trafficgate-blue", self.green_tg: "trafficgate-green"}
        weights: dict[str, int] = {}
        for action in listener.get("DefaultActions", []):
            groups = (action.get("ForwardConfig") or {}).get("TargetGroups") or (
                [{"TargetGroupArn": action["TargetGroupArn"], "Weight": 1}] if action.get("TargetGroupArn") else []
            )
            total = sum(int(g.get("Weight", 1)) for g in groups) or 1
            for g in groups:
                weights[names.get(g["TargetGroupArn"], g["TargetGroupArn"])] = round(
                    100 * int(g.get("Weight", 1)) / total
                )
        return weights

    # -- hooks -----------------------------------------------------------------------------

    def _function(self, hook: Hook) -> FunctionSpec:
        if hook not in self._functions:
            self._functions[hook] = find_function(self.options.template, hook, region=self.options.region)
        return self._functions[hook]

    def _hook_environment(self, spec: FunctionSpec) -> dict[str, str]:
        env = function_environment(spec, region=self.options.region, shell=os.environ)
        env[constants.RESOLVE] = f"{self.dns_name}=127.0.0.1"
        ours = not (self.options.green_url or self.options.green_command)
        if ours and not env.get(constants.BODY_REGEX):
            # Our demo apps answer {"status": "ok"}; a wrong body must fail the probe.
            env[constants.BODY_REGEX] = HEALTHY_BODY_REGEX
        if self.options.probe_requests is not None:
            env[constants.PROBE_REQUESTS] = str(self.options.probe_requests)
        if constants.BAKE_SECONDS not in self.options.env:
            # The bake follows the time scale like every other wait of the rehearsal.
            bake = float(env.get(constants.BAKE_SECONDS) or 60)
            env[constants.BAKE_SECONDS] = f"{bake * self.options.time_scale:g}"
        if self.options.plan is not None:
            env[constants.PLAN_FILE] = str(self.options.plan.resolve())
        env.update(self.options.env)
        return env

    def _run_hook(self, hook: Hook) -> HookRun:
        from trafficgate.observability import logger, send_logs_to
        from trafficgate.runner import configure_runner, reset_runner

        spec = self._function(hook)
        timeout = self.options.hook_timeout_s or spec.timeout_s
        for name, value in self._hook_environment(spec).items():
            if name not in {"PATH", "HOME", "LANG", "TZ", "PYTHONPATH"}:
                os.environ[name] = value
        execution_id = self.stand_in.register_hook_execution(self.deployment_id, hook.value)
        self.timeline.emit(
            "hook-start", f"{hook.value} → {spec.function_name}", hook=hook.value, execution_id=execution_id
        )
        handler = self._handler(hook, spec)
        reset_runner()
        configure_runner(on_progress=lambda check, done, total: self.timeline.progress(check, done, total))
        context = LocalLambdaContext(function_name=spec.function_name, timeout_s=timeout, region=self.options.region)
        event = {"DeploymentId": self.deployment_id, "LifecycleEventHookExecutionId": execution_id}
        outcome: dict[str, Any] = {}
        if not hasattr(self, "_log"):
            self._log = self._stack.enter_context(open(self.log_path, "a"))  # noqa: SIM115
            # Runs before the file closes (LIFO): a later rehearsal in this process must not find
            # the log handler writing to a closed file.
            previous = getattr(logger.registered_handler, "stream", sys.stdout)
            self._stack.callback(send_logs_to, previous)
        log = self._log
        send_logs_to(log)

        def call() -> None:
            try:
                with contextlib.redirect_stdout(log):
                    outcome["summary"] = handler(event, context)
            except Exception as exc:
                outcome["error"] = f"{type(exc).__name__}: {exc}"

        started = time.monotonic()
        # A real function is killed at its timeout and cannot report after it; this thread cannot be
        # killed, so a report it makes later (margin 0) must not count, however the threads race.
        cutoff = datetime.now(UTC) + timedelta(seconds=timeout)
        worker = threading.Thread(target=call, name=f"hook-{hook.value}", daemon=True)
        worker.start()
        worker.join(timeout)
        duration = time.monotonic() - started
        records = [
            r for r in self.stand_in.statuses(self.deployment_id) if r.execution_id == execution_id and r.time <= cutoff
        ]
        summary = outcome.get("summary")
        if records:
            status = records[0].status
            reason = (summary or {}).get("reason", "") or outcome.get("error", "")
        else:
            status = "NoReport"
            reason = f"no status recorded within the function timeout of {timeout:.0f} s" + (
                f" ({outcome['error']})" if "error" in outcome else ""
            )
        detail = _check_lines(summary) if summary else []
        self.timeline.emit(
            "hook",
            f"{hook.value}: {status} in {duration * 1000:.0f} ms — {reason}",
            detail=detail,
            hook=hook.value,
            status=status,
            reason=reason,
            checks=(summary or {}).get("checks", []),
        )
        run = HookRun(hook.value, spec.function_name, execution_id, status, reason, summary, round(duration, 3))
        self._hook_runs.append(run)
        return run

    def _handler(self, hook: Hook, spec: FunctionSpec) -> Callable[..., Any]:
        # One module per function, loaded once: like a warm Lambda container.
        if hook not in self._handlers:
            self._handlers[hook] = load_handler(spec.code_dir, spec.handler)
        return self._handlers[hook]


def _check_lines(summary: dict[str, Any]) -> list[str]:
    from trafficgate_local.render import short

    lines = []
    for c in summary.get("checks", []):
        flag = " [dry run]" if c.get("dry_run") else ("" if c.get("enforce", True) else " [not enforced]")
        lines.append(
            f"{c['id']}: {c['outcome']}{flag} · value {short(c.get('value'))} · threshold {short(c.get('threshold'))}"
            f" · {c.get('reason', '')}"
        )
        lines.extend(f"  ! {w}" for w in c.get("warnings") or [])
    return lines


def _restore_environ(saved: dict[str, str]) -> None:
    for name in set(os.environ) - set(saved):
        del os.environ[name]
    os.environ.update(saved)


def _remove_path(entry: str) -> None:
    if entry in sys.path:
        sys.path.remove(entry)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_for_port(port: int, *, timeout_s: float, proc: subprocess.Popen[bytes]) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            return False
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
        time.sleep(0.1)
    return False


def _terminate(proc: subprocess.Popen[bytes]) -> None:
    # The whole group the command started (see _start_app), not just its shell.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def rehearse(options: RehearsalOptions, *, out: TextIO | None = None) -> RehearsalResult:
    """Run one rehearsal and return its record (printing the live timeline to ``out``)."""
    return Rehearsal(options, out=out).run()


__all__ = ["SCENARIOS", "RehearsalOptions", "RehearsalResult", "rehearse"]
