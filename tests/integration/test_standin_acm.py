"""The stand-in's ACM lists a requested certificate's names in the order ACM does.

moto alone builds them from a set, so their order changes with ``PYTHONHASHSEED``; discovery takes
the first name that is not a wildcard, so a test of it passed or failed by chance.
"""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from trafficgate_local.standin import StandIn
from trafficgate_local.standin.acm import is_acm_installed, requested_order

pytestmark = pytest.mark.integration

NAMES = [f"host{i}.example.test" for i in range(8)]  # ACM allows 10 names


@pytest.fixture(autouse=True)
def _aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def test_requested_order_puts_the_domain_name_first_and_each_name_once() -> None:
    assert requested_order("*.example.test", ["*.example.test", "b.example.test", "a.example.test"]) == [
        "*.example.test",
        "b.example.test",
        "a.example.test",
    ]
    assert requested_order("a.example.test", None) == ["a.example.test"]


@pytest.mark.parametrize("order", [NAMES, NAMES[::-1]], ids=["ascending", "descending"])
def test_describe_certificate_lists_the_names_as_requested(order: list[str]) -> None:
    with mock_aws():
        StandIn("eu-west-1")
        assert is_acm_installed()
        acm = boto3.client("acm", region_name="eu-west-1")
        arn = acm.request_certificate(DomainName="*.example.test", SubjectAlternativeNames=order)["CertificateArn"]

        names = acm.describe_certificate(CertificateArn=arn)["Certificate"]["SubjectAlternativeNames"]

    assert names == ["*.example.test", *order]
