"""moto's ELBv2 ``DescribeTargetHealth``, answering with the states a real load balancer reports.

moto calls every registered target ``healthy`` from the moment it is registered, whether or not
anything sends it traffic, and forgets a deregistered target at once. A real Application Load
Balancer does not (ELBv2 API reference, ``TargetHealth``), and ``elb.targets_healthy`` judges each
state differently, so the stand-in answers as the service does:

=====================  =================================  ============================================
state                  reason                             when
=====================  =================================  ============================================
``unused``             ``Target.NotInUse``                no listener default action and no listener
                                                          rule forwards to the group (a plain
                                                          ``TargetGroupArn`` and a ``ForwardConfig``
                                                          entry both count): in an ECS blue/green
                                                          deployment, green before AllowTestTraffic
``initial``            ``Elb.RegistrationInProgress``     for ``initial_s`` after the target was
                                                          registered in a group in use
``initial``            ``Elb.InitialHealthChecking``      for ``initial_s`` after a group whose targets
                                                          were already registered came into use (its
                                                          first health checks)
``draining``           ``Target.DeregistrationInProgress`` for ``draining_s`` after deregistration; the
                                                          target is listed until then
``healthy``            (none; Reason and Description      otherwise (moto's answer, which also keeps its
                       are absent)                        EC2 instance states)
=====================  =================================  ============================================

An explicit :func:`set_target_health` wins over all of these. ``initial_s`` and ``draining_s``
are settings of the stand-in for one (account, region), 0 by default: a target is then healthy
the moment it is registered in a group in use and gone the moment it is deregistered, as before.
A real target group drains for its ``deregistration_delay.timeout_seconds`` (300 s by default),
and AWS documents that the target shows ``draining`` for that whole time, connections or not; the
stand-in leaves that long wait off unless asked for it.

``HealthCheckPort`` is the target's own port when the group checks on ``traffic-port``, as the
service reports it (moto answers with the literal ``"traffic-port"``).

Times come from a clock that tests may replace (:func:`set_target_health_timing`); state lives on
moto's backend and target-group objects, so ``mock_aws`` restarts and ``POST /moto-api/reset``
clear it with moto's own. :func:`install_target_health` patches moto once; nothing happens at
import time.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.elbv2.models import ELBv2Backend, FakeHealthStatus, FakeTargetGroup, elbv2_backends

from .exceptions import StandInError

__all__ = [
    "MAX_TIMING_S",
    "TARGET_STATES",
    "TargetHealthTiming",
    "clear_target_health",
    "install_target_health",
    "is_target_health_installed",
    "set_target_health",
    "set_target_health_timing",
    "target_health_timing",
]

#: ``TargetHealth.State`` values of the ELBv2 API.
TARGET_STATES = ("initial", "healthy", "unhealthy", "unhealthy.draining", "unused", "draining", "unavailable")
#: Longest ``initial_s`` / ``draining_s`` accepted: an hour (the service's longest deregistration delay).
MAX_TIMING_S = 3600.0

NOT_IN_USE = ("unused", "Target.NotInUse", "Target group is not configured to receive traffic from the load balancer")
REGISTERING = ("initial", "Elb.RegistrationInProgress", "Target registration is in progress")
FIRST_CHECKS = ("initial", "Elb.InitialHealthChecking", "Initial health checks in progress")
DRAINING = ("draining", "Target.DeregistrationInProgress", "Target deregistration is in progress")

_INSTALL_MARK = "_trafficgate_target_health_installed"
_BACKEND_ATTR = "_trafficgate_target_health"
_GROUP_ATTR = "_trafficgate_targets"
_OVERRIDES_ATTR = "_trafficgate_health"
_install_lock = threading.Lock()
_state_lock = threading.Lock()
_ORIGINALS: dict[str, Any] = {}
#: Backend methods after which a target group may have come into use or gone out of it.
_LISTENER_CHANGES = (
    "create_listener",
    "modify_listener",
    "delete_listener",
    "create_rule",
    "modify_rule",
    "delete_rule",
    "delete_load_balancer",
)


@dataclass(frozen=True)
class TargetHealthTiming:
    """How long targets stay ``initial`` and ``draining`` in one (account, region) of the stand-in.

    Attributes
    ----------
    initial_s : float
        Seconds a target reads ``initial`` after it is registered in a group in use, or after its
        group comes into use (0: healthy at once).
    draining_s : float
        Seconds a deregistered target reads ``draining`` (0: gone at once).
    clock : callable
        Returns seconds on a monotonic scale; ``time.monotonic`` unless a test injects its own.
    """

    initial_s: float = 0.0
    draining_s: float = 0.0
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)

    def to_dict(self) -> dict[str, float]:
        """Return the JSON form used by the admin endpoints."""
        return {"initialSeconds": self.initial_s, "drainingSeconds": self.draining_s}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TargetHealthTiming:
        """Inverse of :meth:`to_dict`."""
        return cls(initial_s=float(data["initialSeconds"]), draining_s=float(data["drainingSeconds"]))


@dataclass
class _BackendState:
    """What the stand-in keeps on one ELBv2 backend."""

    timing: TargetHealthTiming = field(default_factory=TargetHealthTiming)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)


@dataclass
class _GroupState:
    """What the stand-in keeps on one target group: when targets came and went, and when it came into use."""

    registered_at: dict[str, float] = field(default_factory=dict)
    #: target id -> (the target as registered, when it was deregistered)
    draining: dict[str, tuple[dict[str, Any], float]] = field(default_factory=dict)
    in_use_since: float | None = None


def seconds(value: Any, name: str) -> float:
    """``value`` as seconds in [0, :data:`MAX_TIMING_S`]; a :class:`StandInError` naming ``name`` otherwise."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise StandInError(f"{name} must be a number of seconds, not {value!r}") from None
    if not math.isfinite(number) or not 0 <= number <= MAX_TIMING_S:
        raise StandInError(f"{name} must be between 0 and {MAX_TIMING_S:g} seconds, not {value!r}")
    return number


