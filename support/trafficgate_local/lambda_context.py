"""A Lambda-like context with a real countdown, for the local runner and the tests."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field


@dataclass
class LocalLambdaContext:
    """Mimics ``awslambdaric``'s context: the attributes Powertools reads, and a live clock.

    Parameters
    ----------
    function_name
        e.g. ``CodeDeployHook_trafficgate-AfterAllowTestTraffic``.
    timeout_s
        The function timeout; :meth:`get_remaining_time_in_millis` counts down from it.
    memory_limit_in_mb
        Reported as in Lambda.
    region, account_id
        Used to build ``invoked_function_arn``.
    """

    function_name: str = "CodeDeployHook_trafficgate-local"
    timeout_s: float = 60.0
    memory_limit_in_mb: int = 256
    region: str = "us-east-1"
    account_id: str = "123456789012"
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic, repr=False)

    def __post_init__(self) -> None:
        if not self.log_group_name:
            self.log_group_name = f"/aws/lambda/{self.function_name}"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self._started
        return max(0, int((self.timeout_s - elapsed) * 1000))
