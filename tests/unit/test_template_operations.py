"""template.yaml as CloudFormation would create it: which resources a set of parameter values makes,
what the functions' role may do, and what the functions are told.

``find_function`` resolves what the local runner needs of one function; :class:`Stack` resolves the
rest of the template (conditions, optional resources, the role's policy) the same way, for one set
of parameter values, so a test can say "by default nothing optional exists" and "this ARN, no other".
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any

import pytest

from tests.support.lambda_env import ROOT
from trafficgate.hooks import Hook
from trafficgate_local.template import find_function, load_template

TEMPLATE = ROOT / "template.yaml"
ACCOUNT = "123456789012"
_NO_VALUE = object()


class Stack:
    """The template resolved for one set of parameter values (defaults for the rest).

    A ``Ref`` to a resource stays symbolic, as ``<LogicalId>``; ``Fn::GetAtt`` likewise.
    """

    def __init__(self, region: str = "eu-west-1", partition: str = "aws", **overrides: str) -> None:
        self.template = load_template(TEMPLATE)
        unknown = set(overrides) - set(self.template["Parameters"])
        assert not unknown, f"no such parameters: {sorted(unknown)}"
        self.params: dict[str, Any] = {}
        for name, spec in self.template["Parameters"].items():
            value = str(overrides.get(name, spec.get("Default", "")))
            # CloudFormation turns "" into [""] for a list, as it does any other text.
            self.params[name] = value.split(",") if spec["Type"] == "CommaDelimitedList" else value
        self.params.update(
            {"AWS::Region": region, "AWS::Partition": partition, "AWS::AccountId": ACCOUNT, "AWS::StackName": "s"}
        )

    def holds(self, condition: str) -> bool:
        return bool(self.value(self.template["Conditions"][condition]))

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        """The resources this stack creates, by logical id."""
        return {
            logical_id: resource
            for logical_id, resource in self.template["Resources"].items()
            if "Condition" not in resource or self.holds(resource["Condition"])
        }

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == resource_type}

    def properties(self, logical_id: str) -> dict[str, Any]:
        properties: dict[str, Any] = self.value(self.resources[logical_id].get("Properties", {}))
        return properties

    def statements(self) -> dict[str, dict[str, Any]]:
        """The statements of the functions' role policy, by Sid."""
        (policy,) = self.properties("HookFunctionRole")["Policies"]
        return {statement["Sid"]: statement for statement in policy["PolicyDocument"]["Statement"]}

    def value(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self.value(x) for x in node) if v is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key in _INTRINSICS:
                return _INTRINSICS[key](self, arg)
        return {k: v for k, v in ((k, self.value(v)) for k, v in node.items()) if v is not _NO_VALUE}

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        return self.params.get(name, f"<{name}>")

    def _sub(self, arg: Any) -> str:
        text, names = (arg, {}) if isinstance(arg, str) else (arg[0], self.value(arg[1]))

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            found = names[name] if name in names else self._ref(name) if "." not in name else f"<{name}>"
            return ",".join(found) if isinstance(found, list) else str(found)

        return re.sub(r"\$\{([^}!][^}]*)\}", one, text)

    def _if(self, arg: list[Any]) -> Any:
        name, yes, no = arg
        return self.value(yes if self.holds(name) else no)


_INTRINSICS: dict[str, Any] = {
    "Ref": lambda s, a: s._ref(a),
    "Fn::GetAtt": lambda s, a: f"<{'.'.join(a)}>",
    "Fn::Sub": lambda s, a: s._sub(a),
    "Fn::If": lambda s, a: s._if(a),
    "Fn::Join": lambda s, a: str(a[0]).join(str(x) for x in s.value(a[1])),
    "Fn::Split": lambda s, a: str(s.value(a[1])).split(a[0]),
    "Fn::Select": lambda s, a: s.value(a[1])[int(a[0])],
    "Fn::Equals": lambda s, a: str(s.value(a[0])) == str(s.value(a[1])),
    "Fn::Not": lambda s, a: not s.value(a[0]),
    "Fn::And": lambda s, a: all(s.value(x) for x in a),
    "Fn::Or": lambda s, a: any(s.value(x) for x in a),
    "Condition": lambda s, a: s.holds(a),
}