# --------------------------------------------------------------------------------------------
# the owner's controls
# --------------------------------------------------------------------------------------------
def set_target_health_timing(
    region: str,
    *,
    initial_s: float | None = None,
    draining_s: float | None = None,
    clock: Callable[[], float] | None = None,
    account_id: str = DEFAULT_ACCOUNT_ID,
) -> TargetHealthTiming:
    """Set how long targets read ``initial`` and ``draining`` in one region; None keeps a setting.

    The settings apply to every read from now on, to targets registered before as well: a target
    registered 2 s ago reads ``initial`` while ``initial_s`` is above 2.

    Parameters
    ----------
    region, account_id
        The moto backend.
    initial_s, draining_s
        Seconds, 0 to :data:`MAX_TIMING_S`.
    clock
        A replacement for ``time.monotonic`` (tests). Set it before registering targets: times
        already recorded were taken with the previous clock.

    Returns
    -------
    TargetHealthTiming
        The settings now in force.
    """
    install_target_health()
    state = _backend_state(elbv2_backends[account_id][region])
    with state.lock:
        timing = state.timing
        if initial_s is not None:
            timing = replace(timing, initial_s=seconds(initial_s, "initial_s"))
        if draining_s is not None:
            timing = replace(timing, draining_s=seconds(draining_s, "draining_s"))
        if clock is not None:
            timing = replace(timing, clock=clock)
        state.timing = timing
    return timing


def target_health_timing(region: str, *, account_id: str = DEFAULT_ACCOUNT_ID) -> TargetHealthTiming:
    """Return the ``initial`` / ``draining`` settings in force in one region."""
    return _backend_state(elbv2_backends[account_id][region]).timing


def set_target_health(
    region: str,
    target_group_arn: str,
    target_id: str,
    port: int | None = None,
    state: str = "unhealthy",
    reason: str | None = None,
    description: str | None = None,
    *,
    account_id: str = DEFAULT_ACCOUNT_ID,
) -> None:
    """Make ``DescribeTargetHealth`` report ``state`` for one registered target, whatever else holds.

    Parameters
    ----------
    region, target_group_arn
        An existing target group.
    target_id, port
        The target (as registered); ``port`` None matches the target on any port.
    state
        One of :data:`TARGET_STATES`.
    reason, description
        ``TargetHealth.Reason`` (``Target.ResponseCodeMismatch``) and ``Description``.
    """
    install_target_health()
    if state not in TARGET_STATES:
        raise StandInError(f"state {state!r} is not one of {', '.join(TARGET_STATES)}")
    if not target_id:
        raise StandInError("target_id is required")
    group = _target_group(region, target_group_arn, account_id)
    overrides: dict[tuple[str, int | None], tuple[str, str | None, str | None]] = group.__dict__.setdefault(
        _OVERRIDES_ATTR, {}
    )
    overrides[(target_id, None if port is None else int(port))] = (state, reason, description)


