"""The pure rules of BeforeInstall's deployment-guide checks: plaintext credentials, security group
rules and health check settings. No AWS here: tests/integration/test_checks_guide.py runs the checks
against moto."""

from __future__ import annotations

import json
import string
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trafficgate.checks.health_check import HealthCheckConfigured, ServiceGrace, describe_codes, judge_health_check
from trafficgate.checks.plaintext_secrets import (
    PLAINTEXT_SECRETS_CHECK_ID,
    find_plaintext_secrets,
    name_rule,
    obviously_not_secret,
    value_rule,
)
from trafficgate.checks.vpc_endpoints import needed_endpoints
from trafficgate.discovery.network import appspec_network, service_network
from trafficgate.discovery.secrets import SecretUse, secret_uses
from trafficgate.discovery.security_rules import judge_direction
from trafficgate.outcome import CheckResult
from trafficgate.probe.spec import StatusSet
from trafficgate.verdict import CheckRecord


def definition(*environment: tuple[str, str], name: str = "web") -> dict[str, Any]:
    return {"containerDefinitions": [{"name": name, "environment": [{"name": n, "value": v} for n, v in environment]}]}


# --------------------------------------------------------------------------------------------
# ecs.plaintext_secrets
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("DB_PASSWORD", "name:password"),
        ("mysql.passwd", "name:password"),
        ("REDIS_PASS", "name:password"),
        ("DB_PWD", "name:password"),
        ("CLIENT_SECRET", "name:secret"),
        ("GITHUB_TOKEN", "name:token"),
        ("stripeApiKey", "name:api-key"),
        ("APIKEY", "name:api-key"),
        ("JWT_PRIVATE_KEY", "name:private-key"),
        ("PARTNER_ACCESS_KEY", "name:access-key"),
        ("GOOGLE_APPLICATION_CREDENTIALS_JSON", "name:credentials"),
    ],
)
def test_credential_names_match_their_rule(name: str, rule: str) -> None:
    assert name_rule(name) == rule


@pytest.mark.parametrize(
    "name",
    [
        "PWD",
        "TOKEN_TTL",
        "SECRET_NAME",
        "SECRET_ARN",
        "API_KEY_HEADER",
        "PASSWORD_MIN_LENGTH",
        "TOKENIZER",
        "SECRETARY",
    ],
)
def test_names_about_a_credential_or_unrelated_do_not_match(name: str) -> None:
    assert name_rule(name) is None


@pytest.mark.parametrize(
    "value",
    ["", "true", "OFF", "300", "15m", "0.5", "arn:aws:ssm:eu-west-1:123456789012:parameter/db", "/run/secrets/db"],
)
def test_obvious_non_secrets(value: str) -> None:
    assert obviously_not_secret(value)


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIE...", "value:private-key-pem"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----", "value:private-key-pem"),
        ("-----BEGIN PRIVATE KEY-----", "value:private-key-pem"),
        ("AKIAQ3EXAMPLE7Z4KX2P", "value:aws-access-key-id"),
        ("ASIAQ3EXAMPLE7Z4KX2P", "value:aws-access-key-id"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl", "value:jwt"),
        ("Bearer abcdefghijklmnopqrstuvwx", "value:bearer-token"),
        ("postgres://app:s3cr3t@db.internal:5432/shop", "value:url-credentials"),
        ("ghp_" + "a" * 36, "value:github-token"),
        ("xoxb-1234567890-abcdef", "value:slack-token"),
        ("sk_live_" + "a1" * 12, "value:stripe-secret-key"),
    ],
)
def test_credential_shaped_values_match_whatever_the_name(value: str, rule: str) -> None:
    assert value_rule(value) == rule
    findings, _ = find_plaintext_secrets(definition(("CONFIG_BLOB", value)))
    assert [(f.variable, f.rule) for f in findings] == [("CONFIG_BLOB", rule)]