def environments(**overrides: str) -> dict[Hook, dict[str, str]]:
    return {hook: find_function(TEMPLATE, hook, parameter_overrides=overrides).environment for hook in Hook}


def arn(service: str, rest: str, *, region: str = "eu-west-1") -> str:
    return f"arn:aws:{service}:{region}:{ACCOUNT}:{rest}"


# --- reporting to CodeDeploy ----------------------------------------------------------------------


def test_report_budget_reaches_every_function() -> None:
    parameter = Stack().template["Parameters"]["ReportBudgetMs"]
    assert parameter["Type"] == "Number"
    assert (parameter["MinValue"], parameter["MaxValue"], parameter["Default"]) == (500, 60000, 2500)
    for hook, env in environments().items():
        assert env["TRAFFICGATE_REPORT_BUDGET_MS"] == "2500", hook
    assert environments(ReportBudgetMs="4000")[Hook.AFTER_INSTALL]["TRAFFICGATE_REPORT_BUDGET_MS"] == "4000"


def test_deadline_margin_covers_the_report_budget() -> None:
    parameters = Stack().template["Parameters"]
    assert int(parameters["DeadlineMarginMs"]["Default"]) >= int(parameters["ReportBudgetMs"]["Default"]) + 500
    description = " ".join(parameters["DeadlineMarginMs"]["Description"].split())
    assert "at least ReportBudgetMs + 500" in description


# --- AppSpec revisions in S3 ----------------------------------------------------------------------


def test_appspec_buckets_grant_nothing_by_default() -> None:
    assert "ReadAppSpecRevisions" not in Stack().statements()
    assert not any(action.startswith("s3:") for st in Stack().statements().values() for action in _actions(st))
    for env in environments().values():
        assert env["TRAFFICGATE_APPSPEC_BUCKETS"] == ""


@pytest.mark.parametrize("partition", ["aws", "aws-cn", "aws-us-gov"])
def test_appspec_buckets_grant_reads_of_exactly_those_buckets(partition: str) -> None:
    stack = Stack(partition=partition, AppSpecBuckets="releases,appspecs.example.com")
    statement = stack.statements()["ReadAppSpecRevisions"]

    assert sorted(_actions(statement)) == ["s3:GetObject", "s3:GetObjectVersion"]
    assert statement["Resource"] == [
        f"arn:{partition}:s3:::releases/*",
        f"arn:{partition}:s3:::appspecs.example.com/*",
    ]
    assert Stack(AppSpecBuckets="one").statements()["ReadAppSpecRevisions"]["Resource"] == ["arn:aws:s3:::one/*"]


def test_appspec_bucket_names_are_checked_at_deploy_time() -> None:
    pattern = Stack().template["Parameters"]["AppSpecBuckets"]["AllowedPattern"]
    for accepted in ("", "releases", "appspecs.example.com", "a-b-c"):
        assert re.fullmatch(pattern, accepted), accepted
    for refused in ("Releases", "bucket/*", "*", "arn:aws:s3:::bucket", "a", "-bucket"):
        assert not re.fullmatch(pattern, refused), refused


# --- HTTPS listeners ------------------------------------------------------------------------------


def test_https_listeners_read_their_certificates() -> None:
    statements = Stack().statements()
    assert "elasticloadbalancing:DescribeListenerCertificates" in _actions(statements["ReadLoadBalancers"])
    assert _actions(statements["ReadCertificates"]) == ["acm:DescribeCertificate"]
    assert statements["ReadCertificates"]["Resource"] == arn("acm", "certificate/*")


def test_inline_appspec_is_read_from_the_application_revision() -> None:
    # GetDeployment never returns an AppSpecContent revision's content, only its sha256.
    statement = Stack().statements()["ReadAppSpec"]
    assert _actions(statement) == ["codedeploy:GetApplicationRevision"]
    assert statement["Resource"] == arn("codedeploy", "application:*")


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


# --- least privilege ------------------------------------------------------------------------------