def clear_target_health(region: str, target_group_arn: str, *, account_id: str = DEFAULT_ACCOUNT_ID) -> None:
    """Forget every override of a target group: the modelled states apply again."""
    group = _target_group(region, target_group_arn, account_id)
    group.__dict__.pop(_OVERRIDES_ATTR, None)


def _target_group(region: str, arn: str, account_id: str) -> FakeTargetGroup:
    backend: ELBv2Backend = elbv2_backends[account_id][region]
    group = backend.target_groups.get(arn)
    if group is None:
        raise StandInError(f"target group {arn!r} does not exist in {region}")
    return group


# --------------------------------------------------------------------------------------------
# state on moto's objects
# --------------------------------------------------------------------------------------------
def _backend_state(backend: ELBv2Backend) -> _BackendState:
    state = backend.__dict__.get(_BACKEND_ATTR)
    if state is None:
        with _state_lock:
            state = backend.__dict__.get(_BACKEND_ATTR)
            if state is None:
                state = _BackendState()
                setattr(backend, _BACKEND_ATTR, state)
    return state


def _group_state(group: FakeTargetGroup) -> _GroupState:
    state = group.__dict__.get(_GROUP_ATTR)
    if state is None:
        with _state_lock:
            state = group.__dict__.get(_GROUP_ATTR)
            if state is None:
                state = _GroupState()
                setattr(group, _GROUP_ATTR, state)
    return state


def _backend_of(group: FakeTargetGroup) -> ELBv2Backend:
    return elbv2_backends[group.account_id][group.region_name]


def _in_use(backend: ELBv2Backend, arn: str) -> bool:
    # moto's own test of "a listener or a rule forwards to it" (default rules included), which
    # reads plain TargetGroupArn actions and ForwardConfig.TargetGroups alike.
    return bool(backend._any_listener_using(arn))


def _track_use(backend: ELBv2Backend) -> None:
    """Note when each target group came into use, after a change to listeners or rules."""
    now = _backend_state(backend).timing.clock()
    for arn, group in list(backend.target_groups.items()):
        state = _group_state(group)
        if _in_use(backend, arn):
            if state.in_use_since is None:
                state.in_use_since = now
        else:
            state.in_use_since = None


def _live_draining(group: FakeTargetGroup, timing: TargetHealthTiming) -> dict[str, dict[str, Any]]:
    """The deregistered targets still inside the draining window (and forget the others)."""
    state = _group_state(group)
    now = timing.clock()
    live: dict[str, dict[str, Any]] = {}
    for target_id, (target, since) in list(state.draining.items()):
        if now - since < timing.draining_s:
            live[target_id] = target
        else:
            state.draining.pop(target_id, None)
    return live


# --------------------------------------------------------------------------------------------
# the patched moto methods
# --------------------------------------------------------------------------------------------
def _register(self: FakeTargetGroup, targets: list[dict[str, Any]]) -> None:
    before = set(self.targets)
    _ORIGINALS["register"](self, targets)
    now = _backend_state(_backend_of(self)).timing.clock()
    state = _group_state(self)
    for target in targets:
        target_id = target["Id"]
        state.draining.pop(target_id, None)
        if target_id not in before:  # registering a registered target again changes nothing
            state.registered_at[target_id] = now


def _deregister(self: FakeTargetGroup, targets: list[dict[str, Any]]) -> None:
    leaving = {t["Id"]: dict(self.targets[t["Id"]]) for t in targets if t["Id"] in self.targets}
    _ORIGINALS["deregister"](self, targets)
    timing = _backend_state(_backend_of(self)).timing
    state = _group_state(self)
    now = timing.clock()
    for target_id, target in leaving.items():
        state.registered_at.pop(target_id, None)
        if timing.draining_s > 0:
            state.draining[target_id] = (target, now)


def _describe_target_health(
    self: ELBv2Backend, target_group_arn: str, targets: list[dict[str, Any]]
) -> list[FakeHealthStatus]:
    group = self.target_groups.get(target_group_arn)
    if group is not None and not targets:
        # Without Targets the service lists every registered target and every one still draining.
        draining = _live_draining(group, _backend_state(self).timing)
        targets = list(group.targets.values()) + [t for tid, t in draining.items() if tid not in group.targets]
        if not targets:
            return []
    result: list[FakeHealthStatus] = _ORIGINALS["describe_target_health"](self, target_group_arn, targets)
    return result


