"""template.yaml's distribution metadata and the operators' view, held to what the code really writes.

The dashboard's metric searches and the saved Logs Insights queries name metrics, dimensions and
log fields. Those names are taken here from a real run of the hook runner (its JSON log lines and
its EMF blobs), not from a list written by hand: a field or metric renamed in the library fails
these tests until the template follows.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.support.fakes import FakeReporter, FixedContext
from tests.support.lambda_env import ROOT
from tests.unit.test_runner import Fixed, Raises
from tests.unit.test_template_operations import Stack
from trafficgate.checks.base import Check, CheckResult, Policy
from trafficgate.config import ObservabilitySettings, Settings
from trafficgate.exceptions import ReportError
from trafficgate.hooks import Hook
from trafficgate.observability import logger, send_logs_to
from trafficgate.outcome import Outcome
from trafficgate.runner import HookRunner
from trafficgate.verdict import FAILED, SUCCEEDED
from trafficgate_local.template import load_template

TEMPLATE = ROOT / "template.yaml"
SERVICE, NAMESPACE = "svc-ops", "Ops/Gate"
#: Fields Logs Insights adds to every event, whatever it holds.
SYSTEM_FIELDS = {"@timestamp", "@message", "@logStream", "@log", "@ingestionTime"}


def hook_log_groups() -> list[str]:
    """The log groups of the stack's functions, as a Ref resolves them here (``<LogicalId>``)."""
    functions = Stack().of_type("AWS::Serverless::Function").values()
    groups = [f"<{f['Properties']['LoggingConfig']['LogGroup']['Ref']}>" for f in functions]
    assert len(groups) == len(Hook) + 1  # the five CodeDeploy hooks and the ECS lifecycle hook
    return groups


# --- what a hook really writes ---------------------------------------------------------------------




@dataclass(frozen=True)
class Emf:
    namespace: str
    dimensions: frozenset[str]
    metric: str
    values: dict[str, str]


@dataclass
class Written:
    """The log fields (flattened as Logs Insights names them) and EMF metrics of real hook runs."""

    fields: set[str] = field(default_factory=set)
    records: list[dict[str, Any]] = field(default_factory=list)
    metrics: list[Emf] = field(default_factory=list)


def flatten(node: Any, prefix: str = "") -> Iterator[str]:
    """Field names as Logs Insights discovers them in a JSON event: a.b for objects, a.0 for arrays."""
    if isinstance(node, dict) and node:
        for key, value in node.items():
            yield from flatten(value, f"{prefix}{key}.")
    elif isinstance(node, list) and node:
        for index, value in enumerate(node):
            yield from flatten(value, f"{prefix}{index}.")
    else:
        yield prefix[:-1]


@pytest.fixture(scope="module")
def written() -> Written:
    plan: list[Check] = [
        Fixed(check_id="ops.pass", result=CheckResult.passed("fine", value=1, threshold=1)),
        Fixed(check_id="ops.fail", result=CheckResult.failed("broken", value=0, threshold=1)),
        Fixed(check_id="ops.dry", policy=Policy(dry_run=True), result=CheckResult.failed("x", value=0, threshold=1)),
        Fixed(check_id="ops.unsure", result=CheckResult.inconclusive("no samples")),
        Raises(check_id="ops.raises", error=RuntimeError("boom")),
    ]
    settings = Settings(observability=ObservabilitySettings(service_name=SERVICE, metrics_namespace=NAMESPACE))
    event = {"DeploymentId": "d-OPSVIEW01", "LifecycleEventHookExecutionId": "exec-ops"}
    logs, stdout = io.StringIO(), io.StringIO()
    previous = logger.registered_handler.stream
    send_logs_to(logs)
    try:
        with contextlib.redirect_stdout(stdout):  # Powertools prints EMF blobs to stdout
            HookRunner(settings=settings, reporter=FakeReporter()).run(
                Hook.BEFORE_INSTALL, event, FixedContext(), plan=plan
            )
            # A report that cannot be made: the ERROR verdict line and the ReportFailed metric.
            with pytest.raises(ReportError):
                HookRunner(settings=settings, reporter=FakeReporter(error=ReportError("unreachable"))).run(
                    Hook.AFTER_INSTALL, event, FixedContext(), plan=plan[:1]
                )
    finally:
        send_logs_to(previous)
    out = Written()
    for line in [*logs.getvalue().splitlines(), *stdout.getvalue().splitlines()]:
        record = json.loads(line)
        out.records.append(record)
        out.fields.update(flatten(record))
        for directive in record.get("_aws", {}).get("CloudWatchMetrics", []):
            for dimensions in directive["Dimensions"]:
                for metric in directive["Metrics"]:
                    values = {name: record[name] for name in dimensions}
                    out.metrics.append(Emf(directive["Namespace"], frozenset(dimensions), metric["Name"], values))
    assert out.metrics and any("check" in r for r in out.records), "the runs wrote no EMF or check lines"
    return out