@pytest.mark.parametrize(
    "value",
    [
        "https://api.example.com/v1",
        "postgres://app:${DB_PASSWORD}@db.internal/shop",  # a placeholder, not a password
        "-----BEGIN CERTIFICATE-----",  # public
        "AKIA-is-a-prefix",
        "Bearer",
    ],
)
def test_values_that_only_resemble_a_credential_do_not_match(value: str) -> None:
    assert value_rule(value) is None


def test_a_secret_key_is_recognised_next_to_an_access_key_only() -> None:
    key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    alone, _ = find_plaintext_secrets(definition(("BLOB", key)))
    paired, _ = find_plaintext_secrets(definition(("ID", "AKIAQ3EXAMPLE7Z4KX2P"), ("BLOB", key)))
    assert alone == []
    assert [(f.variable, f.rule) for f in paired] == [
        ("ID", "value:aws-access-key-id"),
        ("BLOB", "value:aws-secret-access-key"),
    ]


def test_findings_count_entries_across_containers_and_honour_the_allow_list() -> None:
    task = {
        "containerDefinitions": [
            {"name": "web", "environment": [{"name": "API_TOKEN", "value": "x" * 20}, {"name": "A", "value": "1"}]},
            {"name": "worker", "environment": [{"name": "DB_PASSWORD", "value": "y" * 12}]},
        ]
    }
    findings, checked = find_plaintext_secrets(task)
    assert checked == 3
    assert [(f.container, f.variable, f.rule) for f in findings] == [
        ("web", "API_TOKEN", "name:token"),
        ("worker", "DB_PASSWORD", "name:password"),
    ]
    assert find_plaintext_secrets(task, allow=("api-token",))[0] == findings[1:]