def _health_for(self: FakeTargetGroup, target: dict[str, Any], ec2_backend: Any) -> FakeHealthStatus:
    status: FakeHealthStatus = _ORIGINALS["health_for"](self, target, ec2_backend)
    backend = _backend_of(self)
    timing = _backend_state(backend).timing
    target_id = target.get("Id")
    registered = target_id in self.targets
    draining = None if registered else _live_draining(self, timing).get(str(target_id))
    if draining is not None:
        status = FakeHealthStatus(str(target_id), draining["Port"], status.health_check_port, "healthy")
    if registered or draining is not None:
        modelled = _modelled_state(self, backend, str(target_id), timing, draining is not None)
        if modelled is not None:
            status = _with(status, *modelled)
        override = _override(self, str(target_id), status.port)
        if override is not None:
            status = _with(status, *override)
    if status.health_check_port == "traffic-port" and status.port is not None:
        status.health_check_port = str(status.port)
    return status


def _modelled_state(
    group: FakeTargetGroup, backend: ELBv2Backend, target_id: str, timing: TargetHealthTiming, draining: bool
) -> tuple[str, str | None, str | None] | None:
    """The state the service would report for a registered or draining target; None for moto's answer."""
    if draining:
        return DRAINING
    if not _in_use(backend, group.arn):
        return NOT_IN_USE
    if timing.initial_s <= 0:
        return None
    state = _group_state(group)
    registered_at = state.registered_at.get(target_id)
    in_use_since = state.in_use_since
    # Registered into a group already in use: registration; a group coming into use: its first checks.
    starts = [t for t in (registered_at, in_use_since) if t is not None]
    if not starts:
        return None  # registered before the stand-in was installed: long settled
    started = max(starts)
    if timing.clock() - started >= timing.initial_s:
        return None
    if in_use_since is not None and (registered_at is None or registered_at < in_use_since):
        return FIRST_CHECKS
    return REGISTERING


def _override(group: FakeTargetGroup, target_id: str, port: Any) -> tuple[str, str | None, str | None] | None:
    overrides = group.__dict__.get(_OVERRIDES_ATTR)
    if not overrides:
        return None
    port_number = int(port) if port is not None else None
    found: tuple[str, str | None, str | None] | None = overrides.get((target_id, port_number)) or overrides.get(
        (target_id, None)
    )
    return found


def _with(status: FakeHealthStatus, state: str, reason: str | None, description: str | None) -> FakeHealthStatus:
    return FakeHealthStatus(status.instance_id, status.port, status.health_check_port, state, reason, description)


def _after_listener_change(name: str) -> Callable[..., Any]:
    original = getattr(ELBv2Backend, name)

    def patched(self: ELBv2Backend, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        _track_use(self)
        return result

    patched.__name__ = name
    patched.__doc__ = f"moto's ``{name}``, then note which target groups came into or went out of use."
    return patched


# --------------------------------------------------------------------------------------------
# install
# --------------------------------------------------------------------------------------------
def install_target_health() -> None:
    """Patch moto's ELBv2 target health as described in this module; safe to call repeatedly."""
    with _install_lock:
        if is_target_health_installed():
            return
        _ORIGINALS["health_for"] = FakeTargetGroup.health_for
        _ORIGINALS["register"] = FakeTargetGroup.register
        _ORIGINALS["deregister"] = FakeTargetGroup.deregister
        _ORIGINALS["describe_target_health"] = ELBv2Backend.describe_target_health
        FakeTargetGroup.health_for = _health_for  # type: ignore[method-assign]
        FakeTargetGroup.register = _register  # type: ignore[method-assign]
        FakeTargetGroup.deregister = _deregister  # type: ignore[method-assign]
        ELBv2Backend.describe_target_health = _describe_target_health  # type: ignore[method-assign]
        for name in _LISTENER_CHANGES:
            setattr(ELBv2Backend, name, _after_listener_change(name))
        setattr(FakeTargetGroup, _INSTALL_MARK, True)


def is_target_health_installed() -> bool:
    """Return True once :func:`install_target_health` has extended moto."""
    return bool(getattr(FakeTargetGroup, _INSTALL_MARK, False))