# --- distribution ----------------------------------------------------------------------------------


def application() -> dict[str, Any]:
    app: dict[str, Any] = load_template(TEMPLATE)["Metadata"]["AWS::ServerlessRepo::Application"]
    return app


def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)


def test_application_metadata_is_complete_and_valid_for_the_repository() -> None:
    app = application()
    required = {"Name", "Description", "Author", "SpdxLicenseId", "LicenseUrl", "ReadmeUrl", "Labels"}
    assert required | {"SemanticVersion", "HomePageUrl", "SourceCodeUrl"} <= set(app), sorted(app)
    # The Serverless Application Repository's own constraints on each field.
    assert re.fullmatch(r"[a-zA-Z0-9\-]{1,140}", app["Name"]), app["Name"]
    assert re.fullmatch(r"[a-z0-9](?:[a-z0-9]|-(?!-)){0,125}[a-z0-9]", app["Author"]), app["Author"]
    assert 1 <= len(app["Description"]) <= 256, len(app["Description"])
    assert 1 <= len(app["Labels"]) <= 10 and len(set(app["Labels"])) == len(app["Labels"])
    for label in app["Labels"]:
        assert re.fullmatch(r"[a-zA-Z0-9+\-_:/@]{1,127}", label), label
    for key in ("HomePageUrl", "SourceCodeUrl"):
        assert re.fullmatch(r"https://[^\s/]+/\S+", app[key]), (key, app[key])


def test_semantic_version_is_the_package_version() -> None:
    version = application()["SemanticVersion"]
    assert SEMVER.fullmatch(str(version)), f"SemanticVersion {version!r} is not a semantic version"
    assert str(version) == pyproject()["version"], "template.yaml and pyproject.toml disagree on the version"


def test_license_is_the_apache_license_the_package_declares() -> None:
    app = application()
    assert app["SpdxLicenseId"] == pyproject()["license"] == "Apache-2.0"
    text = (ROOT / app["LicenseUrl"]).read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in text
    assert "END OF TERMS AND CONDITIONS" in text  # the whole text, not a stub
    assert (ROOT / app["ReadmeUrl"]).is_file() and app["ReadmeUrl"] == pyproject()["readme"]


#: The properties ``sam package`` uploads and rewrites as S3 locations.
UPLOADED = {"CodeUri", "ContentUri", "LicenseUrl", "ReadmeUrl"}