def test_account_wide_reads_are_held_to_this_account() -> None:
    statements = Stack().statements()
    assert statements["ReadSecretMetadata"]["Resource"] == f"arn:aws:secretsmanager:*:{ACCOUNT}:secret:*"
    assert statements["ReadImages"]["Resource"] == f"arn:aws:ecr:*:{ACCOUNT}:repository/*"
    assert statements["ReadAlarms"]["Resource"] == arn("cloudwatch", "alarm:*")
    assert _actions(statements["ReadAlarms"]) == ["cloudwatch:DescribeAlarms"]


@pytest.mark.parametrize("sid", ["ListTasks", "DescribeTasks"])
def test_task_reads_are_held_to_this_accounts_clusters(sid: str) -> None:
    statement = Stack().statements()[sid]
    assert statement["Condition"] == {"ArnLike": {"ecs:cluster": arn("ecs", "cluster/*")}}


def test_describe_tasks_names_task_arns() -> None:
    assert Stack().statements()["DescribeTasks"]["Resource"] == arn("ecs", "task/*")


# --- VPC ------------------------------------------------------------------------------------------

SUBNETS = "subnet-0123456789abcdef0,subnet-0123456789abcdef1"
SECURITY_GROUPS = "sg-0123456789abcdef0"
VPC = {"VpcSubnetIds": SUBNETS, "VpcSecurityGroupIds": SECURITY_GROUPS}
ENDPOINTS = {**VPC, "CreateVpcEndpoints": "true", "VpcId": "vpc-0123456789abcdef0"}
INTERFACE_SERVICES = {
    "codedeploy",
    "ecs",
    "elasticloadbalancing",
    "ec2",
    "monitoring",
    "logs",
    "ecr.api",
    "ecr.dkr",
    "secretsmanager",
    "ssm",
    "acm",
    "sns",
    "lambda",
    "sts",
    "kms",
}
ENI_ACTIONS = {
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
}


def test_no_vpc_by_default() -> None:
    stack = Stack()
    assert not stack.holds("HasVpc")
    assert "VpcNetworkInterfaces" not in stack.statements()
    assert "ManagedPolicyArns" not in stack.properties("HookFunctionRole")
    assert stack.of_type("AWS::EC2::VPCEndpoint") == {}


def test_a_vpc_gets_the_network_interface_actions_and_no_managed_policy() -> None:
    stack = Stack(**VPC)
    statement = stack.statements()["VpcNetworkInterfaces"]
    assert set(_actions(statement)) == ENI_ACTIONS
    assert statement["Resource"] == "*"
    # AWSLambdaVPCAccessExecutionRole would add log actions on "*": not attached, and no statement does.
    assert "ManagedPolicyArns" not in stack.properties("HookFunctionRole")
    logs = {sid for sid, st in stack.statements().items() if any(a.startswith("logs:") for a in _actions(st))}
    assert logs == {"Logs"}
    assert stack.statements()["Logs"]["Resource"] == [
        arn("logs", "log-group:/aws/lambda/CodeDeployHook_trafficgate-*:*"),
        arn("logs", "log-group:/aws/lambda/trafficgate-EcsLifecycleHook:*"),
    ]
    assert stack.of_type("AWS::EC2::VPCEndpoint") == {}  # endpoints are a choice of their own


@pytest.mark.parametrize("stem", ["trafficgate", "shop"])
def test_every_function_may_write_to_its_own_log_group(stem: str) -> None:
    # A function whose role cannot write its log group runs, but logs nothing: no verdict trail.
    stack = Stack(FunctionNameStem=stem)
    statements = stack.statements()
    functions = stack.of_type("AWS::Serverless::Function")
    assert len(functions) == 6
    for logical_id in functions:
        properties = stack.properties(logical_id)
        assert properties["Role"] == "<HookFunctionRole.Arn>", logical_id
        group_id = properties["LoggingConfig"]["LogGroup"].strip("<>")
        name = stack.properties(group_id)["LogGroupName"]
        stream = arn("logs", f"log-group:{name}:log-stream:2026/12/02/[$LATEST]abc")
        allowing = [
            sid
            for sid, statement in statements.items()
            if {"logs:CreateLogStream", "logs:PutLogEvents"} <= set(_actions(statement))
            and any(fnmatch.fnmatchcase(stream, pattern) for pattern in _resources(statement))
        ]
        assert allowing == ["Logs"], (logical_id, name)


def _resources(statement: dict[str, Any]) -> list[str]:
    resource = statement["Resource"]
    return [resource] if isinstance(resource, str) else list(resource)


