"""Fixtures of the tests that run the real handlers against the embedded stand-in.

One :class:`StandInServer` (moto plus the CodeDeploy hook APIs) runs on 127.0.0.1 for the whole
session; every test that asks for :func:`standin` gets it reset, with ``AWS_ENDPOINT_URL`` pointing
at it and the container-wide runner forgotten, so boto3 clients are created against it lazily.
``blue_green`` adds two real servers behind a stand-in topology and a deployment of it. The
builders these fixtures use are plain functions in tests/support/standin_env.py.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator

import pytest

from tests.support.http_apps import HttpApp, serve
from tests.support.lambda_env import REGION
from tests.support.standin_env import (
    BLUE_GREEN_REQUESTS,
    BlueGreen,
    LogCapture,
    StandInEnv,
    aws_side_check_ids,
    build_topology,
)
from trafficgate.observability import logger
from trafficgate.runner import reset_runner
from trafficgate_local.standin import StandInServer


@pytest.fixture(scope="session")
def standin_server() -> Iterator[StandInServer]:
    with StandInServer(region_name=REGION) as server:
        yield server


@pytest.fixture
def standin(standin_server: StandInServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[StandInEnv]:
    """A clean stand-in that the handlers in this process talk to (HTTP checks only).

    The AWS-side checks are switched off with TRAFFICGATE_DISABLED_CHECKS, the way an operator
    would (see :func:`aws_side_check_ids`).
    """
    env = StandInEnv(standin_server, standin_server.stand_in(REGION))
    env.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL", standin_server.endpoint_url)
    monkeypatch.setenv("TRAFFICGATE_DISABLED_CHECKS", aws_side_check_ids())
    reset_runner()
    yield env
    reset_runner()
    env.reset()


@pytest.fixture
def blue_green(standin: StandInEnv, monkeypatch: pytest.MonkeyPatch) -> Iterator[BlueGreen]:
    """Blue and green servers first (their free ports become the listener ports), then the topology.

    The ALB's DNS name is pointed at 127.0.0.1 with ``TRAFFICGATE_RESOLVE`` and no URL override is
    set, so whatever the probes reach, they reached through discovery.
    """
    with serve(HttpApp()) as blue, serve(HttpApp()) as green:
        topology = build_topology(standin, prod_port=blue.port, test_port=green.port)
        monkeypatch.setenv("TRAFFICGATE_RESOLVE", f"{topology.dns_name}=127.0.0.1")
        monkeypatch.setenv("TRAFFICGATE_PROBE_REQUESTS", str(BLUE_GREEN_REQUESTS))
        # Short fixed bursts keep these hook tests quick; the sequential default is rehearsed whole
        # (test_rehearsal) and has its own hook test (test_hooks).
        monkeypatch.setenv("TRAFFICGATE_PROBE_DECISION", "fixed")
        reset_runner()
        yield BlueGreen(blue, green, topology, topology.deploy(standin))


@pytest.fixture
def log_capture(capsys: pytest.CaptureFixture[str]) -> Iterator[LogCapture]:
    """Point the Powertools log handler at a buffer (its stream was bound when it was imported).

    EMF metrics are printed to ``sys.stdout`` at flush time, so capsys sees them.
    """
    handler = logger.registered_handler
    buffer = io.StringIO()
    previous = handler.setStream(buffer)  # type: ignore[attr-defined]
    try:
        yield LogCapture(buffer, capsys)
    finally:
        handler.setStream(previous or sys.stderr)  # type: ignore[attr-defined]
