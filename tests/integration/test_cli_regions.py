"""Regions and profiles on the command line: ``trafficgate check``, ``invoke`` and ``standin``.

Each command runs in a subprocess, as a user runs it, against the stand-in in this process. The
environment starts without any region or profile and without the developer's ``~/.aws`` files;
each test adds exactly the source of region it is about. The deployment lives in another region
than the tests' default (``eu-west-1``), so a command that reached it used the region it was given.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from tests.support.http_apps import HttpApp, RunningServer, serve
from tests.support.lambda_env import REGION, ROOT
from tests.support.standin_env import StandInEnv, Topology, aws_side_check_ids, build_topology
from trafficgate_local.standin import StandIn

pytestmark = pytest.mark.integration

OTHER_REGION = "eu-west-1"
PROFILE = "staging"
REQUESTS = 5
#: Only catches a hang: a cold interpreter on a loaded machine takes many times its usual seconds.
HANG_GUARD_S = 180
NO_REGION = (
    "trafficgate: no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION), give the profile a region, or pass --region"
)


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any region, profile or AWS file, Trafficgate or Powertools setting."""
    dropped = ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in dropped and not k.startswith(("TRAFFICGATE_", "POWERTOOLS_", "AWS_ENDPOINT_URL"))
    }
    env["AWS_CONFIG_FILE"] = os.devnull
    env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    env.update(extra)
    return env


