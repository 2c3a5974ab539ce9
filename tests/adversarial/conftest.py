"""The adversarial suite: the real hooks against hostile servers, hostile settings and hostile plans.

Every test runs a hook the way it runs in Lambda, through the Docker-free local invoke: the real
handler in its own process, the function's environment from template.yaml, a Lambda context
whose clock runs down, and a kill at the function timeout. It reports to the embedded AWS
stand-in, whose record of ``PutLifecycleEventHookExecutionStatus`` is the verdict: whatever green
or the operator does, exactly one status must be there when the process is gone.
"""

from __future__ import annotations

import io
import itertools
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.support.lambda_env import REGION, ROOT
from trafficgate.hooks import Hook
from trafficgate.plan import BUILTIN_TYPES
from trafficgate_local.invoke import InvokeResult, invoke
from trafficgate_local.standin import StandIn, StandInServer

TEMPLATE = ROOT / "template.yaml"
_ids = itertools.count(1)


def aws_side_checks() -> str:
    """Every built-in check that reads ECS, ELB, ECR or CloudWatch: the seeded deployment has none.

    http.compare and http.diff are among them: they find blue's production listener through ELB
    discovery (the tests here give green's URL only).
    """
    blue_too = ("http.compare", "http.diff")
    return ",".join(sorted(name for name in BUILTIN_TYPES if not name.startswith("http") or name in blue_too))


def library_path() -> list[str]:
    """``TRAFFICGATE_ADVERSARIAL_LIBRARY=<a checkout>/shared`` runs the functions (and the CLI) on that
    checkout's library and local tooling instead: how each test here was shown to fail before its fix.
    """
    library = os.environ.get("TRAFFICGATE_ADVERSARIAL_LIBRARY")
    if not library:
        return []
    support = Path(library).parent / "support"
    return [library, *([str(support)] if support.is_dir() else [])]


@dataclass
class Run:
    """One hook invocation: what the function returned, printed, and reported."""

    result: InvokeResult
    output: str
    statuses: list[str]

    @property
    def summary(self) -> dict[str, Any]:
        returned = self.result.returned
        assert isinstance(returned, dict), (self.result.error, self.output[-2000:])
        return returned

    @property
    def reason(self) -> str:
        return str(self.summary["reason"])

    def check(self, check_id: str) -> dict[str, Any]:
        found: dict[str, Any] = next(c for c in self.summary["checks"] if c["id"] == check_id)
        return found

    def log_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.output.splitlines() if line.startswith("{")]


@dataclass
class Gate:
    """The stand-in, and a way to run one hook against it."""

    server: StandInServer
    control: StandIn

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=self.server.endpoint_url)

    def secret(self, headers: Mapping[str, str]) -> str:
        """A Secrets Manager secret of probe headers; its ARN."""
        name = f"probe-auth-{next(_ids)}"
        arn: str = self.client("secretsmanager").create_secret(Name=name, SecretString=json.dumps(dict(headers)))["ARN"]
        return arn

    def run(
        self,
        hook: Hook = Hook.AFTER_ALLOW_TEST_TRAFFIC,
        *,
        env: Mapping[str, str] | None = None,
        timeout_s: float = 30,
        pythonpath: Path | None = None,
    ) -> Run:
        """Invoke ``hook``'s real handler once, for a fresh hook execution of a fresh deployment."""
        deployment_id = f"d-ADV{next(_ids):06d}"
        self.control.create_ecs_deployment(deployment_id=deployment_id, cluster_name="c", service_name="s")
        execution_id = self.control.register_hook_execution(deployment_id, hook.value)
        extra = {
            "AWS_ENDPOINT_URL": self.server.endpoint_url,
            "TRAFFICGATE_DISABLED_CHECKS": aws_side_checks(),
            "TRAFFICGATE_PLAN_SSM_PREFIX": "off",
            **(env or {}),
        }
        paths = [*library_path(), *([str(pythonpath)] if pythonpath is not None else [])]
        if paths:
            extra["PYTHONPATH"] = os.pathsep.join(paths)
        output = io.StringIO()
        result = invoke(
            hook,
            {"DeploymentId": deployment_id, "LifecycleEventHookExecutionId": execution_id},
            template=TEMPLATE,
            timeout_s=timeout_s,
            region=REGION,
            extra_env=extra,
            log_stream=output,
        )
        recorded = [r.status for r in self.control.statuses(deployment_id) if r.execution_id == execution_id]
        return Run(result=result, output=output.getvalue(), statuses=recorded)


@pytest.fixture(scope="session")
def _standin_server() -> Iterator[StandInServer]:
    with StandInServer(region_name=REGION) as server:
        yield server


@pytest.fixture
def gate(_standin_server: StandInServer) -> Gate:
    return Gate(server=_standin_server, control=_standin_server.stand_in(REGION))
