"""Fixtures shared by every test: fake AWS credentials, a Lambda-like context, sample events."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.support.lambda_env import REGION
from trafficgate import constants
from trafficgate.runner import reset_runner
from trafficgate_local.lambda_context import LocalLambdaContext


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fake credentials and a region; no test ever reaches real AWS. Clears container caches."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_DEFAULT_PROFILE", *constants.ALL):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "TrafficgateTest")
    reset_runner()
    yield
    reset_runner()


@pytest.fixture
def lambda_context() -> Callable[..., LocalLambdaContext]:
    """Factory: ``lambda_context(timeout_s=8)`` gives a context whose clock really runs down."""

    def make(timeout_s: float = 60.0, function_name: str = "CodeDeployHook_trafficgate-test") -> LocalLambdaContext:
        return LocalLambdaContext(function_name=function_name, timeout_s=timeout_s, region=REGION)

    return make