def trafficgate(args: Sequence[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trafficgate_local.cli", *args],
        env=dict(env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
    )


@pytest.fixture
def aws_files(tmp_path: Path) -> dict[str, str]:
    """A config and a credentials file with one profile, ``staging``, whose region is eu-west-1."""
    config = tmp_path / "config"
    config.write_text(f"[profile {PROFILE}]\nregion = {OTHER_REGION}\n")
    credentials = tmp_path / "credentials"
    credentials.write_text(f"[{PROFILE}]\naws_access_key_id = staging\naws_secret_access_key = staging\n")
    return {"AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(credentials)}


def profile_env(aws_files: dict[str, str], **extra: str) -> dict[str, str]:
    """Credentials from the profile only: the environment's keys are dropped."""
    env = clean_env(**aws_files, **extra)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        env.pop(name, None)
    return env


@dataclass
class Elsewhere:
    """A blue/green deployment in eu-west-1, with green on 127.0.0.1."""

    standin: StandInEnv
    green: RunningServer
    topology: Topology
    deployment_id: str

    @property
    def control(self) -> StandIn:
        return self.standin.server.stand_in(OTHER_REGION)

    def check_args(self, *extra: str) -> list[str]:
        """``check`` of AfterAllowTestTraffic for this deployment, the probe pointed at 127.0.0.1."""
        sets = {
            "TRAFFICGATE_RESOLVE": f"{self.topology.dns_name}=127.0.0.1",
            "TRAFFICGATE_PROBE_REQUESTS": str(REQUESTS),
            "TRAFFICGATE_PROBE_DECISION": "fixed",
            "TRAFFICGATE_DISABLED_CHECKS": aws_side_check_ids(),
        }
        return [
            "check",
            "--hook",
            "AfterAllowTestTraffic",
            "--deployment-id",
            self.deployment_id,
            "--json",
            *(f"--set={k}={v}" for k, v in sets.items()),
            *extra,
        ]


@pytest.fixture
def elsewhere(standin: StandInEnv) -> Iterator[Elsewhere]:
    with serve(HttpApp()) as blue, serve(HttpApp()) as green:
        topology = build_topology(standin, prod_port=blue.port, test_port=green.port, region=OTHER_REGION)
        yield Elsewhere(standin, green, topology, topology.deploy(standin))


def assert_judged(proc: subprocess.CompletedProcess[str], world: Elsewhere) -> None:
    """The dry run found the deployment (discovery in eu-west-1) and probed green through it."""
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    summary = json.loads(proc.stdout)
    assert (summary["status"], summary["report"]) == ("Succeeded", "dry-run")
    assert len(world.green.app.requests) == REQUESTS


# --- trafficgate check --deployment-id ------------------------------------------------------------


def test_check_with_only_aws_region_set(elsewhere: Elsewhere) -> None:
    env = clean_env(AWS_ENDPOINT_URL=elsewhere.standin.endpoint_url, AWS_REGION=OTHER_REGION)

    assert_judged(trafficgate(elsewhere.check_args(), env), elsewhere)


def test_check_without_a_region_exits_2_naming_where_a_region_comes_from(elsewhere: Elsewhere) -> None:
    proc = trafficgate(elsewhere.check_args(), clean_env(AWS_ENDPOINT_URL=elsewhere.standin.endpoint_url))

    assert proc.returncode == 2
    assert proc.stderr.strip() == NO_REGION
    assert proc.stdout == ""
    assert elsewhere.green.app.requests == []


def test_check_region_option_wins_over_the_environment(elsewhere: Elsewhere) -> None:
    env = clean_env(AWS_ENDPOINT_URL=elsewhere.standin.endpoint_url, AWS_REGION=REGION, AWS_DEFAULT_REGION=REGION)

    assert_judged(trafficgate(elsewhere.check_args("--region", OTHER_REGION), env), elsewhere)


@pytest.mark.parametrize("how", ["--profile", "AWS_PROFILE"])
def test_check_with_a_profile_uses_its_region_and_credentials(
    how: str, elsewhere: Elsewhere, aws_files: dict[str, str]
) -> None:
    env = profile_env(aws_files, AWS_ENDPOINT_URL=elsewhere.standin.endpoint_url)
    args = elsewhere.check_args()
    if how == "--profile":
        args += ["--profile", PROFILE]
    else:
        env["AWS_PROFILE"] = PROFILE

    assert_judged(trafficgate(args, env), elsewhere)


@pytest.mark.parametrize("how", ["--profile", "AWS_PROFILE"])
@pytest.mark.parametrize("command", ["check", "invoke"])
def test_an_unknown_profile_exits_2_naming_it(
    command: str, how: str, elsewhere: Elsewhere, aws_files: dict[str, str]
) -> None:
    env = profile_env(aws_files, AWS_ENDPOINT_URL=elsewhere.standin.endpoint_url)
    args = elsewhere.check_args() if command == "check" else ["invoke", "AfterInstall", "--json"]
    args += ["--region", OTHER_REGION]  # a region does not make up for the profile's credentials
    if how == "--profile":
        args += ["--profile", "nosuchprofile"]
    else:
        env["AWS_PROFILE"] = "nosuchprofile"

    proc = trafficgate(args, env)

    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == (
        "trafficgate: AWS profile 'nosuchprofile' not found in the AWS config or credentials file "
        "(AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE): check --profile or AWS_PROFILE"
    )
    assert proc.stdout == ""
    assert elsewhere.green.app.requests == []


# --- trafficgate invoke ----------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["--region", "--profile"])
def test_invoke_reports_to_the_region_it_was_given(
    how: str, elsewhere: Elsewhere, aws_files: dict[str, str], tmp_path: Path
) -> None:
    execution_id = elsewhere.control.register_hook_execution(elsewhere.deployment_id, "AfterAllowTestTraffic")
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps({"DeploymentId": elsewhere.deployment_id, "LifecycleEventHookExecutionId": execution_id})
    )
    settings = {
        "AWS_ENDPOINT_URL": elsewhere.standin.endpoint_url,
        "TRAFFICGATE_TEST_URL": elsewhere.green.url,
        "TRAFFICGATE_PROBE_REQUESTS": str(REQUESTS),
        "TRAFFICGATE_PROBE_DECISION": "fixed",
        "TRAFFICGATE_DISABLED_CHECKS": aws_side_check_ids(),
    }
    args = ["invoke", "AfterAllowTestTraffic", "--event", str(event), "--json"]
    if how == "--region":
        # The shell names the tests' region; the option must win.
        env = clean_env(AWS_REGION=REGION, AWS_DEFAULT_REGION=REGION, **settings)
        args += ["--region", OTHER_REGION]
    else:
        env = profile_env(aws_files, **settings)
        args += ["--profile", PROFILE]

    proc = trafficgate(args, env)

    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    summary = json.loads(proc.stdout)
    assert (summary["status"], summary["report"]) == ("Succeeded", "reported")
    statuses = elsewhere.control.statuses(elsewhere.deployment_id)
    assert [(s.lifecycle_event_name, s.status) for s in statuses] == [("AfterAllowTestTraffic", "Succeeded")]


def test_invoke_without_a_region_exits_2_naming_where_a_region_comes_from(standin: StandInEnv) -> None:
    proc = trafficgate(["invoke", "AfterInstall", "--json"], clean_env(AWS_ENDPOINT_URL=standin.endpoint_url))

    assert proc.returncode == 2
    assert proc.stderr.strip() == NO_REGION
    assert standin.control.report_calls() == []


# --- trafficgate standin ---------------------------------------------------------------------------


@pytest.fixture
def standalone_standin() -> Iterator[str]:
    """``trafficgate standin --port 0`` started with no region anywhere; yields its endpoint."""
    server = subprocess.Popen(
        [sys.executable, "-m", "trafficgate_local.cli", "standin", "--port", "0"],
        cwd=ROOT,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        endpoint = ""
        deadline = time.monotonic() + HANG_GUARD_S
        while not endpoint and time.monotonic() < deadline and server.poll() is None:
            line = server.stdout.readline().strip()
            if "listening on " in line:
                endpoint = line.rsplit(" ", 1)[-1]
        assert endpoint, "the stand-in did not start"
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_standin_without_a_region_answers_its_admin_endpoints_in_us_east_1(standalone_standin: str) -> None:
    admin = f"{standalone_standin}/_trafficgate"

    health = requests.get(f"{admin}/health", timeout=10)
    created = requests.post(f"{admin}/deployments", json={}, timeout=10)
    statuses = requests.get(f"{admin}/statuses", timeout=10)

    assert (health.status_code, health.json()["region"]) == (200, "us-east-1")
    assert created.status_code == 200, created.text
    assert (statuses.status_code, statuses.json()) == (200, {"statuses": []})
    # The deployment was made where a client of us-east-1 finds it.
    codedeploy: Any = boto3.client("codedeploy", region_name="us-east-1", endpoint_url=standalone_standin)
    deployment_id = created.json()["deploymentId"]
    assert codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]["deploymentId"] == deployment_id