def _endpoint_services(stack: Stack) -> dict[str, dict[str, Any]]:
    prefix = "com.amazonaws.eu-west-1."
    endpoints = {}
    for logical_id in stack.of_type("AWS::EC2::VPCEndpoint"):
        properties = stack.properties(logical_id)
        assert properties["ServiceName"].startswith(prefix)
        endpoints[properties["ServiceName"].removeprefix(prefix)] = properties
    return endpoints


#: boto3 client name → the endpoint service it needs (after ``com.amazonaws.<region>.``).
ENDPOINT_OF_CLIENT = {
    "acm": "acm",
    "cloudwatch": "monitoring",
    "codedeploy": "codedeploy",
    "ec2": "ec2",
    "ecr": "ecr.api",
    "ecs": "ecs",
    "elbv2": "elasticloadbalancing",
    "iam": "iam",
    "kms": "kms",
    "lambda": "lambda",
    "logs": "logs",
    "s3": "s3",
    "secretsmanager": "secretsmanager",
    "sns": "sns",
    "ssm": "ssm",
    "sts": "sts",
}


def clients_the_library_creates() -> set[str]:
    """Every ``client("<name>")`` the library asks for, read from its source."""
    names: set[str] = set()
    for path in (ROOT / "shared" / "trafficgate").rglob("*.py"):
        names.update(re.findall(r"""\bclient\(\s*["']([a-z0-9-]+)["']""", path.read_text()))
    return names


def test_every_client_the_library_creates_has_an_endpoint() -> None:
    # A new AWS client in the library without its endpoint would time out in a VPC without a NAT.
    clients = clients_the_library_creates()
    assert {"codedeploy", "ecs", "elbv2", "iam", "ec2"} <= clients  # the reader found the calls
    unknown = clients - set(ENDPOINT_OF_CLIENT)
    assert not unknown, f"map these clients to their VPC endpoint service: {sorted(unknown)}"
    needed = {ENDPOINT_OF_CLIENT[c] for c in clients}
    elsewhere = set(_endpoint_services(Stack(**ENDPOINTS, VpcRouteTableIds="rtb-0123456789abcdef0")))
    # IAM's endpoint exists only in us-east-1 (its control plane); elsewhere IAM needs a NAT.
    assert needed - {"iam"} <= elsewhere
    assert "iam" not in elsewhere
    in_us_east_1 = Stack(region="us-east-1", **ENDPOINTS)
    [iam] = [
        in_us_east_1.properties(logical_id)
        for logical_id in in_us_east_1.of_type("AWS::EC2::VPCEndpoint")
        if in_us_east_1.properties(logical_id)["ServiceName"] == "com.amazonaws.iam"
    ]
    assert iam["VpcEndpointType"] == "Interface" and iam["PrivateDnsEnabled"] is True
    assert iam["SubnetIds"] == SUBNETS.split(",") and iam["SecurityGroupIds"] == [SECURITY_GROUPS]


def test_vpc_endpoints_for_every_service_the_code_calls() -> None:
    endpoints = _endpoint_services(Stack(**ENDPOINTS, VpcRouteTableIds="rtb-0123456789abcdef0"))

    assert set(endpoints) == INTERFACE_SERVICES | {"s3"}
    for service in INTERFACE_SERVICES:
        properties = endpoints[service]
        assert properties["VpcEndpointType"] == "Interface", service
        assert properties["PrivateDnsEnabled"] is True, service
        assert properties["VpcId"] == "vpc-0123456789abcdef0", service
        assert properties["SubnetIds"] == SUBNETS.split(","), service
        assert properties["SecurityGroupIds"] == [SECURITY_GROUPS], service
    assert endpoints["s3"]["VpcEndpointType"] == "Gateway"
    assert endpoints["s3"]["RouteTableIds"] == ["rtb-0123456789abcdef0"]


def test_no_s3_endpoint_without_route_tables() -> None:
    assert set(_endpoint_services(Stack(**ENDPOINTS))) == INTERFACE_SERVICES


