"""The stand-in's ELBv2 target health, as a real load balancer reports it, seen through real boto3 clients.

``unused`` (``Target.NotInUse``) while no listener or rule forwards to a group; ``initial`` for a
set time after registration (``Elb.RegistrationInProgress``) or after the group comes into use
(``Elb.InitialHealthChecking``); ``draining`` (``Target.DeregistrationInProgress``) for a set time
after deregistration; overrides over all of it. Every answer is checked against botocore's model.

The tests that need time to pass run in-process with an injected clock. Through the server, the
clock is the server's: those tests move the settings instead of waiting, or poll with a hang guard,
and never assert on elapsed time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
import requests
from moto import mock_aws

from tests.support.lambda_env import REGION
from tests.support.shapes import assert_fits, output_shape, shape_problems
from tests.support.standin_env import StandInEnv
from trafficgate_local.standin import StandIn, StandInAdmin, StandInAdminError, StandInError, StandInServer
from trafficgate_local.standin.target_health import TARGET_STATES, TargetHealthTiming, install_target_health

pytestmark = pytest.mark.integration

#: Hang guard for waiting on the server's real clock; the wait itself is never asserted on.
HANG_GUARD_S = 60.0
NOT_IN_USE = ("unused", "Target.NotInUse", "Target group is not configured to receive traffic from the load balancer")
REGISTERING = ("initial", "Elb.RegistrationInProgress", "Target registration is in progress")
FIRST_CHECKS = ("initial", "Elb.InitialHealthChecking", "Initial health checks in progress")
DRAINING = ("draining", "Target.DeregistrationInProgress", "Target deregistration is in progress")
HEALTHY = ("healthy", None, None)


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Elb:
    """A load balancer with a blue and a green target group, and the control object of its stand-in."""

    mode: str
    control: StandIn | StandInAdmin
    client: Any
    load_balancer: str
    blue: str
    green: str

    def health(self, group: str | None = None, **kwargs: Any) -> dict[str, tuple[str, str | None, str | None]]:
        """target id -> (State, Reason, Description), the answer checked against the service model."""
        answer = self.client.describe_target_health(TargetGroupArn=group or self.green, **kwargs)
        assert_fits("elbv2", "DescribeTargetHealth", answer)
        found = {}
        for item in answer["TargetHealthDescriptions"]:
            health = item["TargetHealth"]
            if health["State"] == "healthy":
                # API reference: "If the target state is healthy, a reason code [description] is not provided."
                assert set(health) == {"State"}, health
            assert item["HealthCheckPort"] == str(item["Target"]["Port"])  # traffic-port, as the service names it
            found[item["Target"]["Id"]] = (health["State"], health.get("Reason"), health.get("Description"))
        return found

    def listener(self, group: str, port: int = 80) -> str:
        arn: str = self.client.create_listener(
            LoadBalancerArn=self.load_balancer,
            Protocol="HTTP",
            Port=port,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": group}],
        )["Listeners"][0]["ListenerArn"]
        return arn

    def forward(self, listener: str, weights: dict[str, int]) -> None:
        groups = [{"TargetGroupArn": arn, "Weight": weight} for arn, weight in weights.items()]
        self.client.modify_listener(
            ListenerArn=listener, DefaultActions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}]
        )

    def register(self, *target_ids: str, group: str | None = None) -> None:
        self.client.register_targets(
            TargetGroupArn=group or self.green, Targets=[{"Id": t, "Port": 8080} for t in target_ids]
        )


def _build(mode: str, control: StandIn | StandInAdmin, endpoint_url: str | None) -> Elb:
    ec2 = boto3.client("ec2", region_name=REGION, endpoint_url=endpoint_url)
    elbv2 = boto3.client("elbv2", region_name=REGION, endpoint_url=endpoint_url)
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.7.{i}.0/24", AvailabilityZone=f"{REGION}{zone}")["Subnet"][
            "SubnetId"
        ]
        for i, zone in enumerate("ab")
    ]
    lb = elbv2.create_load_balancer(Name="shop-alb", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    groups = {
        colour: elbv2.create_target_group(
            Name=f"shop-{colour}", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip"
        )["TargetGroups"][0]["TargetGroupArn"]
        for colour in ("blue", "green")
    }
    return Elb(mode, control, elbv2, lb, groups["blue"], groups["green"])


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def local(clock: FakeClock) -> Iterator[Elb]:
    """In-process moto, with the stand-in's clock under the test's control."""
    with mock_aws():
        control = StandIn(REGION)
        control.set_target_health_timing(clock=clock)
        yield _build("in-process", control, None)


@pytest.fixture
def served(standin_server: StandInServer) -> Iterator[Elb]:
    """The stand-in server on 127.0.0.1, driven over HTTP by its admin client."""
    # ELBv2 and the rest are reset; EC2 is not (a second per test), and its VPCs are never looked up.
    env = StandInEnv(standin_server, standin_server.stand_in(REGION))
    env.reset()
    admin = standin_server.admin(REGION)
    try:
        yield _build("server", admin, standin_server.endpoint_url)
    finally:
        admin.close()
        env.reset()


@pytest.fixture(params=["in-process", "server"])
def elb(request: pytest.FixtureRequest) -> Elb:
    """Both ways of running the stand-in, with the default timing (no initial, no draining)."""
    fixture = "local" if request.param == "in-process" else "served"
    built: Elb = request.getfixturevalue(fixture)
    return built


# --- unused: no listener forwards to the group ------------------------------------------------
def test_a_group_no_listener_forwards_to_reads_unused(elb: Elb) -> None:
    elb.register("10.7.1.5")
    assert elb.health() == {"10.7.1.5": NOT_IN_USE}

    elb.listener(elb.blue)  # a listener, but to the other group
    assert elb.health() == {"10.7.1.5": NOT_IN_USE}


@pytest.mark.parametrize("form", ["default-action", "forward-config", "listener-rule", "rule-forward-config"])
def test_every_way_of_forwarding_puts_the_group_in_use(elb: Elb, form: str) -> None:
    elb.register("10.7.1.5")
    listener = elb.listener(elb.blue)
    plain = [{"Type": "forward", "TargetGroupArn": elb.green}]
    weighted = [
        {
            "Type": "forward",
            "ForwardConfig": {
                "TargetGroups": [
                    {"TargetGroupArn": elb.blue, "Weight": 90},
                    {"TargetGroupArn": elb.green, "Weight": 10},
                ]
            },
        }
    ]
    if form == "default-action":
        elb.client.modify_listener(ListenerArn=listener, DefaultActions=plain)
    elif form == "forward-config":
        elb.client.modify_listener(ListenerArn=listener, DefaultActions=weighted)
    else:
        elb.client.create_rule(
            ListenerArn=listener,
            Priority=10,
            Conditions=[{"Field": "path-pattern", "Values": ["/canary/*"]}],
            Actions=plain if form == "listener-rule" else weighted,
        )

    assert elb.health() == {"10.7.1.5": HEALTHY}


def test_the_group_is_unused_again_once_nothing_forwards_to_it(elb: Elb) -> None:
    elb.register("10.7.1.5")
    elb.register("10.7.2.5", group=elb.blue)
    listener = elb.listener(elb.blue)
    elb.forward(listener, {elb.green: 1})

    assert elb.health() == {"10.7.1.5": HEALTHY}
    assert elb.health(elb.blue) == {"10.7.2.5": NOT_IN_USE}  # blue and green swapped

    elb.forward(listener, {elb.blue: 1})  # roll back
    assert elb.health() == {"10.7.1.5": NOT_IN_USE}
    assert elb.health(elb.blue) == {"10.7.2.5": HEALTHY}

    rule = elb.client.create_rule(
        ListenerArn=listener,
        Priority=5,
        Conditions=[{"Field": "path-pattern", "Values": ["/green/*"]}],
        Actions=[{"Type": "forward", "TargetGroupArn": elb.green}],
    )["Rules"][0]["RuleArn"]
    assert elb.health() == {"10.7.1.5": HEALTHY}
    elb.client.delete_rule(RuleArn=rule)
    assert elb.health() == {"10.7.1.5": NOT_IN_USE}


# --- initial: registration and first health checks, on an injected clock ------------------------
def test_initial_after_registration_then_healthy(local: Elb, clock: FakeClock) -> None:
    local.listener(local.green)
    local.control.set_target_health_timing(initial_s=30)
    local.register("10.7.1.5")

    assert local.health() == {"10.7.1.5": REGISTERING}
    clock.advance(29.9)
    assert local.health() == {"10.7.1.5": REGISTERING}
    clock.advance(0.1)
    assert local.health() == {"10.7.1.5": HEALTHY}

    local.register("10.7.1.6")  # a second target has its own window; registering the first again changes nothing
    local.register("10.7.1.5")
    assert local.health() == {"10.7.1.5": HEALTHY, "10.7.1.6": REGISTERING}


def test_initial_health_checks_when_the_group_comes_into_use(local: Elb, clock: FakeClock) -> None:
    # The ECS blue/green course: green's targets registered at Install, traffic at AllowTestTraffic.
    local.control.set_target_health_timing(initial_s=30)
    test_listener = local.listener(local.blue)
    local.register("10.7.1.5")
    assert local.health() == {"10.7.1.5": NOT_IN_USE}
    clock.advance(120)  # long past the registration window: still not judged, nothing sends it traffic
    assert local.health() == {"10.7.1.5": NOT_IN_USE}

    local.forward(test_listener, {local.green: 1})
    assert local.health() == {"10.7.1.5": FIRST_CHECKS}
    clock.advance(30)
    assert local.health() == {"10.7.1.5": HEALTHY}


def test_initial_is_off_by_default(local: Elb) -> None:
    assert local.control.target_health_timing() == TargetHealthTiming(initial_s=0, draining_s=0)
    local.listener(local.green)
    local.register("10.7.1.5")
    assert local.health() == {"10.7.1.5": HEALTHY}


# --- draining -------------------------------------------------------------------------------------
def test_draining_after_deregistration_then_gone(local: Elb, clock: FakeClock) -> None:
    local.listener(local.green)
    local.control.set_target_health_timing(draining_s=300)
    local.register("10.7.1.5", "10.7.1.6")
    local.client.deregister_targets(TargetGroupArn=local.green, Targets=[{"Id": "10.7.1.6", "Port": 8080}])

    # Listed without Targets, as the service lists a draining target, and when asked for by name.
    assert local.health() == {"10.7.1.5": HEALTHY, "10.7.1.6": DRAINING}
    assert local.health(Targets=[{"Id": "10.7.1.6", "Port": 8080}]) == {"10.7.1.6": DRAINING}
    clock.advance(299)
    assert local.health()["10.7.1.6"] == DRAINING

    clock.advance(1)
    assert local.health() == {"10.7.1.5": HEALTHY}
    assert local.health(Targets=[{"Id": "10.7.1.6", "Port": 8080}]) == {
        "10.7.1.6": ("unused", "Target.NotRegistered", "Target is not registered to the target group")
    }


def test_registering_a_draining_target_again_ends_its_draining(local: Elb) -> None:
    local.listener(local.green)
    local.control.set_target_health_timing(draining_s=300)
    local.register("10.7.1.5")
    local.client.deregister_targets(TargetGroupArn=local.green, Targets=[{"Id": "10.7.1.5", "Port": 8080}])
    assert local.health() == {"10.7.1.5": DRAINING}

    local.register("10.7.1.5")
    assert local.health() == {"10.7.1.5": HEALTHY}


def test_without_a_draining_delay_a_deregistered_target_is_gone_at_once(elb: Elb) -> None:
    elb.listener(elb.green)
    elb.register("10.7.1.5")
    elb.client.deregister_targets(TargetGroupArn=elb.green, Targets=[{"Id": "10.7.1.5", "Port": 8080}])
    assert elb.health() == {}


# --- overrides win --------------------------------------------------------------------------------
def test_an_override_wins_over_every_modelled_state(local: Elb, clock: FakeClock) -> None:
    sick = ("unhealthy", "Target.ResponseCodeMismatch", "Health checks failed with these codes: [502]")
    local.control.set_target_health_timing(initial_s=30, draining_s=300)
    local.register("10.7.1.5", "10.7.1.6")
    clock.advance(1)  # registered before the group comes into use
    local.control.set_target_health(local.green, "10.7.1.5", 8080, *sick)
    local.control.set_target_health(local.green, "10.7.1.6", None, "unhealthy", "Target.Timeout", "Request timed out")

    assert local.health() == {"10.7.1.5": sick, "10.7.1.6": ("unhealthy", "Target.Timeout", "Request timed out")}
    local.listener(local.green)
    assert local.health()["10.7.1.5"] == sick  # not initial either
    local.client.deregister_targets(TargetGroupArn=local.green, Targets=[{"Id": "10.7.1.5", "Port": 8080}])
    assert local.health()["10.7.1.5"] == sick  # nor draining

    local.control.clear_target_health(local.green)
    assert local.health() == {"10.7.1.5": DRAINING, "10.7.1.6": FIRST_CHECKS}


def test_overrides_through_the_admin_api(served: Elb) -> None:
    served.register("10.7.1.5")
    served.control.set_target_health(served.green, "10.7.1.5", 8080, "unhealthy", "Target.Timeout", "Request timed out")
    assert served.health() == {"10.7.1.5": ("unhealthy", "Target.Timeout", "Request timed out")}

    served.control.clear_target_health(served.green)
    assert served.health() == {"10.7.1.5": NOT_IN_USE}


# --- the settings through the admin API, on the server's clock ------------------------------------
def test_timing_through_the_admin_api(served: Elb) -> None:
    assert served.control.target_health_timing() == TargetHealthTiming(0, 0)
    assert served.control.set_target_health_timing(initial_s=3600) == TargetHealthTiming(3600, 0)
    assert served.control.set_target_health_timing(draining_s=2.5) == TargetHealthTiming(3600, 2.5)  # one at a time
    served.listener(served.green)
    served.register("10.7.1.5")
    assert served.health() == {"10.7.1.5": REGISTERING}

    # A shorter window applies to targets registered before; the server's own clock ends it.
    served.control.set_target_health_timing(initial_s=0.2)
    deadline = time.monotonic() + HANG_GUARD_S
    while served.health()["10.7.1.5"] != HEALTHY:
        assert time.monotonic() < deadline, "the target never left initial on the server's clock"
        time.sleep(0.05)


def test_first_checks_and_draining_through_the_admin_api(served: Elb) -> None:
    # Long windows, so that the server's clock cannot end them between two reads; then none at all.
    served.control.set_target_health_timing(initial_s=3600, draining_s=3600)
    listener = served.listener(served.blue)
    served.register("10.7.1.5", "10.7.1.6")
    assert served.health() == {"10.7.1.5": NOT_IN_USE, "10.7.1.6": NOT_IN_USE}

    served.forward(listener, {served.green: 1})
    served.client.deregister_targets(TargetGroupArn=served.green, Targets=[{"Id": "10.7.1.6", "Port": 8080}])
    assert served.health() == {"10.7.1.5": FIRST_CHECKS, "10.7.1.6": DRAINING}

    served.control.set_target_health_timing(initial_s=0, draining_s=0)
    assert served.health() == {"10.7.1.5": HEALTHY}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"initialSeconds": -1}, "'initialSeconds'"),
        ({"drainingSeconds": "soon"}, "'drainingSeconds'"),
        ({"initialSeconds": 7200}, "'initialSeconds'"),
        ({"drainingSeconds": float("nan")}, "'drainingSeconds'"),
        ({}, "'initialSeconds', 'drainingSeconds'"),
    ],
)
def test_bad_timing_is_refused_naming_the_field(
    served: Elb, standin_server: StandInServer, body: Any, field: str
) -> None:
    url = f"{standin_server.endpoint_url}/_trafficgate/target-health-timing"
    answer = requests.post(url, params={"region": REGION}, data=json.dumps(body), timeout=10)

    assert answer.status_code == 400
    assert field in answer.json()["message"]
    assert served.control.target_health_timing() == TargetHealthTiming(0, 0)  # nothing changed


def test_bad_overrides_are_refused_naming_the_field(served: Elb) -> None:
    served.register("10.7.1.5")
    admin = served.control
    assert isinstance(admin, StandInAdmin)
    with pytest.raises(StandInAdminError, match="state 'sick' is not one of initial, healthy"):
        admin.set_target_health(served.green, "10.7.1.5", 8080, "sick")
    with pytest.raises(StandInAdminError, match="'port' must be a port number"):
        admin._call(
            "POST",
            "/target-health",
            {"targetGroupArn": served.green, "targetId": "x", "port": "http", "state": "healthy"},
        )
    with pytest.raises(StandInAdminError, match="'targetId' is required"):
        admin._call("POST", "/target-health", {"targetGroupArn": served.green, "state": "healthy"})
    with pytest.raises(StandInAdminError, match="does not exist"):
        admin.set_target_health(served.green + "0", "10.7.1.5")
    with pytest.raises(StandInAdminError, match="'targetGroupArn' is required"):
        admin._call("DELETE", "/target-health", {})


def test_bad_timing_in_process_names_the_argument(local: Elb) -> None:
    with pytest.raises(StandInError, match="initial_s must be between 0 and 3600"):
        local.control.set_target_health_timing(initial_s=-0.5)
    with pytest.raises(StandInError, match="draining_s must be a number of seconds"):
        local.control.set_target_health_timing(draining_s="later")  # type: ignore[arg-type]


# --- the model check itself -----------------------------------------------------------------------
def test_the_shape_check_catches_what_the_service_never_sends() -> None:
    shape = output_shape("elbv2", "DescribeTargetHealth")
    good = {"TargetHealthDescriptions": [{"Target": {"Id": "a", "Port": 1}, "TargetHealth": {"State": "healthy"}}]}
    assert shape_problems(good, shape) == []

    extra = {"TargetHealthDescriptions": [{"Target": {"Id": "a"}, "TargetHealth": {"State": "healthy", "Why": "x"}}]}
    bad_enum = {"TargetHealthDescriptions": [{"Target": {"Id": "a"}, "TargetHealth": {"State": "sick"}}]}
    null = {"TargetHealthDescriptions": [{"Target": {"Id": "a"}, "TargetHealth": {"State": "healthy", "Reason": None}}]}
    missing = {"TargetHealthDescriptions": [{"Target": {"Port": 1}}]}
    assert shape_problems(extra, shape) == [
        "$.TargetHealthDescriptions[0].TargetHealth.Why: not a member of TargetHealth"
    ]
    assert "is not one of" in shape_problems(bad_enum, shape)[0]
    assert "null" in shape_problems(null, shape)[0]
    assert shape_problems(missing, shape) == [
        "$.TargetHealthDescriptions[0].Target.Id: required member of TargetDescription missing"
    ]
    assert set(TARGET_STATES) == set(
        shape.members["TargetHealthDescriptions"].member.members["TargetHealth"].members["State"].enum
    )


def test_install_is_idempotent() -> None:
    from moto.elbv2.models import FakeTargetGroup

    install_target_health()
    health_for = FakeTargetGroup.health_for
    install_target_health()
    assert FakeTargetGroup.health_for is health_for