def test_the_only_local_paths_are_the_ones_sam_package_uploads() -> None:
    found: list[tuple[str, str]] = []

    def walk(node: Any, key: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif isinstance(node, str) and re.fullmatch(r"\.*[\w-][\w.-]*(?:/[\w.-]*)*", node) and (ROOT / node).exists():
            found.append((key, node))

    walk(load_template(TEMPLATE), "")
    assert sorted(key for key, _ in found) == ["CodeUri"] * (len(Hook) + 1) + ["ContentUri", "LicenseUrl", "ReadmeUrl"]
    for _, path in found:
        assert not path.startswith(("/", "..")), path


# --- the dashboard ---------------------------------------------------------------------------------


def dashboard(stack: Stack) -> dict[str, Any]:
    body = stack.properties("GateDashboard")["DashboardBody"]
    # Fn::Sub turns ${!Name} into ${Name}: the dashboard's own dynamic labels.
    parsed: dict[str, Any] = json.loads(body.replace("${!", "${"))
    return parsed


def widgets(stack: Stack) -> dict[str, dict[str, Any]]:
    return {w["properties"]["title"]: w for w in dashboard(stack)["widgets"] if "title" in w["properties"]}


def widget(stack: Stack, starts: str) -> dict[str, Any]:
    (found,) = [w for title, w in widgets(stack).items() if title.startswith(starts)]
    return found


def ops_stack(**overrides: str) -> Stack:
    return Stack(ServiceName=SERVICE, MetricsNamespace=NAMESPACE, **overrides)


def test_dashboard_is_created_by_default_and_can_be_switched_off() -> None:
    parameter = Stack().template["Parameters"]["CreateDashboard"]
    assert (parameter["Default"], parameter["AllowedValues"]) == ("true", ["true", "false"])
    assert list(Stack().of_type("AWS::CloudWatch::Dashboard")) == ["GateDashboard"]
    assert "DashboardName" in Stack().template["Outputs"]
    off = Stack(CreateDashboard="false")
    assert off.of_type("AWS::CloudWatch::Dashboard") == {}
    assert not off.holds(Stack().template["Outputs"]["DashboardName"]["Condition"])
    # The saved queries stay: they cost nothing until run.
    assert len(off.of_type("AWS::Logs::QueryDefinition")) == 3


def test_dashboard_name_is_unique_per_stem_and_region() -> None:
    name = Stack(region="eu-west-1").properties("GateDashboard")["DashboardName"]
    assert name == "trafficgate-gate-eu-west-1"
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,255}", name)


def test_dashboard_has_the_four_widgets_in_this_region() -> None:
    titles = widgets(Stack(region="ap-south-2"))
    assert len(titles) == 4, sorted(titles)
    for starts in ("Verdicts per hook", "Failed and erred checks by check id", "Hook duration p95", "Report failures"):
        assert any(t.startswith(starts) for t in titles), starts
    for w in titles.values():
        assert w["properties"]["region"] == "ap-south-2"
        assert {"x", "y", "width", "height"} <= set(w) and w["x"] + w["width"] <= 24


SEARCH = re.compile(r"SEARCH\('\{\"(?P<ns>[^\"]+)\",(?P<dims>[^}]+)\} (?P<terms>.*)', '(?P<stat>[^']+)'\)")


def searches(stack: Stack, starts: str) -> list[tuple[dict[str, Any], re.Match[str]]]:
    out = []
    for (metric,) in widget(stack, starts)["properties"]["metrics"]:
        match = SEARCH.fullmatch(metric["expression"])
        assert match, metric["expression"]
        out.append((metric, match))
    return out


def emitted(written: Written, match: re.Match[str]) -> Emf:
    """The EMF metric a SEARCH expression finds: same namespace, the same dimension set, name and service."""
    terms = dict(re.findall(r'(\w+)="([^"]*)"', match["terms"]))
    assert set(terms) == {"MetricName", "service"}, terms
    dims = frozenset(d.strip() for d in match["dims"].split(","))
    found = [
        m
        for m in written.metrics
        if (m.namespace, m.dimensions, m.metric) == (match["ns"], dims, terms["MetricName"])
        and m.values["service"] == terms["service"]
    ]
    assert found, f"no EMF metric {terms['MetricName']} with dimensions {sorted(dims)} in {match['ns']}"
    return found[0]


def test_verdicts_per_hook_are_the_verdict_metrics_the_runner_emits(written: Written) -> None:
    found = searches(ops_stack(), "Verdicts per hook")
    names = [emitted(written, match).metric for _, match in found]
    assert names == ["VerdictSucceeded", "VerdictFailed"]
    for metric, match in found:
        assert match["stat"] == "Sum"
        assert "hook" in match["dims"] and "${PROP('Dim.hook')}" in metric["label"]  # one series a hook
    assert widget(ops_stack(), "Verdicts per hook")["properties"]["stat"] == "Sum"