# No "_", "-" or space: no run of 16 such characters occurs in the fixed words of a reason
# ("aws-secret-access-key", "AWS_SECRET_ACCESS_KEY"), so a core found there came from a value.
_CORE = st.text(alphabet=string.ascii_letters + string.digits + "+/=!#%", min_size=16, max_size=40)
_SHAPES = st.sampled_from(
    [
        "{}",
        "AKIA{}",
        "-----BEGIN PRIVATE KEY-----{}",
        "eyJhbGciOiJIUzI1NiJ9.eyJ{}.sig",
        "Bearer {}",
        "postgres://app:{}@db/shop",
        "ghp_{}",
        "{} ",
    ]
)
_NAMES = st.sampled_from(["DB_PASSWORD", "API_KEY", "GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "CONFIG", "X"])


@settings(max_examples=200, deadline=None)
@given(entries=st.lists(st.tuples(_NAMES, _SHAPES, _CORE), min_size=1, max_size=6))
def test_no_value_ever_appears_in_the_result_or_the_record(entries: list[tuple[str, str, str]]) -> None:
    from trafficgate.checks.plaintext_secrets import PlaintextSecrets

    values = [shape.format(core) for _name, shape, core in entries]
    task = definition(*((name, value) for (name, _s, _c), value in zip(entries, values, strict=True)))

    class Ctx:
        def task_definition(self) -> dict[str, Any]:
            return task

    result = PlaintextSecrets().run(Ctx())  # type: ignore[arg-type]
    assert isinstance(result, CheckResult)
    record = CheckRecord.from_result(PLAINTEXT_SECRETS_CHECK_ID, result, 1.0)
    shown = repr(result) + repr(record) + json.dumps(record.to_dict())
    for (_name, _shape, core), value in zip(entries, values, strict=True):
        assert value not in shown
        assert core not in shown


# --------------------------------------------------------------------------------------------
# ec2.security_groups
# --------------------------------------------------------------------------------------------
def group(*ingress: dict[str, Any], egress: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    return {"IpPermissions": list(ingress), "IpPermissionsEgress": list(egress)}


def tcp(port: int, **peer: Any) -> dict[str, Any]:
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, **peer}


LB = {"UserIdGroupPairs": [{"GroupId": "sg-lb"}]}


def judge(*ingress: dict[str, Any], port: int = 8080) -> str:
    return judge_direction(
        {"sg-t": group(*ingress)},
        direction="ingress",
        port=port,
        peer_groups=["sg-lb"],
        peer_cidrs=["10.0.0.0/24", "10.0.1.0/24"],
    ).state


@pytest.mark.parametrize(
    ("rule", "state"),
    [
        ({"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "UserIdGroupPairs": [{"GroupId": "sg-lb"}]}, "ok"),
        ({"IpProtocol": "6", "FromPort": 8000, "ToPort": 9000, "UserIdGroupPairs": [{"GroupId": "sg-lb"}]}, "ok"),
        ({"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": "sg-lb"}]}, "ok"),
        ({**tcp(8080, **LB), "IpProtocol": "udp"}, "missing"),
        ({"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "UserIdGroupPairs": [{"GroupId": "sg-x"}]}, "missing"),
        ({"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": "sg-lb"}]}, "missing"),
        ({"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}, "ok"),
        ({"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "IpRanges": [{"CidrIp": "10.0.0.0/24"}]}, "missing"),
        ({"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}, "missing"),
        (tcp(8080, PrefixListIds=[{"PrefixListId": "pl-1"}]), "unknown"),
    ],
    ids=[
        "group-port",
        "group-range",
        "group-all",
        "udp",
        "other-group",
        "other-port",
        "cidr-covers",
        "cidr-half",
        "ipv6-only",
        "prefix-list",
    ],
)
def test_one_ingress_rule(rule: dict[str, Any], state: str) -> None:
    assert judge(rule) == state


def test_cidr_rules_add_up_to_cover_every_subnet() -> None:
    halves = [
        {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "IpRanges": [{"CidrIp": f"10.0.{i}.0/24"}]}
        for i in (0, 1)
    ]
    assert judge(*halves) == "ok"


def test_a_group_reference_wins_over_a_prefix_list() -> None:
    assert (
        judge(
            {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "PrefixListIds": [{"PrefixListId": "pl-1"}]},
            {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": "sg-lb"}]},
        )
        == "ok"
    )


def _appspec_with(awsvpc: dict[str, Any]) -> dict[str, Any]:
    """An AppSpec (as parsed) whose ECS service has this ``AwsvpcConfiguration``."""
    properties = {"NetworkConfiguration": {"AwsvpcConfiguration": awsvpc}}
    return {"Resources": [{"TargetService": {"Type": "AWS::ECS::Service", "Properties": properties}}]}


def test_appspec_network_reads_the_awsvpc_configuration() -> None:
    network = appspec_network(_appspec_with({"Subnets": ["subnet-1"], "SecurityGroups": ["sg-1", "sg-2"]}))
    assert network is not None
    assert network.subnets == ("subnet-1",)
    assert (network.security_groups, network.source) == (("sg-1", "sg-2"), "the AppSpec")
    assert network.public_ip is False
    assert appspec_network({"Resources": [{"T": {"Type": "AWS::ECS::Service", "Properties": {}}}]}) is None
    assert appspec_network({}) is None


def test_an_appspec_network_without_groups_is_still_the_tasks_network() -> None:
    # AppSpec AwsvpcConfiguration replaces the service's: subnets alone (the VPC's default group)
    # are not to be filled in from the service.
    network = appspec_network(_appspec_with({"Subnets": ["subnet-1"], "AssignPublicIp": "ENABLED"}))
    assert network is not None
    assert (network.subnets, network.security_groups, network.public_ip) == (("subnet-1",), (), True)


def test_one_id_written_as_a_string_is_one_id_not_its_characters() -> None:
    network = appspec_network(_appspec_with({"Subnets": "subnet-1", "SecurityGroups": "sg-1"}))
    assert network is not None and (network.subnets, network.security_groups) == (("subnet-1",), ("sg-1",))
    assert appspec_network({"Resources": [{"T": {"Type": "AWS::ECS::Service", "Properties": "x"}}]}) is None
    assert appspec_network({"Resources": "x"}) is None


def test_service_network_reads_describe_services_shape() -> None:
    service = {
        "networkConfiguration": {
            "awsvpcConfiguration": {"subnets": ["subnet-2"], "securityGroups": ["sg-9"], "assignPublicIp": "DISABLED"}
        }
    }
    network = service_network(service, "web")
    assert network is not None
    assert (network.subnets, network.security_groups, network.public_ip, network.source) == (
        ("subnet-2",),
        ("sg-9",),
        False,
        "service web",
    )
    assert service_network({}, "web") is None
    assert service_network({"networkConfiguration": {"awsvpcConfiguration": {"subnets": []}}}, "web") is None


# --------------------------------------------------------------------------------------------
# elb.health_check_config
# --------------------------------------------------------------------------------------------
GROUP = {
    "TargetGroupName": "shop-green",
    "Protocol": "HTTP",
    "HealthCheckProtocol": "HTTP",
    "HealthCheckPort": "traffic-port",
    "HealthCheckPath": "/health",
    "HealthCheckIntervalSeconds": 10,
    "HealthyThresholdCount": 3,
    "Matcher": {"HttpCode": "200"},
}


def health(grace: int | None = 60, expected: str = "200", **group: Any) -> tuple[str, ...]:
    return judge_health_check(
        {**GROUP, **group},
        container="web",
        container_port=8080,
        mapped_ports=[8080],
        expected_status=StatusSet.parse(expected),
        grace=ServiceGrace(name="shop-web", seconds=grace),
    ).mismatches


@pytest.mark.parametrize(
    ("matcher", "expected", "refused"),
    [
        ("200", "200", None),
        ("200-299", "200,204", None),
        ("200,302", "302", None),
        ("200", "200,302", "302"),
        ("200-299", "200-399", "300-399"),
        ("200,302", "301-303", "301,303"),
    ],
)
def test_matcher_forms(matcher: str, expected: str, refused: str | None) -> None:
    mismatches = health(expected=expected, Matcher={"HttpCode": matcher})
    if refused is None:
        assert mismatches == ()
    else:
        assert mismatches == (
            f"matcher {matcher} does not accept {refused}, which the health check path /health answers "
            f"(expected status {StatusSet.parse(expected)})",
        )


def test_an_unreadable_matcher_is_named() -> None:
    assert health(Matcher={"HttpCode": "2xx"}) == (
        "matcher '2xx' is not a list of codes and ranges such as 200, 200-299 or 200,302",
    )


def test_https_target_group_needs_an_https_health_check_on_the_traffic_port() -> None:
    assert health(Protocol="HTTPS", HealthCheckProtocol="HTTPS") == ()
    assert health(Protocol="HTTPS", HealthCheckProtocol="HTTP") == (
        "health check protocol HTTP does not match the target group's protocol HTTPS on the traffic port 8080; "
        "expected HTTPS",
    )


def test_tcp_health_checks_judge_no_matcher() -> None:
    assert health(Protocol="TCP", HealthCheckProtocol="TCP", Matcher={"HttpCode": "418"}) == ()


def test_grace_period_boundary_and_the_numbers() -> None:
    assert health(grace=30) == ()  # 10 s x 3 = 30 s: exactly enough
    assert health(grace=29) == (
        "service shop-web healthCheckGracePeriodSeconds 29 s < interval 10 s x healthy threshold 3 = 30 s",
    )


def test_an_unknown_service_leaves_the_grace_period_unjudged_and_says_so() -> None:
    judgement = judge_health_check(
        GROUP,
        container="web",
        container_port=8080,
        expected_status=StatusSet.parse("200"),
        grace=None,
    )
    assert judgement.mismatches == ()
    assert judgement.warnings == (
        "the service is unknown: its health check grace period is not judged "
        "(needs >= interval 10 s x healthy threshold 3 = 30 s)",
    )


def test_describe_codes() -> None:
    assert describe_codes([302, 200, 301]) == "200,301-302"
    assert describe_codes([]) == "none"


def test_the_readme_plan_for_these_checks_parses() -> None:
    from pathlib import Path

    from trafficgate.hooks import Hook
    from trafficgate.plan.loader import parse_plan_text

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("### BeforeInstall: network, health check, plaintext secrets", 1)[1]
    text = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    checks = parse_plan_text(text, source="README").checks_for(Hook.BEFORE_INSTALL)
    assert checks is not None
    assert [c.check_id for c in checks] == ["ecs.plaintext_secrets", "ec2.security_groups", "elb.health_check_config"]
    assert [c.policy.dry_run for c in checks] == [False, False, False]
    assert isinstance(checks[2], HealthCheckConfigured)
    assert str(checks[2].expected_status) == "200,302"


# --------------------------------------------------------------------------------------------
# Where secrets come from (shared by secrets.references_exist, iam.execution_role, network.vpc_endpoints)

SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf"
TASK_WITH_SECRETS = {
    "taskDefinitionArn": "arn:aws:ecs:eu-west-1:111122223333:task-definition/web:3",
    "containerDefinitions": [
        {
            "name": "web",
            "image": "ghcr.io/acme/web:1",
            "secrets": [{"name": "DB_PASSWORD", "valueFrom": f"{SECRET_ARN}:password::"}, {"name": "EMPTY"}],
            "logConfiguration": {
                "logDriver": "awsfirelens",
                "secretOptions": [{"name": "apiKey", "valueFrom": "/shop/log-key"}],
            },
            "repositoryCredentials": {"credentialsParameter": SECRET_ARN},
        },
        "not a container",
    ],
}


def test_secret_uses_lists_every_place_in_task_definition_order() -> None:
    assert secret_uses(TASK_WITH_SECRETS) == [
        SecretUse(container="web", what="secret DB_PASSWORD", value_from=f"{SECRET_ARN}:password::"),
        SecretUse(container="web", what="secret EMPTY", value_from=""),
        SecretUse(container="web", what="log option apiKey", value_from="/shop/log-key"),
        SecretUse(container="web", what="repositoryCredentials", value_from=SECRET_ARN, bare="secretsmanager"),
    ]
    # Malformed entries are skipped, not raised on: the task definition checks report those.
    broken = {"containerDefinitions": [{"name": "w", "secrets": ["DB"], "logConfiguration": "awslogs"}]}
    assert secret_uses(broken) == []


def test_endpoints_follow_every_secret_including_a_private_registrys_login() -> None:
    only_credentials = {
        "containerDefinitions": [
            {
                "name": "web",
                "image": "ghcr.io/acme/web:1",
                "repositoryCredentials": {"credentialsParameter": SECRET_ARN},
            }
        ]
    }
    needed, foreign = needed_endpoints(only_credentials, "eu-west-1")
    # ECS reads the registry login from Secrets Manager with the execution role.
    assert needed == {"com.amazonaws.eu-west-1.secretsmanager": "secrets"}
    assert foreign == ["ghcr.io/acme/web:1"]
    needed, _ = needed_endpoints(TASK_WITH_SECRETS, "eu-west-1")
    assert set(needed) == {"com.amazonaws.eu-west-1.secretsmanager", "com.amazonaws.eu-west-1.ssm"}
    by_name = {"containerDefinitions": [{"name": "w", "repositoryCredentials": {"credentialsParameter": "login"}}]}
    assert needed_endpoints(by_name, "eu-west-1")[0] == {"com.amazonaws.eu-west-1.secretsmanager": "secrets"}
    s3_object = {"name": "X", "valueFrom": "arn:aws:s3:::b/k"}
    not_a_secret = {"containerDefinitions": [{"name": "w", "secrets": [s3_object]}]}
    assert needed_endpoints(not_a_secret, "eu-west-1")[0] == {}
