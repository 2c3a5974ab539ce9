"""The deployment conductor: plays a whole CodeDeploy ECS blue/green deployment on this machine.

It builds the deployment in the embedded AWS stand-in (:mod:`.topology`), serves the listeners
with a local load balancer in front of two real apps (:mod:`.processes`), and then plays
CodeDeploy's sequence. Each hook runs through its real handler with a fresh execution id, and its
verdict is read from the status recorded by the stand-in, never from the handler's return value
(:mod:`.hook_calls`). A Failed verdict, or a hook that never reports within its timeout, rolls
back: the production listener returns to blue and the deployment is marked Failed. Everything
that happens is recorded in a :class:`~.timeline.Timeline`.

:class:`RehearsalOptions`, :class:`RehearsalResult`, :class:`HookRun`, :class:`Timeline` and
:data:`SCENARIOS` are re-exported here, where callers have always imported them from.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TextIO

import boto3

from trafficgate import constants
from trafficgate.checks.targets import TargetsHealthy
from trafficgate.config import DEFAULT_PLAN_SSM_PREFIX
from trafficgate.hooks import Hook
from trafficgate_local.rehearsal.apps import (
    SCENARIO_SETTINGS,
    SCENARIOS,
    AppBehaviour,
    scenario_delays,
    scenario_noise,
)
from trafficgate_local.rehearsal.hook_calls import HookCaller
from trafficgate_local.rehearsal.options import RehearsalOptions
from trafficgate_local.rehearsal.processes import free_port, start_app
from trafficgate_local.rehearsal.proxy import LocalLoadBalancer
from trafficgate_local.rehearsal.target_watch import TargetHealthWatch
from trafficgate_local.rehearsal.timeline import HookRun, RehearsalResult, Timeline
from trafficgate_local.rehearsal.topology import (
    APPLICATION,
    BLUE_TARGET_GROUP,
    BLUE_TASK_SET,
    DEPLOYMENT_GROUP,
    DESIRED_COUNT,
    GREEN_TARGET_GROUP,
    Clients,
    Topology,
    add_out_of_memory_task,
    build_topology,
    create_green_task_set,
    production_weights,
    task_set,
)
from trafficgate_local.rehearsal.traffic import steps_for
from trafficgate_local.rehearsal.user_load import UserLoad
from trafficgate_local.standin import StandInServer
from trafficgate_local.template import FunctionSpec, find_function

__all__ = ["SCENARIOS", "HookRun", "Rehearsal", "RehearsalOptions", "RehearsalResult", "Timeline", "rehearse"]

class Layout(Protocol):
    """What set-up needs of a deployment's AWS side, whichever platform built it."""

    @property
    def dns_name(self) -> str: ...
    @property
    def load_balancer_arn(self) -> str: ...
    @property
    def green_tg(self) -> str: ...
    @property
    def prod_listener(self) -> str: ...
    @property
    def test_listener(self) -> str: ...
    @property
    def deployment_id(self) -> str: ...


#: Longer than the first health checks could last, should a loaded machine be slow to read them.
_SETTLE_GUARD_S = 5.0