def test_hook_duration_is_the_p95_of_the_duration_the_runner_emits(written: Written) -> None:
    ((metric, match),) = searches(ops_stack(), "Hook duration p95")
    assert emitted(written, match).metric == "HookDuration"
    assert match["stat"] == "p95" and metric["label"] == "${PROP('Dim.hook')}"


def test_report_failures_widget_is_the_alarm_on_the_metric_the_runner_emits(written: Written) -> None:
    stack = ops_stack()
    assert widget(stack, "Report failures")["properties"]["annotations"]["alarms"] == ["<ReportFailedAlarm.Arn>"]
    alarm = stack.properties("ReportFailedAlarm")
    dims = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
    (report_failed,) = [m for m in written.metrics if m.metric == "ReportFailed"]
    assert (alarm["Namespace"], alarm["MetricName"]) == (report_failed.namespace, report_failed.metric)
    assert dims == report_failed.values == {"service": SERVICE}


def test_failures_by_check_id_read_every_hook_log_group(written: Written) -> None:
    query = widget(Stack(), "Failed and erred checks by check id")["properties"]["query"]
    sources = re.findall(r"SOURCE '([^']+)' \| ", query)
    assert sources == hook_log_groups()
    check_query(query.split("| ", len(sources))[-1], written)
    outcomes = set(re.findall(r'"(\w+)"', query))
    assert outcomes == {Outcome.FAIL.value, Outcome.ERROR.value}


# --- the saved queries -----------------------------------------------------------------------------

KEYWORDS = {"and", "or", "not", "in", "like", "as", "by", "asc", "desc"}
FUNCTIONS = {"ispresent", "count", "avg", "pct", "max", "min", "sum"}
COMMANDS = {"fields", "filter", "stats", "sort", "limit", "display"}
TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\d+(?:\.\d+)?\b|@?[A-Za-z_][\w]*(?:\.\w+)*|\S')


def check_query(text: str, written: Written) -> None:
    """Logs Insights syntax as far as these queries use it, and only fields the runs wrote.

    Comment lines (#) are dropped; each command of the pipeline must be known, brackets and quotes
    must balance, functions must be known, and every other name must be a field of the runs' log
    lines, a Logs Insights system field, or an alias defined earlier in the query (``as name``).
    """
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    commands = [c.strip() for c in " ".join(lines).split("| ")]
    aliases: set[str] = set()
    for command in commands:
        tokens = TOKEN.findall(command)
        assert tokens and tokens[0] in COMMANDS, f"unknown command in {command!r}"
        depth = 0
        for token in tokens:
            depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(token, 0)
            assert depth >= 0, f"unbalanced brackets in {command!r}"
        assert depth == 0, f"unbalanced brackets in {command!r}"
        assert command.count('"') % 2 == 0, f"unbalanced quotes in {command!r}"
        if tokens[0] == "limit":
            assert len(tokens) == 2 and 1 <= int(tokens[1]) <= 10000, command
            continue
        if tokens[0] == "sort":
            assert tokens[-1] in ("asc", "desc"), command
        if tokens[0] == "stats":
            assert "by" in tokens, f"stats without by in {command!r}"
        for i, token in enumerate(tokens[1:], start=1):
            if not re.fullmatch(r"@?[A-Za-z_][\w.]*", token) or token in KEYWORDS:
                continue
            if i + 1 < len(tokens) and tokens[i + 1] == "(":
                assert token in FUNCTIONS, f"unknown function {token} in {command!r}"
            elif tokens[i - 1] == "as":
                aliases.add(token)
            else:
                known = sorted(f for f in written.fields if not f.startswith(("_aws.", "verdict.checks.")))
                assert token in written.fields | SYSTEM_FIELDS | aliases, (
                    f"{token} is not a field the hooks write; they write {known} (and verdict.checks.<n>.*)"
                )