@pytest.mark.parametrize(
    "parameters",
    [
        {"CreateVpcEndpoints": "true"},
        {**VPC, "CreateVpcEndpoints": "true"},
        {**ENDPOINTS, "CreateVpcEndpoints": "false"},
    ],
    ids=["no-vpc", "no-vpc-id", "switched-off"],
)
def test_no_endpoints_without_the_switch_and_the_vpc(parameters: dict[str, str]) -> None:
    assert Stack(**parameters).of_type("AWS::EC2::VPCEndpoint") == {}


def test_rules_refuse_endpoints_or_a_vpc_that_cannot_work() -> None:
    rules = Stack().template["Rules"]
    endpoints = rules["VpcEndpointsNeedTheVpc"]
    assert endpoints["RuleCondition"] == {"Fn::Equals": [{"Ref": "CreateVpcEndpoints"}, "true"]}
    asserted = [a["Assert"] for a in endpoints["Assertions"]]
    assert {"Fn::Not": [{"Fn::Equals": [{"Ref": "VpcId"}, ""]}]} in asserted
    assert {"Fn::Not": [{"Fn::EachMemberEquals": [{"Ref": "VpcSubnetIds"}, ""]}]} in asserted
    groups = rules["FunctionsInAVpcNeedSecurityGroups"]["Assertions"]
    assert groups == [
        {
            "Assert": {"Fn::Not": [{"Fn::EachMemberEquals": [{"Ref": "VpcSecurityGroupIds"}, ""]}]},
            "AssertDescription": "VpcSubnetIds needs VpcSecurityGroupIds.",
        }
    ]


@pytest.mark.parametrize("parameter", ["VpcSubnetIds", "VpcSecurityGroupIds"])
def test_vpc_descriptions_name_every_service_the_code_calls(parameter: str) -> None:
    description = " ".join(Stack().template["Parameters"][parameter]["Description"].split())
    for service in (
        "CodeDeploy",
        "ECS",
        "Elastic Load Balancing",
        "EC2 (security groups and subnets)",
        "CloudWatch (metrics and logs)",
        "ECR",
        "Secrets Manager",
        "SSM",
        "S3 and ACM (when used)",
        "SNS (when verdicts are published)",
        "Lambda (long bakes)",
    ):
        assert service in description, (parameter, service)


# --- when the gate itself fails -------------------------------------------------------------------

FUNCTIONS = {hook: f"{hook.value}Hook" for hook in Hook}
QUEUE = arn("sqs", "trafficgate-failures")
TOPIC = arn("sns", "trafficgate-failures")


def test_nothing_optional_exists_by_default() -> None:
    stack = Stack()
    assert stack.of_type("AWS::Lambda::EventInvokeConfig") == {}
    assert stack.of_type("AWS::SNS::Topic") == {}
    assert stack.of_type("AWS::EC2::VPCEndpoint") == {}
    assert {"SendFailedInvocations", "PublishFailedInvocations", "PublishVerdicts"}.isdisjoint(stack.statements())
    for logical_id in stack.of_type("AWS::CloudWatch::Alarm"):
        assert "AlarmActions" not in stack.properties(logical_id), logical_id
    outputs = {k for k, v in stack.template["Outputs"].items() if "Condition" not in v or stack.holds(v["Condition"])}
    assert "VerdictTopicArn" not in outputs


@pytest.mark.parametrize(
    ("destination", "sid", "action"),
    [(QUEUE, "SendFailedInvocations", "sqs:SendMessage"), (TOPIC, "PublishFailedInvocations", "sns:Publish")],
)
def test_failure_destination_for_every_function(destination: str, sid: str, action: str) -> None:
    stack = Stack(FailureDestinationArn=destination)

    configs = [stack.properties(k) for k in stack.of_type("AWS::Lambda::EventInvokeConfig")]
    assert sorted(c["FunctionName"] for c in configs) == sorted(f"<{f}>" for f in FUNCTIONS.values())
    for config in configs:
        assert config["Qualifier"] == "$LATEST"
        assert config["DestinationConfig"] == {"OnFailure": {"Destination": destination}}
        # Lambda's default retries stay (the library raises to be retried); an event older than
        # CodeDeploy's one-hour wait goes to the destination.
        assert (config["MaximumRetryAttempts"], config["MaximumEventAgeInSeconds"]) == (2, 3600)
    statements = stack.statements()
    assert _actions(statements[sid]) == [action]
    assert statements[sid]["Resource"] == destination
    other = {"SendFailedInvocations", "PublishFailedInvocations"} - {sid}
    assert other.isdisjoint(statements)


