"""The stand-in's EC2 extension: interface VPC endpoints are created as AWS creates them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tests.support.shapes import output_shape, shape_problems
from trafficgate_local.standin.ec2 import install_ec2, is_ec2_installed

pytestmark = pytest.mark.integration

REGION = "eu-west-1"


@pytest.fixture
def ec2() -> Iterator[Any]:
    install_ec2()
    with mock_aws():
        yield boto3.client("ec2", region_name=REGION)


def _vpc(client: Any, *, dns: bool) -> tuple[str, str]:
    vpc = client.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    if dns:
        client.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = client.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    return vpc, subnet


def test_install_is_idempotent() -> None:
    install_ec2()
    install_ec2()
    assert is_ec2_installed()


def test_an_interface_endpoint_without_groups_gets_the_vpcs_default_group(ec2: Any) -> None:
    client = ec2
    vpc, subnet = _vpc(ec2, dns=True)
    [default] = client.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"]

    client.create_vpc_endpoint(
        VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.ecr.api", VpcEndpointType="Interface", SubnetIds=[subnet]
    )

    answer = client.describe_vpc_endpoints()
    answer.pop("ResponseMetadata")
    [endpoint] = answer["VpcEndpoints"]
    assert [g["GroupId"] for g in endpoint["Groups"]] == [default["GroupId"]]
    assert endpoint["PrivateDnsEnabled"] is True  # AWS's default for an AWS service
    # EC2 writes endpoint states in lower case ("available"), as the CLI shows, though botocore's
    # enum capitalises them; network.vpc_endpoints lower-cases what it reads. Nothing else differs.
    problems = shape_problems(answer, output_shape("ec2", "DescribeVpcEndpoints"))
    assert [p for p in problems if not p.startswith("$.VpcEndpoints[0].State: 'available'")] == []


def test_a_vpcs_default_group_admits_its_own_members_only(ec2: Any) -> None:
    vpc, _ = _vpc(ec2, dns=False)
    [default] = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"]
    [rule] = default["IpPermissions"]
    assert rule["IpProtocol"] == "-1"
    assert [p["GroupId"] for p in rule["UserIdGroupPairs"]] == [default["GroupId"]]
    assert rule.get("IpRanges", []) == [] and rule.get("Ipv6Ranges", []) == []
    assert [r["IpProtocol"] for r in default["IpPermissionsEgress"]] == ["-1"]  # everything out
    # Another group of the VPC starts with no ingress at all.
    other = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    [created] = ec2.describe_security_groups(GroupIds=[other])["SecurityGroups"]
    assert created["IpPermissions"] == []


def test_private_dns_needs_the_vpcs_dns_hostnames(ec2: Any) -> None:
    client = ec2
    vpc, subnet = _vpc(ec2, dns=False)
    request = {
        "VpcId": vpc,
        "ServiceName": f"com.amazonaws.{REGION}.logs",
        "VpcEndpointType": "Interface",
        "SubnetIds": [subnet],
    }
    with pytest.raises(ClientError) as caught:
        client.create_vpc_endpoint(**request)
    assert caught.value.response["Error"]["Code"] == "InvalidParameter"
    assert "enableDnsHostnames" in caught.value.response["Error"]["Message"]
    # Without private DNS, or as a gateway endpoint, nothing is asked of the VPC's DNS.
    client.create_vpc_endpoint(**request, PrivateDnsEnabled=False)
    [table] = client.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"]
    s3 = f"com.amazonaws.{REGION}.s3"
    route_tables = [table["RouteTableId"]]
    client.create_vpc_endpoint(VpcId=vpc, ServiceName=s3, VpcEndpointType="Gateway", RouteTableIds=route_tables)
    assert len(client.describe_vpc_endpoints()["VpcEndpoints"]) == 2
