"""HTTPS listeners: the probe asks for a name the listener's ACM certificate serves, and verifies it.

The load balancer's DNS name never matches its certificate. Discovery reads the test listener's
default certificate (ELBv2 DescribeListenerCertificates, then ACM DescribeCertificate) and the
probe sends the first name that is not a wildcard as Host and SNI, verifying the certificate
against it. A certificate with wildcards only cannot name a host: the reason asks for
``TRAFFICGATE_HOST_HEADER``.

End to end, green is a real TLS server on 127.0.0.1 whose certificate a throwaway CA (made in the
test with ``cryptography``) signed. The same certificate is imported into the stand-in's ACM and
attached to the test listener, so the listener "presents" exactly what the server does. The probe
trusts the CA through ``TRAFFICGATE_CA_BUNDLE``; verification is never switched off.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.http_apps import HttpApp, RunningServer, ServerCert, TestPKI, serve
from tests.support.standin_env import StandInEnv, Topology, build_topology, invoke_hook
from trafficgate.aws import AwsClients
from trafficgate.discovery import discover
from trafficgate.hooks import Hook
from trafficgate.runner import reset_runner
from trafficgate_local.lambda_context import LocalLambdaContext

pytestmark = pytest.mark.integration

ContextFactory = Callable[..., LocalLambdaContext]
HOST = "shop.example.test"
OTHER = "api.example.test"
WILDCARD = "*.example.test"
REQUESTS = 4


@dataclass
class HttpsWorld:
    """Blue (HTTP, production listener) and green (HTTPS, test listener) behind the stand-in's ALB."""

    standin: StandInEnv
    pki: TestPKI
    blue: RunningServer
    green: RunningServer
    topology: Topology
    deployment_id: str

    @property
    def test_listener_arn(self) -> str:
        assert self.topology.test_listener_arn is not None
        return self.topology.test_listener_arn

    def present(self, certificate_arn: str) -> None:
        """Make the test listener HTTPS, with ``certificate_arn`` as its default certificate."""
        self.standin.client("elbv2").modify_listener(
            ListenerArn=self.test_listener_arn, Protocol="HTTPS", Certificates=[{"CertificateArn": certificate_arn}]
        )
        reset_runner()  # a new container: discovery caches the listeners

    def import_certificate(self, cert: ServerCert) -> str:
        """Import a server certificate (with its key and chain) into the stand-in's ACM."""
        arn: str = self.standin.client("acm").import_certificate(
            Certificate=cert.certfile.read_bytes(),
            PrivateKey=cert.keyfile.read_bytes(),
            CertificateChain=self.pki.ca_file.read_bytes(),
        )["CertificateArn"]
        return arn

    def invoke(self, context: LocalLambdaContext) -> dict[str, Any]:
        return invoke_hook(self.standin, Hook.AFTER_ALLOW_TEST_TRAFFIC, self.deployment_id, context)

    def recorded(self) -> list[tuple[str, str]]:
        return [(s.lifecycle_event_name, s.status) for s in self.standin.control.statuses(self.deployment_id)]


@pytest.fixture
def pki(tmp_path: Path) -> TestPKI:
    return TestPKI(tmp_path / "pki")


@pytest.fixture
def https_world(
    standin: StandInEnv, pki: TestPKI, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[ServerCert], HttpsWorld]]:
    """Factory: the world with green serving TLS with the given certificate (its listener still HTTP)."""
    with ExitStack() as stack:

        def make(green_cert: ServerCert) -> HttpsWorld:
            blue = stack.enter_context(serve(HttpApp()))
            green = stack.enter_context(serve(HttpApp(), tls=green_cert))
            topology = build_topology(standin, prod_port=blue.port, test_port=green.port)
            monkeypatch.setenv("TRAFFICGATE_RESOLVE", f"{topology.dns_name}=127.0.0.1")
            monkeypatch.setenv("TRAFFICGATE_PROBE_REQUESTS", str(REQUESTS))
            monkeypatch.setenv("TRAFFICGATE_PROBE_DECISION", "fixed")
            reset_runner()
            return HttpsWorld(standin, pki, blue, green, topology, topology.deploy(standin))

        yield make


def test_discovery_takes_the_first_name_of_the_certificate_that_is_not_a_wildcard(
    standin: StandInEnv, pki: TestPKI, https_world: Callable[[ServerCert], HttpsWorld]
) -> None:
    world = https_world(pki.issue(HOST))
    requested = standin.client("acm").request_certificate(
        DomainName=WILDCARD, SubjectAlternativeNames=[WILDCARD, HOST, OTHER]
    )["CertificateArn"]
    world.present(requested)

    deployment = discover(world.deployment_id, AwsClients(), with_task_sets=False)

    test = deployment.listener("test")
    prod = deployment.listener("prod")
    assert test is not None and prod is not None
    assert (test.https, test.tls_names, test.tls_host) == (True, (WILDCARD, HOST, OTHER), HOST)
    assert test.certificate_problem is None
    assert test.base_url == f"https://{world.topology.dns_name}:{world.green.port}"
    assert (prod.https, prod.tls_names, prod.tls_host) == (False, (), None)  # HTTP: no certificate read


