"""The stand-in's ECS services keep ``healthCheckGracePeriodSeconds``, answered in botocore's shapes.

moto 5.2 takes the parameter and drops it; ``elb.health_check_config`` judges it, so the stand-in
keeps it (:mod:`trafficgate_local.standin.ecs_services`). Every answer is checked against the
service model (tests/support/shapes.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from tests.support.lambda_env import REGION
from tests.support.shapes import assert_fits
from trafficgate_local.standin import install, is_ecs_services_installed
from trafficgate_local.standin.ecs_services import MAX_GRACE_PERIOD_S, install_ecs_services


@pytest.fixture
def ecs() -> Iterator[Any]:
    install()
    with mock_aws():
        client = boto3.client("ecs", region_name=REGION)
        client.create_cluster(clusterName="shop")
        container = {"name": "web", "image": "x", "memory": 256}
        client.register_task_definition(family="web", containerDefinitions=[container])
        yield client


def _describe(ecs: Any, name: str) -> dict[str, Any]:
    answer = ecs.describe_services(cluster="shop", services=[name])
    assert_fits("ecs", "DescribeServices", answer)
    service: dict[str, Any] = answer["services"][0]
    return service


def test_create_update_and_describe_keep_the_grace_period(ecs: Any) -> None:
    created = ecs.create_service(
        cluster="shop", serviceName="web", taskDefinition="web", desiredCount=1, healthCheckGracePeriodSeconds=90
    )
    assert_fits("ecs", "CreateService", created)
    assert created["service"]["healthCheckGracePeriodSeconds"] == 90
    assert _describe(ecs, "web")["healthCheckGracePeriodSeconds"] == 90

    updated = ecs.update_service(cluster="shop", service="web", healthCheckGracePeriodSeconds=240)
    assert_fits("ecs", "UpdateService", updated)
    assert updated["service"]["healthCheckGracePeriodSeconds"] == 240
    # An update that does not name it keeps it, as ECS does.
    ecs.update_service(cluster="shop", service="web", desiredCount=2)
    assert _describe(ecs, "web")["healthCheckGracePeriodSeconds"] == 240


def test_a_service_created_without_it_answers_without_it(ecs: Any) -> None:
    ecs.create_service(cluster="shop", serviceName="web", taskDefinition="web", desiredCount=1)
    assert "healthCheckGracePeriodSeconds" not in _describe(ecs, "web")


@pytest.mark.parametrize("value", [-1, MAX_GRACE_PERIOD_S + 1])
def test_out_of_range_values_are_refused_as_ecs_does(ecs: Any, value: int) -> None:
    unchecked = boto3.client("ecs", region_name=REGION, config=Config(parameter_validation=False))
    with pytest.raises(ClientError) as info:
        unchecked.create_service(
            cluster="shop", serviceName="web", taskDefinition="web", desiredCount=1, healthCheckGracePeriodSeconds=value
        )
    assert info.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "healthCheckGracePeriodSeconds must be an integer from 0 to 2147483647" in str(info.value)


def test_install_is_idempotent() -> None:
    install_ecs_services()
    install_ecs_services()
    assert is_ecs_services_installed()
