"""Regions and profiles: AWS_REGION is honoured (botocore alone reads only AWS_DEFAULT_REGION), a
missing region is named as such, and the report's client never outlives the time asked for."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from trafficgate.aws import REPORT_READ_TIMEOUT_S, AwsClients
from trafficgate.exceptions import ConfigError


@pytest.fixture
def no_region(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)  # no region from a developer's ~/.aws/config
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)


def test_aws_region_alone_is_enough(no_region: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    assert AwsClients().client("codedeploy").meta.region_name == "eu-west-3"


def test_an_explicit_region_wins(no_region: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    assert AwsClients(region="ap-south-1").client("ecs").meta.region_name == "ap-south-1"
    assert AwsClients().client("ecs").meta.region_name == "eu-west-3"  # AWS_REGION, as Lambda sets it


def test_a_profile_gives_its_region(no_region: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("[profile staging]\nregion = ap-southeast-2\n")
    credentials = tmp_path / "credentials"  # a named profile's keys come from its files, not the environment
    credentials.write_text("[staging]\naws_access_key_id = staging\naws_secret_access_key = staging\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    assert AwsClients(profile="staging").client("ecs").meta.region_name == "ap-southeast-2"  # --profile
    monkeypatch.setenv("AWS_PROFILE", "staging")
    assert AwsClients().client("ecs").meta.region_name == "ap-southeast-2"
    # A region in the environment comes before the profile's, as botocore has it for AWS_DEFAULT_REGION.
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    assert AwsClients().client("ecs").meta.region_name == "eu-west-3"


def test_a_missing_region_is_named_as_such(no_region: None) -> None:
    with pytest.raises(ConfigError, match=r"^no AWS region: set AWS_REGION \(or AWS_DEFAULT_REGION\)"):
        AwsClients().client("codedeploy")


def test_an_unknown_profile_is_named(no_region: None) -> None:
    with pytest.raises(ConfigError, match=r"^AWS profile 'nosuchprofile' not found in the AWS config"):
        AwsClients(region="us-east-1", profile="nosuchprofile").client("codedeploy")


def test_report_clients_never_wait_longer_than_asked(no_region: None) -> None:
    clients = AwsClients(region="us-east-1")
    for asked, read in ((0.3, 0.25), (1.1, 1.0), (9.0, REPORT_READ_TIMEOUT_S)):
        config = clients.reporting_client(asked).meta.config
        assert config.read_timeout == read
        assert config.connect_timeout <= read
        assert config.retries["total_max_attempts"] == 1  # the reporter retries, within its budget