def queries() -> dict[str, dict[str, Any]]:
    return {logical_id: Stack().properties(logical_id) for logical_id in Stack().of_type("AWS::Logs::QueryDefinition")}


def test_three_saved_queries_over_every_hook_log_group() -> None:
    found = queries()
    names = sorted(q["Name"] for q in found.values())
    assert names == [
        "Trafficgate/trafficgate/Checks that are often inconclusive",
        "Trafficgate/trafficgate/Slowest checks this week",
        "Trafficgate/trafficgate/Why did deployment X fail",
    ]
    for query in found.values():
        assert query["LogGroupNames"] == hook_log_groups()
        assert re.fullmatch(r"(?:[^:*/]+/)*[^:*/]+", query["Name"]) and len(query["Name"]) <= 255


@pytest.mark.parametrize("logical_id", ["WhyDidDeploymentFailQuery", "SlowestChecksQuery", "OftenInconclusiveQuery"])
def test_each_query_is_valid_and_reads_only_fields_the_hooks_write(logical_id: str, written: Written) -> None:
    check_query(queries()[logical_id]["QueryString"], written)


def test_the_checker_refuses_a_field_nobody_writes(written: Written) -> None:
    with pytest.raises(AssertionError, match="checkid is not a field"):
        check_query("fields checkid | limit 5", written)
    with pytest.raises(AssertionError, match="unknown command"):
        check_query("select check", written)
    with pytest.raises(AssertionError, match="unbalanced"):
        check_query("filter ispresent(check", written)


def test_why_did_deployment_fail_finds_that_deployments_failures(written: Written) -> None:
    text = queries()["WhyDidDeploymentFailQuery"]["QueryString"]
    assert 'filter deployment_id = "d-XXXXXXXXX"' in text
    # The values it compares with are the ones the runner writes.
    assert f'verdict.status = "{FAILED}"' in text and SUCCEEDED != FAILED
    assert re.search(r'outcome in \["fail", "error"\]', text)
    assert {"verdict.status", "verdict.reason", "deployment_id", "hook", "level"} <= written.fields
    failed = [r for r in written.records if r.get("verdict", {}).get("status") == FAILED]
    assert failed and all(r["deployment_id"] == "d-OPSVIEW01" for r in failed)
    assert "ops.fail: broken" in failed[0]["verdict"]["reason"]  # the blocking check ids, with reasons
    assert any(r.get("level") == "ERROR" and "verdict" in r for r in written.records)  # report failed


def test_slowest_checks_use_the_per_check_lines(written: Written) -> None:
    text = queries()["SlowestChecksQuery"]["QueryString"]
    assert "pct(duration_ms, 95)" in text and "by check, hook" in text
    lines = [r for r in written.records if "outcome" in r and "duration_ms" in r]
    assert {r["check"] for r in lines} == {"ops.pass", "ops.fail", "ops.dry", "ops.unsure", "ops.raises"}
    for r in lines:
        assert r["message"].startswith(f"check {r['check']}: {r['outcome']}: ")
        assert isinstance(r["duration_ms"], int | float)


def test_often_inconclusive_counts_judged_checks_from_the_emf_lines(written: Written) -> None:
    text = queries()["OftenInconclusiveQuery"]["QueryString"]
    assert f"count(Check{Outcome.INCONCLUSIVE.value.capitalize()}.0)" in text
    blobs = [r for r in written.records if "CheckDuration" in r]
    inconclusive = [r["check"] for r in blobs if "CheckInconclusive" in r]
    assert inconclusive == ["ops.unsure"]
    assert len({r["check"] for r in blobs}) == 5 and all("hook" in r for r in blobs)


def test_readme_documents_the_operators_view() -> None:
    text = (ROOT / "README.md").read_text()
    start = text.index("### Operators' view")
    section = text[start : text.index("\n## ", start)]
    assert "`CreateDashboard`" in section and "`DashboardName`" in section
    for query in queries().values():
        assert query["Name"].rsplit("/", 1)[1] in section, query["Name"]
    for title in widgets(Stack()):
        assert title.split(" (")[0] in section, title