def test_failure_destination_must_be_a_queue_or_a_topic() -> None:
    pattern = Stack().template["Parameters"]["FailureDestinationArn"]["AllowedPattern"]
    for accepted in ("", QUEUE, TOPIC, "arn:aws-us-gov:sqs:us-gov-west-1:123456789012:q"):
        assert re.fullmatch(pattern, accepted), accepted
    for refused in (
        QUEUE + ".fifo",  # Lambda destinations take standard queues and topics only
        arn("lambda", "function:f"),
        arn("events", "event-bus/default"),
        "https://sqs.eu-west-1.amazonaws.com/123456789012/q",
        "arn:aws:sqs:eu-west-1:123456789012:*",
    ):
        assert not re.fullmatch(pattern, refused), refused


def test_one_alarm_on_the_errors_of_all_five_functions() -> None:
    alarm = Stack().properties("HookErrorsAlarm")
    (expression,) = [m for m in alarm["Metrics"] if m.get("ReturnData")]
    inputs = [m for m in alarm["Metrics"] if "MetricStat" in m]
    assert expression["Expression"] == f"SUM([{', '.join(m['Id'] for m in inputs)}])"
    assert {m["MetricStat"]["Metric"]["MetricName"] for m in inputs} == {"Errors"}
    assert sorted(m["MetricStat"]["Metric"]["Dimensions"][0]["Value"] for m in inputs) == sorted(
        f"<{f}>" for f in FUNCTIONS.values()
    )
    for metric in inputs:
        stat = metric["MetricStat"]
        assert stat["Metric"]["Namespace"] == "AWS/Lambda"
        assert [d["Name"] for d in stat["Metric"]["Dimensions"]] == ["FunctionName"]
        assert (stat["Stat"], stat["Period"], metric["ReturnData"]) == ("Sum", 60, False)
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)
    assert alarm["TreatMissingData"] == "notBreaching"


@pytest.mark.parametrize("overrides", [{}, {"MetricsNamespace": "Gates", "ServiceName": "checkout-gate"}])
def test_report_failed_alarm_watches_the_metric_the_library_emits(overrides: dict[str, str]) -> None:
    stack = Stack(**overrides)
    alarm = stack.properties("ReportFailedAlarm")
    assert alarm["MetricName"] == "ReportFailed"
    assert alarm["Namespace"] == stack.params["MetricsNamespace"]
    assert alarm["Dimensions"] == [{"Name": "service", "Value": stack.params["ServiceName"]}]
    assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == ("Sum", 60, 1)
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)
    assert alarm["TreatMissingData"] == "notBreaching"
    # The functions name the same namespace and service to Powertools.
    env = find_function(TEMPLATE, Hook.AFTER_ALLOW_TRAFFIC, parameter_overrides=overrides).environment
    assert (env["POWERTOOLS_METRICS_NAMESPACE"], env["POWERTOOLS_SERVICE_NAME"]) == (
        alarm["Namespace"],
        alarm["Dimensions"][0]["Value"],
    )


def test_alarm_topic_notifies_both_alarms() -> None:
    stack = Stack(AlarmTopicArn=arn("sns", "oncall"))
    alarms = stack.of_type("AWS::CloudWatch::Alarm")
    assert len(alarms) == 2
    for logical_id in alarms:
        assert stack.properties(logical_id)["AlarmActions"] == [arn("sns", "oncall")]


def test_verdict_topic_when_verdicts_are_published() -> None:
    stack = Stack(PublishVerdicts="true")
    (topic,) = stack.of_type("AWS::SNS::Topic")
    assert stack.properties(topic)["KmsMasterKeyId"] == "alias/aws/sns"
    statement = stack.statements()["PublishVerdicts"]
    assert (_actions(statement), statement["Resource"]) == (["sns:Publish"], f"<{topic}>")
    output = stack.template["Outputs"]["VerdictTopicArn"]
    assert stack.holds(output["Condition"]) and not Stack().holds(output["Condition"])
    assert stack.value(output["Value"]) == f"<{topic}>"


