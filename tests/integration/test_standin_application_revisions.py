"""The stand-in's GetApplicationRevision, and GetDeployment without an inline revision's content.

On the service GetDeployment names an ``AppSpecContent`` (or ``String``) revision by its ``sha256``
only; GetApplicationRevision, given the application and that digest, returns the text. Both are
checked against botocore's model, in process and through the stand-in server.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from moto import mock_aws

from tests.support.shapes import assert_fits
from trafficgate_local.standin import StandIn, StandInServer

pytestmark = pytest.mark.integration

REGION = "eu-west-1"
APPSPEC = json.dumps({"version": 0.0, "Resources": [{"TargetService": {"Type": "AWS::ECS::Service"}}]})
DIGEST = hashlib.sha256(APPSPEC.encode()).hexdigest()


@pytest.fixture(autouse=True)
def _aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_CODEDEPLOY"):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))


@pytest.fixture(params=["in-process", "server"])
def client(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A CodeDeploy client with application ``shop`` and ECS group ``shop-dg``."""
    if request.param == "in-process":
        with mock_aws():
            StandIn(REGION)
            yield _with_group(boto3.client("codedeploy", region_name=REGION))
    else:
        with StandInServer(region_name=REGION) as server:
            try:
                yield _with_group(boto3.client("codedeploy", region_name=REGION, endpoint_url=server.endpoint_url))
            finally:
                requests.post(f"{server.endpoint_url}/moto-api/reset", timeout=10)


def _with_group(client: Any) -> Any:
    client.create_application(applicationName="shop", computePlatform="ECS")
    client.create_deployment_group(
        applicationName="shop",
        deploymentGroupName="shop-dg",
        serviceRoleArn="arn:aws:iam::123456789012:role/codedeploy",
        deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        ecsServices=[{"serviceName": "web", "clusterName": "shop"}],
    )
    return client


def _deploy(client: Any, revision: dict[str, Any]) -> str:
    return str(
        client.create_deployment(applicationName="shop", deploymentGroupName="shop-dg", revision=revision)[
            "deploymentId"
        ]
    )


def _error_code(exc_info: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc_info.value.response["Error"]["Code"])


@pytest.mark.parametrize(("kind", "holder"), [("AppSpecContent", "appSpecContent"), ("String", "string")])
def test_get_deployment_names_an_inline_revision_by_digest_and_the_revision_call_gives_its_text(
    client: Any, kind: str, holder: str
) -> None:
    deployment_id = _deploy(client, {"revisionType": kind, holder: {"content": APPSPEC}})

    info = client.get_deployment(deploymentId=deployment_id)
    assert_fits("codedeploy", "GetDeployment", info)
    assert info["deploymentInfo"]["revision"] == {"revisionType": kind, holder: {"sha256": DIGEST}}

    answer = client.get_application_revision(
        applicationName="shop", revision={"revisionType": kind, holder: {"sha256": DIGEST}}
    )
    assert_fits("codedeploy", "GetApplicationRevision", answer)
    assert answer["applicationName"] == "shop"
    assert answer["revision"] == {"revisionType": kind, holder: {"content": APPSPEC, "sha256": DIGEST}}
    assert answer["revisionInfo"]["deploymentGroups"] == ["shop-dg"]
    assert answer["revisionInfo"]["firstUsedTime"] <= answer["revisionInfo"]["lastUsedTime"]


def test_an_s3_revision_is_found_by_bucket_key_and_version(client: Any) -> None:
    location = {"bucket": "specs", "key": "shop/appspec.yaml", "bundleType": "YAML", "version": "v1"}
    _deploy(client, {"revisionType": "S3", "s3Location": location})

    answer = client.get_application_revision(
        applicationName="shop", revision={"revisionType": "S3", "s3Location": location}
    )
    assert_fits("codedeploy", "GetApplicationRevision", answer)
    assert answer["revision"]["s3Location"] == location

    other = {**location, "version": "v2"}
    with pytest.raises(ClientError) as caught:
        client.get_application_revision(applicationName="shop", revision={"revisionType": "S3", "s3Location": other})
    assert _error_code(caught) == "RevisionDoesNotExistException"


@pytest.mark.parametrize(
    ("application", "revision", "code"),
    [
        (
            "shop",
            {"revisionType": "AppSpecContent", "appSpecContent": {"sha256": "0" * 64}},
            "RevisionDoesNotExistException",
        ),
        ("shop", {"revisionType": "String", "string": {"sha256": DIGEST}}, "RevisionDoesNotExistException"),
        (
            "nowhere",
            {"revisionType": "AppSpecContent", "appSpecContent": {"sha256": DIGEST}},
            "ApplicationDoesNotExistException",
        ),
        ("shop", {}, "InvalidRevisionException"),
    ],
    ids=["unknown-digest", "same-digest-other-type", "unknown-application", "no-revision-type"],
)
def test_errors_are_the_services(client: Any, application: str, revision: dict[str, Any], code: str) -> None:
    _deploy(client, {"revisionType": "AppSpecContent", "appSpecContent": {"content": APPSPEC}})
    with pytest.raises(ClientError) as caught:
        client.get_application_revision(applicationName=application, revision=revision)
    assert _error_code(caught) == code


def test_first_and_last_use_are_utc_whatever_the_hosts_time_zone(client: Any) -> None:
    import datetime
    import os
    import time

    saved = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    try:
        _deploy(client, {"revisionType": "AppSpecContent", "appSpecContent": {"content": APPSPEC}})
        answer = client.get_application_revision(
            applicationName="shop", revision={"revisionType": "AppSpecContent", "appSpecContent": {"sha256": DIGEST}}
        )
    finally:
        if saved is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = saved
        time.tzset()
    first = answer["revisionInfo"]["firstUsedTime"]
    # moto keeps naive UTC times; read as local time they were off by the zone's 4 or 5 hours.
    assert abs((first - datetime.datetime.now(datetime.UTC)).total_seconds()) < 600