class Rehearsal:
    """One rehearsal run. Use :func:`rehearse` unless you need the pieces.

    Parameters
    ----------
    options : RehearsalOptions
        What to rehearse; validated here.
    out : text stream, optional
        Where the live timeline is printed; nothing is printed when omitted.
    """

    def __init__(self, options: RehearsalOptions, *, out: TextIO | None = None) -> None:
        options.validate()
        self.options = options
        self.timeline = Timeline(out)
        self._stack = contextlib.ExitStack()
        self._functions: dict[Hook, FunctionSpec] = {}
        self._hook_runs: list[HookRun] = []
        self.green_address: tuple[str, int] | None = None
        self.green_task_set = ""  # the replacement task set's id, once Install created it
        self.topology: Topology
        #: The deployment's final status as the platform names it (CodeDeploy: Succeeded/Failed).
        self.deployment_status = ""
        self.log_path = Path(tempfile.gettempdir()) / f"trafficgate-rehearsal-{os.getpid()}.log"

    @property
    def layout(self) -> Layout:
        """The deployment's load balancer, listeners and target groups (known once set-up has run)."""
        return self.topology

    @property
    def deployment_id(self) -> str:
        """The deployment being rehearsed (known once set-up has run)."""
        return self.layout.deployment_id

    @property
    def dns_name(self) -> str:
        """The load balancer's DNS name; the hooks resolve it to 127.0.0.1."""
        return self.layout.dns_name

    # -- the whole run ---------------------------------------------------------------------

    def run(self) -> RehearsalResult:
        """Set up, play CodeDeploy's sequence, tear everything down and return the record."""
        # Set-up and each hook write os.environ (fake credentials, endpoint, function environment):
        # put it back afterwards so an in-process caller is left as it was.
        saved_environ = dict(os.environ)
        self._stack.callback(_restore_environ, saved_environ)
        with self._stack:
            self._setup()
            status, reason, failed_hook = self._play()
            self._stop_user_load()
            production = self._production_weights()
        return RehearsalResult(
            scenario=self.options.scenario if self.options.green_is_ours else "custom",
            deployment_config=self.options.deployment_config,
            deployment_id=self.deployment_id,
            status=status,
            reason=reason,
            failed_hook=failed_hook,
            hooks=self._hook_runs,
            production_target_groups=production,
            timeline=self.timeline.events,
            duration_s=self.timeline.elapsed(),
            started_at=self.timeline.started_at,
            platform=self.options.platform,
            deployment_status=self.deployment_status,
        )

    def _production_weights(self) -> dict[str, int]:
        return production_weights(self.aws.elbv2, self.topology)

    # -- set-up ----------------------------------------------------------------------------

    def _setup(self) -> None:
        endpoint_url = self._start_stand_in()
        opts = self.options
        blue_delay, green_delay = scenario_delays(opts.scenario)
        noise = scenario_noise(opts.scenario)
        blue_behaviour = AppBehaviour("blue", delay_s=blue_delay, noise_rate=noise)
        self.blue = start_app("blue", opts.blue_url, opts.blue_command, blue_behaviour, self._stack)
        self.green_behaviour = AppBehaviour("green", opts.scenario, delay_s=green_delay, noise_rate=noise)
        prod_port, test_port = free_port(), free_port()
        self._build(prod_port, test_port)
        self.hooks = self._hook_caller()
        # The stack's ProgressKey: an HMAC key in the stand-in, so a hook that continues seals its progress.
        key = self.aws.kms.create_key(
            KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC", Description="trafficgate rehearsal ProgressKey"
        )
        self.hooks.progress_key_arn = key["KeyMetadata"]["Arn"]
        layout = self.layout
        self.green_health = TargetHealthWatch(self.aws.elbv2, layout.green_tg, GREEN_TARGET_GROUP, self.timeline)
        self.lb = LocalLoadBalancer(
            self.aws.elbv2,
            {layout.prod_listener: prod_port, layout.test_listener: test_port},
            cloudwatch=self.aws.cloudwatch,
            load_balancer_arn=layout.load_balancer_arn,
        ).start()
        self._stack.callback(self.lb.stop)
        self.timeline.emit(
            "setup",
            f"stand-in {endpoint_url} · blue {self.blue[0]}:{self.blue[1]} · "
            f"listeners prod :{prod_port}, test :{test_port} ({self.dns_name})",
            endpoint=endpoint_url,
            prod_port=prod_port,
            test_port=test_port,
        )
        self.timeline.emit(
            "deployment",
            self._deployment_text() + f", green scenario '{self.timeline_scenario()}'" + self._scenario_settings(),
            deployment_id=self.deployment_id,
            platform=opts.platform,
        )
        self._start_user_load(prod_port)
        self._start_approver()

    def _approval(self) -> tuple[str, str]:
        """The approval parameter approval.gate reads for this deployment, and the value that approves it."""
        prefix = self.options.env.get(constants.PLAN_SSM_PREFIX) or DEFAULT_PLAN_SSM_PREFIX
        return f"{prefix}/{APPLICATION}/approval", f"approve {self.deployment_id}"

    def _start_approver(self) -> None:
        """``--approve-after``: a person writes the approval into SSM that long after approval.gate begins to wait."""
        after = self.options.approve_after_s
        if after is None:
            return
        name, value = self._approval()
        ssm = boto3.session.Session(region_name=self.options.region).client(
            "ssm", endpoint_url=os.environ["AWS_ENDPOINT_URL"]
        )

        def approve() -> None:
            ssm.put_parameter(Name=name, Value=value, Type="String", Overwrite=True)
            self.timeline.emit("approval", f"a person approved: {name} = {value!r}", parameter=name)

        def gate_waits() -> None:
            timer = threading.Timer(after, approve)
            timer.daemon = True
            timer.start()
            self._stack.callback(timer.cancel)
            self.timeline.emit(
                "approval-wait", f"approval.gate waits for {name}; a person approves in {after:g} s", parameter=name
            )

        self.hooks.on_gate = gate_waits

    def _build(self, prod_port: int, test_port: int) -> None:
        """Build the deployment in the stand-in (``self.topology``)."""
        opts = self.options
        self.topology = build_topology(
            self.aws,
            self.stand_in,
            region=opts.region,
            scenario=opts.scenario,
            deployment_config=opts.deployment_config,
            blue=self.blue,
            prod_port=prod_port,
            test_port=test_port,
            hook_functions={h.value: self._function(h).function_name for h in Hook},
        )

    #: The hook caller of this platform (ECS: :class:`~.ecs_hook_calls.EcsHookCaller`).
    hook_caller_class: type[HookCaller] = HookCaller

    def _hook_caller(self) -> HookCaller:
        return self.hook_caller_class(
            self.options,
            self.stand_in,
            self.deployment_id,
            dns_name=self.dns_name,
            timeline=self.timeline,
            stack=self._stack,
            log_path=self.log_path,
        )

    def _deployment_text(self) -> str:
        return (
            f"deployment {self.deployment_id} created: {APPLICATION}/{DEPLOYMENT_GROUP}, "
            f"{self.options.deployment_config}"
        )

    #: The Host header simulated users send (a listener rule's condition); None: the listener's own.
    user_load_host: str | None = None

    def _start_user_load(self, prod_port: int) -> None:
        """Simulated users through the production listener, for the whole deployment (off at 0 rps)."""
        self.user_load: UserLoad | None = None
        rps = self.options.user_load_rps
        if rps <= 0:
            return
        self.user_load = UserLoad(prod_port, rps, host=self.user_load_host).start()
        # Stopped before the load balancer and the apps (the stack closes last-in first-out).
        self._stack.callback(self._stop_user_load)
        self.timeline.emit(
            "user-load",
            f"simulated users: {rps:g} requests/s through the production listener (not probe evidence)",
            rps=rps,
        )

    def _stop_user_load(self) -> None:
        load = getattr(self, "user_load", None)
        if load is None:
            return
        self.user_load = None
        load.stop()
        statuses = dict(sorted(load.statuses.items()))
        shown = ", ".join(f"{n} x {s}" for s, n in statuses.items()) or "none answered"
        self.timeline.emit(
            "user-load",
            f"simulated users stopped: {sum(statuses.values())} requests ({shown})",
            statuses=statuses,
            stopped=not load.running,
        )

    def _start_stand_in(self) -> str:
        """Start the stand-in and point this process at it; return its endpoint URL."""
        for path in self.options.check_paths:
            # Custom check modules, importable as a layer would make them under /opt/python.
            entry = str(path.resolve())
            sys.path.insert(0, entry)
            self._stack.callback(_remove_path, entry)
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
        # The load balancer's first health checks of green's targets, on the rehearsal's time scale.
        self.stand_in.set_target_health_timing(initial_s=opts.initial_health_s)
        self.aws = Clients.connect(server.endpoint_url, opts.region)
        return server.endpoint_url

    def _scenario_settings(self) -> str:
        """The settings the scenario's service has (and the user did not set), for the timeline."""
        opts = self.options
        own = SCENARIO_SETTINGS.get(opts.scenario, {}) if opts.green_is_ours else {}
        shown = [f"{name}={value}" for name, value in own.items() if name not in opts.env]
        return f" (its service sets {', '.join(shown)})" if shown else ""

    def timeline_scenario(self) -> str:
        """How the timeline names green: the scenario, or the user's app or command."""
        opts = self.options
        if opts.green_url:
            return f"your app at {opts.green_url}"
        if opts.green_command:
            return f"your command `{opts.green_command}`"
        return opts.scenario

    def _function(self, hook: Hook) -> FunctionSpec:
        if hook not in self._functions:
            self._functions[hook] = find_function(self.options.template, hook, region=self.options.region)
        return self._functions[hook]

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
            if self.green_address is not None:
                self.green_health.observe()
        self._finish()
        return "Succeeded", "every hook reported Succeeded; production traffic on green", None

    def _run_hook(self, hook: Hook) -> HookRun:
        run = self.hooks.call(hook, self._function(hook))
        self._hook_runs.append(run)
        return run

    def _install(self) -> None:
        opts = self.options
        self.green_address = start_app("green", opts.green_url, opts.green_command, self.green_behaviour, self._stack)
        green_id = create_green_task_set(self.aws.ecs, self.topology)
        self.green_task_set = green_id
        if opts.scenario == "oom":
            add_out_of_memory_task(opts.region, self.topology, green_id)
        self.aws.elbv2.register_targets(
            TargetGroupArn=self.topology.green_tg,
            Targets=[{"Id": self.green_address[0], "Port": self.green_address[1]}],
        )
        self.green_health.observe()  # unused: no listener forwards to green before AllowTestTraffic
        blue = task_set(BLUE_TASK_SET, "Blue", DESIRED_COUNT, 100.0, BLUE_TARGET_GROUP)
        for running in range(DESIRED_COUNT + 1):
            green = task_set(green_id, "Green", running, 0.0, GREEN_TARGET_GROUP)
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
        self._forward(self.topology.test_listener, {self.topology.green_tg: 1})
        self.timeline.emit(
            "traffic", "AllowTestTraffic: test listener → green (100%)", listener="test", green_percent=100
        )
        # Green's targets now get their first health checks (initial). CodeDeploy does not wait for
        # them. The rehearsal waits out checks shorter than elb.targets_healthy's poll interval: the
        # time scale shrinks the checks (seconds on AWS) but not that interval, and AfterAllowTestTraffic
        # would spend a whole interval polling a window of a fraction of a second. Longer checks are
        # left to AfterAllowTestTraffic, which polls them as it would on AWS.
        initial_s = self.options.initial_health_s
        if initial_s <= TargetsHealthy().poll_interval_s:
            self.green_health.settle(initial_s + _SETTLE_GUARD_S)
        else:
            self.green_health.observe()

    def _allow_traffic(self) -> None:
        steps = steps_for(self.options.deployment_config)
        topology = self.topology
        for index, step in enumerate(steps, 1):
            weights = {topology.blue_tg: 100 - step.green_percent, topology.green_tg: step.green_percent}
            self._forward(topology.prod_listener, {arn: w for arn, w in weights.items() if w > 0})
            self.stand_in.set_task_sets(
                self.deployment_id,
                [
                    task_set(BLUE_TASK_SET, "Blue", DESIRED_COUNT, float(100 - step.green_percent), BLUE_TARGET_GROUP),
                    task_set(
                        self.green_task_set, "Green", DESIRED_COUNT, float(step.green_percent), GREEN_TARGET_GROUP
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
            self.timeline.sleep(wait, f"bake {step.green_percent}%")

    def _forward(self, listener: str, weights: dict[str, int]) -> None:
        self.aws.elbv2.modify_listener(
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
        self._forward(self.topology.prod_listener, {self.topology.blue_tg: 1})
        self._forward(self.topology.test_listener, {self.topology.blue_tg: 1})
        tasks = [task_set(BLUE_TASK_SET, "Blue", DESIRED_COUNT, 100.0, BLUE_TARGET_GROUP)]
        if self.green_task_set:
            tasks.append(task_set(self.green_task_set, "Green", 0, 0.0, GREEN_TARGET_GROUP, desired=0))
        self.stand_in.set_task_sets(self.deployment_id, tasks)
        self.stand_in.set_target_status(self.deployment_id, "Failed")
        self._set_deployment_status("Failed")
        self.timeline.emit(
            "rollback",
            f"ROLLBACK after {step}: production and test listeners → blue; deployment marked Failed",
            step=step,
            reason=reason,
        )
        if self.green_address is not None:
            self.green_health.observe()  # nothing forwards to green any more: unused again

    def _finish(self) -> None:
        self.stand_in.set_target_status(self.deployment_id, "Succeeded")
        self._set_deployment_status("Succeeded")

    def _set_deployment_status(self, status: str) -> None:
        # moto has no StopDeployment; the stand-in sets the status (and the completeTime) itself.
        self.stand_in.set_deployment_status(self.deployment_id, status)
        self.deployment_status = status


def _restore_environ(saved: dict[str, str]) -> None:
    for name in set(os.environ) - set(saved):
        del os.environ[name]
    os.environ.update(saved)


def _remove_path(entry: str) -> None:
    if entry in sys.path:
        sys.path.remove(entry)


def rehearse(options: RehearsalOptions, *, out: TextIO | None = None) -> RehearsalResult:
    """Run one rehearsal and return its record (printing the live timeline to ``out``).

    Parameters
    ----------
    options : RehearsalOptions
        What to rehearse.
    out : text stream, optional
        Where the live timeline is printed.

    Returns
    -------
    RehearsalResult
    """
    if options.platform == "ecs":
        # Deferred: the ECS conductor builds on this module's Rehearsal.
        from trafficgate_local.rehearsal.ecs_conductor import EcsRehearsal

        return EcsRehearsal(options, out=out).run()
    return Rehearsal(options, out=out).run()