def test_the_probe_asks_for_the_certificates_name_and_verifies_it(
    pki: TestPKI,
    https_world: Callable[[ServerCert], HttpsWorld],
    monkeypatch: pytest.MonkeyPatch,
    lambda_context: ContextFactory,
) -> None:
    # The certificate names a wildcard first, as many do: the probe must skip it.
    cert = pki.issue(WILDCARD, also=(HOST, OTHER))
    world = https_world(cert)
    world.present(world.import_certificate(cert))
    monkeypatch.setenv("TRAFFICGATE_CA_BUNDLE", str(pki.ca_file))
    reset_runner()

    summary = world.invoke(lambda_context())

    assert summary["status"] == "Succeeded", summary["reason"]
    requests = world.green.app.requests
    assert len(requests) == REQUESTS
    assert {r.sni for r in requests} == {HOST}
    assert {r.headers["Host"] for r in requests} == {f"{HOST}:{world.green.port}"}
    assert world.blue.app.requests == []
    assert world.recorded() == [("AfterAllowTestTraffic", "Succeeded")]


def test_verification_stays_on_a_certificate_from_an_untrusted_ca_fails(
    pki: TestPKI, https_world: Callable[[ServerCert], HttpsWorld], lambda_context: ContextFactory
) -> None:
    cert = pki.issue(HOST)
    world = https_world(cert)
    world.present(world.import_certificate(cert))  # no TRAFFICGATE_CA_BUNDLE: the test CA is not trusted

    summary = world.invoke(lambda_context())

    assert summary["status"] == "Failed"
    assert summary["reason"].startswith("http.test_listener: success rate 0.00 < 0.99 (")
    assert "tls_error" in summary["reason"]
    assert not summary["checks"][0]["warnings"]  # not a verification-off warning: it was never off
    assert world.recorded() == [("AfterAllowTestTraffic", "Failed")]


def test_a_wildcard_only_certificate_asks_for_the_host_header(
    pki: TestPKI, https_world: Callable[[ServerCert], HttpsWorld], lambda_context: ContextFactory
) -> None:
    cert = pki.issue(WILDCARD)
    world = https_world(cert)
    world.present(world.import_certificate(cert))

    summary = world.invoke(lambda_context())

    assert summary["status"] == "Failed"
    assert summary["reason"] == (
        f"http.test_listener: the test listener {world.test_listener_arn} is HTTPS and its certificate covers only "
        f"{WILDCARD}: set TRAFFICGATE_HOST_HEADER (or host_header in the plan) to a name the certificate serves"
    )
    assert world.green.app.requests == []
    assert world.recorded() == [("AfterAllowTestTraffic", "Failed")]


def test_with_the_host_header_set_a_wildcard_certificate_is_verified_against_it(
    pki: TestPKI,
    https_world: Callable[[ServerCert], HttpsWorld],
    monkeypatch: pytest.MonkeyPatch,
    lambda_context: ContextFactory,
) -> None:
    """The remedy the reason above names works: the operator's name is sent and verified."""
    cert = pki.issue(WILDCARD)
    world = https_world(cert)
    world.present(world.import_certificate(cert))
    monkeypatch.setenv("TRAFFICGATE_HOST_HEADER", f"{HOST}:{world.green.port}")
    monkeypatch.setenv("TRAFFICGATE_CA_BUNDLE", str(pki.ca_file))
    reset_runner()

    summary = world.invoke(lambda_context())

    assert summary["status"] == "Succeeded", summary["reason"]
    assert {r.sni for r in world.green.app.requests} == {HOST}
    assert len(world.green.app.requests) == REQUESTS


def test_a_certificate_outside_acm_asks_for_the_host_header(
    pki: TestPKI, https_world: Callable[[ServerCert], HttpsWorld], lambda_context: ContextFactory
) -> None:
    cert = pki.issue(HOST)
    world = https_world(cert)
    iam_certificate = world.standin.client("iam").upload_server_certificate(
        ServerCertificateName=f"shop-{uuid.uuid4().hex}",  # IAM is not reset between tests
        CertificateBody=cert.certfile.read_text(),
        PrivateKey=cert.keyfile.read_text(),
    )["ServerCertificateMetadata"]["Arn"]
    world.present(iam_certificate)

    summary = world.invoke(lambda_context())

    listener = world.test_listener_arn
    assert summary["status"] == "Failed"
    assert summary["reason"] == (
        f"http.test_listener: the test listener {listener} is HTTPS and listener {listener} presents a certificate "
        f"that is not in ACM ({iam_certificate}): set TRAFFICGATE_HOST_HEADER (or host_header in the plan) to a "
        "name the certificate serves"
    )
    assert world.green.app.requests == []