def test_every_function_is_told_the_verdict_topic() -> None:
    variables = Stack().template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["TRAFFICGATE_VERDICT_TOPIC_ARN"] == {"Fn::If": ["PublishVerdicts", {"Ref": "VerdictTopic"}, ""]}
    assert Stack(PublishVerdicts="true").value(variables["TRAFFICGATE_VERDICT_TOPIC_ARN"]) == "<VerdictTopic>"
    for hook, env in environments().items():
        assert env["TRAFFICGATE_VERDICT_TOPIC_ARN"] == "", hook


# --- what may stay "*" ----------------------------------------------------------------------------


# Statements whose actions support no narrower resource (or, for ENIs, none Lambda can live with).
STAR_STATEMENTS = {
    "ReportVerdict",
    "ReadLoadBalancers",
    "ReadNetwork",
    "ReadTaskDefinitions",
    "ListTasks",
    "ListParameters",
    "ReadMetrics",
    "XRay",
    "VpcNetworkInterfaces",
}


def everything_on() -> Stack:
    """A stack with every optional feature switched on."""
    return Stack(
        **ENDPOINTS,
        VpcRouteTableIds="rtb-0123456789abcdef0",
        Tracing="true",
        AuthSecretArn=arn("secretsmanager", "secret:probe-AbCdEf"),
        AppSpecBuckets="releases",
        FailureDestinationArn=QUEUE,
        AlarmTopicArn=arn("sns", "oncall"),
        PublishVerdicts="true",
    )


def test_star_resources_are_only_where_no_narrower_resource_exists() -> None:
    starred = {sid for sid, st in everything_on().statements().items() if st["Resource"] == "*"}
    assert starred == STAR_STATEMENTS


def test_every_star_resource_says_why() -> None:
    """In the template text, each ``Resource: "*"`` has a comment starting ``# "*":`` in its statement."""
    lines = TEMPLATE.read_text().splitlines()
    starred = [i for i, line in enumerate(lines) if line.strip() == 'Resource: "*"']
    # The role statements', and the progress key policy's three (where "*" is the key itself).
    assert len(starred) == len(STAR_STATEMENTS) + 3
    for index in starred:
        start = max(i for i in range(index) if lines[i].strip().startswith("- Sid:"))
        reasons = [line for line in lines[start:index] if line.strip().startswith('# "*":')]
        assert reasons, f'template.yaml:{index + 1}: Resource "*" without a reason'


@pytest.mark.parametrize(
    "check", ["CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117", "CKV_AWS_158", "CKV_AWS_173", "CKV_AWS_272"]
)
def test_each_open_checkov_finding_is_explained_in_the_template_and_the_readme(check: str) -> None:
    assert f"#   {check} " in TEMPLATE.read_text()
    operating = (ROOT / "README.md").read_text().split("\n## Operating the gate\n", 1)[1].split("\n## ", 1)[0]
    assert f"| `{check}` " in operating


def test_the_progress_key_seals_and_only_the_functions_role_may_use_it() -> None:
    stack = Stack()
    key = stack.properties("ProgressKey")
    assert (key["KeySpec"], key["KeyUsage"]) == ("HMAC_256", "GENERATE_VERIFY_MAC")
    statements = {st["Sid"]: st for st in key["KeyPolicy"]["Statement"]}
    mac = ["kms:GenerateMac", "kms:VerifyMac"]
    assert statements["FunctionsSeal"]["Principal"] == {"AWS": "<HookFunctionRole.Arn>"}
    assert (statements["FunctionsSeal"]["Effect"], _actions(statements["FunctionsSeal"])) == ("Allow", mac)
    deny = statements["NobodyElseSeals"]
    assert (deny["Effect"], deny["Principal"], _actions(deny)) == ("Deny", "*", mac)
    assert deny["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": "<HookFunctionRole.Arn>"}}
    # No identity policy grants it (the key policy does), so no other role's kms:* on "*" can make a MAC.
    assert not any("kms:" in a for st in stack.statements().values() for a in _actions(st))
    variables = stack.template["Globals"]["Function"]["Environment"]["Variables"]
    assert stack.value(variables["TRAFFICGATE_PROGRESS_KEY_ARN"]) == "<ProgressKey.Arn>"
