"""The stand-in's IAM answers SimulatePrincipalPolicy for roles, in botocore's shape.

moto 5.2 has no policy simulator; :mod:`trafficgate_local.standin.iam` evaluates a role's managed
and inline policies (Allow/Deny, Action/NotAction, Resource/NotResource, ``*`` and ``?``; explicit
deny wins; conditions listed as missing context, not evaluated).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID

from tests.support.shapes import assert_fits
from trafficgate_local.standin import install
from trafficgate_local.standin.iam import install_iam, is_iam_installed, matches

pytestmark = pytest.mark.integration

REGION = "us-east-1"
REPO = f"arn:aws:ecr:{REGION}:{DEFAULT_ACCOUNT_ID}:repository/shop"
OTHER = f"arn:aws:ecr:{REGION}:{DEFAULT_ACCOUNT_ID}:repository/other"


@pytest.fixture
def iam() -> Iterator[Any]:
    install()
    install_iam()  # idempotent
    with mock_aws():
        yield boto3.client("iam", region_name=REGION)


def _role(iam: Any, name: str, *statements: dict[str, Any], managed: list[dict[str, Any]] | None = None) -> str:
    arn: str = iam.create_role(RoleName=name, AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    if statements:
        document = json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
        iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=document)
    if managed:
        policy = iam.create_policy(
            PolicyName=f"{name}-managed", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": managed})
        )["Policy"]["Arn"]
        iam.attach_role_policy(RoleName=name, PolicyArn=policy)
    return arn


def _decisions(answer: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {
        (r["EvalActionName"], s["EvalResourceName"]): s["EvalResourceDecision"]
        for r in answer["EvaluationResults"]
        for s in r["ResourceSpecificResults"]
    }


def test_patterns_match_star_and_question_mark() -> None:
    assert matches("ecr:Get*", "ecr:GetDownloadUrlForLayer", ignore_case=True)
    assert matches("ECR:batchgetimage", "ecr:BatchGetImage", ignore_case=True)
    assert matches("arn:aws:ecr:*:*:repository/sho?", REPO, ignore_case=False)
    assert not matches("arn:aws:ecr:*:*:repository/sh?", REPO, ignore_case=False)
    assert not matches("arn:aws:ecr:*:*:repository/SHOP", REPO, ignore_case=False)  # resources are case-sensitive


def test_allow_implicit_deny_and_the_answer_fits_botocore(iam: Any) -> None:
    assert is_iam_installed()
    arn = _role(iam, "pull", {"Effect": "Allow", "Action": ["ecr:BatchGetImage"], "Resource": REPO})

    answer = iam.simulate_principal_policy(
        PolicySourceArn=arn, ActionNames=["ecr:BatchGetImage", "ecr:PutImage"], ResourceArns=[REPO, OTHER]
    )

    assert_fits("iam", "SimulatePrincipalPolicy", answer)
    assert _decisions(answer) == {
        ("ecr:BatchGetImage", REPO): "allowed",
        ("ecr:BatchGetImage", OTHER): "implicitDeny",
        ("ecr:PutImage", REPO): "implicitDeny",
        ("ecr:PutImage", OTHER): "implicitDeny",
    }
    first = answer["EvaluationResults"][0]
    # One result per action; its decision is the most restrictive over the resources.
    assert (first["EvalActionName"], first["EvalResourceName"], first["EvalDecision"]) == (
        "ecr:BatchGetImage",
        "*",
        "implicitDeny",
    )
    assert first["ResourceSpecificResults"][0]["MatchedStatements"] == [
        {"SourcePolicyId": "inline", "SourcePolicyType": "role"}
    ]
    assert answer["IsTruncated"] is False


def test_explicit_deny_wins_over_a_managed_wildcard_allow(iam: Any) -> None:
    arn = _role(
        iam,
        "denied",
        {"Effect": "Deny", "Action": "secretsmanager:*", "Resource": "arn:aws:secretsmanager:*:*:secret:prod/*"},
        managed=[{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    )
    prod = f"arn:aws:secretsmanager:{REGION}:{DEFAULT_ACCOUNT_ID}:secret:prod/db-AbCdEf"
    dev = f"arn:aws:secretsmanager:{REGION}:{DEFAULT_ACCOUNT_ID}:secret:dev/db-AbCdEf"

    answer = iam.simulate_principal_policy(
        PolicySourceArn=arn, ActionNames=["secretsmanager:GetSecretValue"], ResourceArns=[prod, dev]
    )

    assert_fits("iam", "SimulatePrincipalPolicy", answer)
    assert _decisions(answer) == {
        ("secretsmanager:GetSecretValue", prod): "explicitDeny",
        ("secretsmanager:GetSecretValue", dev): "allowed",
    }
    result = answer["EvaluationResults"][0]
    assert result["EvalDecision"] == "explicitDeny"
    assert result["MatchedStatements"] == [{"SourcePolicyId": "inline", "SourcePolicyType": "role"}]
    managed_arn = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:policy/denied-managed"
    assert result["ResourceSpecificResults"][1]["MatchedStatements"] == [
        {"SourcePolicyId": managed_arn, "SourcePolicyType": "user-managed"}
    ]


def test_not_action_not_resource_and_no_resources_meaning_star(iam: Any) -> None:
    arn = _role(
        iam,
        "nots",
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "ecr:*", "NotResource": REPO},
    )

    answer = iam.simulate_principal_policy(
        PolicySourceArn=arn, ActionNames=["ecr:BatchGetImage", "iam:GetRole"], ResourceArns=[REPO, OTHER]
    )
    star = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["logs:PutLogEvents"])

    assert _decisions(answer) == {
        ("ecr:BatchGetImage", REPO): "allowed",
        ("ecr:BatchGetImage", OTHER): "explicitDeny",
        ("iam:GetRole", REPO): "implicitDeny",
        ("iam:GetRole", OTHER): "implicitDeny",
    }
    assert_fits("iam", "SimulatePrincipalPolicy", star)
    assert star["EvaluationResults"][0]["EvalResourceName"] == "*"
    assert star["EvaluationResults"][0]["EvalDecision"] == "allowed"


def test_conditions_are_not_evaluated_and_the_answer_says_so(iam: Any) -> None:
    arn = _role(
        iam,
        "cond",
        {"Effect": "Allow", "Action": "ecr:*", "Resource": "*", "Condition": {"StringEquals": {"aws:SourceVpce": "v"}}},
    )

    answer = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["ecr:GetAuthorizationToken"])

    result = answer["EvaluationResults"][0]
    assert result["EvalDecision"] == "allowed"
    assert result["MissingContextValues"] == ["aws:SourceVpce"]


def test_an_unknown_role_is_no_such_entity_and_a_user_is_refused(iam: Any) -> None:
    with pytest.raises(ClientError) as missing:
        iam.simulate_principal_policy(
            PolicySourceArn=f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/ghost", ActionNames=["ecr:BatchGetImage"]
        )
    with pytest.raises(ClientError) as user:
        iam.simulate_principal_policy(
            PolicySourceArn=f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:user/bob", ActionNames=["ecr:BatchGetImage"]
        )

    assert missing.value.response["Error"]["Code"] == "NoSuchEntity"
    assert missing.value.response["Error"]["Message"] == "The role with name ghost cannot be found."
    assert user.value.response["Error"]["Code"] == "InvalidInput"
