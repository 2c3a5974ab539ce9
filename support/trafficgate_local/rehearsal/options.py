"""What to rehearse: :class:`RehearsalOptions`, as ``trafficgate rehearse`` and the tests give them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from trafficgate_local.rehearsal.apps import SCENARIOS
from trafficgate_local.rehearsal.ecs_config import ecs_strategy
from trafficgate_local.rehearsal.traffic import steps_for

__all__ = ["DEFAULT_USER_LOAD_RPS", "FIRST_HEALTH_CHECKS_S", "PLATFORMS", "RehearsalOptions"]

#: What a rehearsal can play: a CodeDeploy blue/green deployment, or an ECS-native one.
PLATFORMS = ("codedeploy", "ecs")
#: Simulated users' requests per second through the production listener: enough for the ALB
#: metrics of a canary step to pass the metric checks' minimum samples within a second or two of
#: a scaled bake, little enough to leave a 2-core machine to the probes.
DEFAULT_USER_LOAD_RPS = 20.0
_MAX_USER_LOAD_RPS = 500.0

#: How long a load balancer's first health checks of a target take, in the deployment's own time:
#: one check at an ALB target group's default 30 s interval. Scaled by ``time_scale`` like every wait.
FIRST_HEALTH_CHECKS_S = 30.0
#: The stand-in accepts at most an hour (``target_health.MAX_TIMING_S``).
_MAX_TARGET_INITIAL_S = 3600.0


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
    target_initial_s
        Seconds green's targets read ``initial`` once a listener forwards to their group (the load
        balancer's first health checks); :data:`FIRST_HEALTH_CHECKS_S` times ``time_scale`` when omitted.
    platform
        ``codedeploy`` (CodeDeploy's hooks) or ``ecs`` (ECS-native lifecycle stages, one function).
    user_load_rps
        Simulated users' requests per second through the production listener during the whole
        rehearsal (0 turns them off); they feed the ALB metrics, never the probes.
    bake_minutes
        ``bakeTimeInMinutes`` of the ECS service (``--platform ecs``), waited times ``time_scale``.
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
    target_initial_s: float | None = None
    platform: str = "codedeploy"
    user_load_rps: float = DEFAULT_USER_LOAD_RPS
    bake_minutes: float = 1.0
    approve_after_s: float | None = None

    @property
    def initial_health_s(self) -> float:
        """How long targets stay ``initial`` in this rehearsal (see ``target_initial_s``)."""
        if self.target_initial_s is not None:
            return self.target_initial_s
        return min(FIRST_HEALTH_CHECKS_S * self.time_scale, _MAX_TARGET_INITIAL_S)

    @property
    def green_is_ours(self) -> bool:
        """True when green is our demo app playing :attr:`scenario`, not the user's app."""
        return not (self.green_url or self.green_command)

    def validate(self) -> None:
        """Check the options before anything starts.

        Raises
        ------
        ValueError
            Naming the option (as its command-line flag) and what was expected.
        """
        if self.scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {self.scenario!r}; expected one of: {', '.join(SCENARIOS)}")
        if self.platform not in PLATFORMS:
            raise ValueError(f"--platform {self.platform!r}: expected one of {', '.join(PLATFORMS)}")
        if self.platform == "ecs":
            ecs_strategy(self.deployment_config)
        elif self.deployment_config.strip().lower().startswith("ecs:"):
            raise ValueError(f"--config {self.deployment_config!r} is an ECS strategy: give --platform ecs with it")
        else:
            steps_for(self.deployment_config)
        if not 0 <= self.user_load_rps <= _MAX_USER_LOAD_RPS:
            raise ValueError(
                f"--user-load must be between 0 (off) and {_MAX_USER_LOAD_RPS:g} requests per second, "
                f"not {self.user_load_rps:g}"
            )
        if not 0 <= self.bake_minutes <= 1440:
            raise ValueError(
                f"--bake-minutes must be between 0 and 1440 (ECS bakeTimeInMinutes), not {self.bake_minutes:g}"
            )
        if self.time_scale < 0:
            raise ValueError("--time-scale must be >= 0")
        if self.approve_after_s is not None and not 0 <= self.approve_after_s <= 3000:
            raise ValueError(
                f"--approve-after must be between 0 and 3000 seconds (within CodeDeploy's hour), "
                f"not {self.approve_after_s:g}"
            )
        if self.target_initial_s is not None and not 0 <= self.target_initial_s <= _MAX_TARGET_INITIAL_S:
            raise ValueError(f"--target-initial-s must be between 0 and {_MAX_TARGET_INITIAL_S:g}")
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
