"""Docker-free ``sam local invoke``: run a hook's real handler in a fresh process.

Like SAM's container, each invocation gets its own process (a cold start), the function's
environment from template.yaml (parameter defaults, then shell values of the declared
variables, then ``--env-vars``), a Lambda-like context whose clock really runs down, and is
killed when the function timeout passes. ``AWS_ENDPOINT_URL`` and credentials pass through, so
the handler talks to whatever the shell points at: the embedded stand-in, or moto_server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trafficgate.hooks import EcsStage, Hook
from trafficgate_local.template import FunctionSpec, find_function
from trafficgate_local.worker import INVOKE_MARK

#: Lambda's limit on a function's init phase (on-demand functions), before the first invocation.
INIT_LIMIT_S = 10.0
#: Past an invocation's timeout (or the init limit), the kill comes this much later: the time it
#: takes to notice, not time given to the function.
_KILL_GRACE_S = 1.0

# Variables a Lambda sandbox always has, taken from the shell when set there.
_PASS_THROUGH = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_CA_BUNDLE",
    "AWS_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "PATH",
    "HOME",
    "LANG",
    "TZ",
    "PYTHONPATH",
    "SYSTEMROOT",
)


@dataclass(frozen=True)
class InvokeResult:
    """What one local invocation produced."""

    function: FunctionSpec
    returned: Any
    error: dict[str, Any] | None
    timed_out: bool
    duration_s: float
    exit_code: int


def function_environment(
    spec: FunctionSpec,
    *,
    region: str,
    shell: Mapping[str, str],
    env_vars_file: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """The environment of the function process, with SAM's precedence.

    template value < shell value of a variable the template declares < ``--env-vars`` file
    (``{"Parameters": {...}}`` for all functions, ``{"<LogicalId>": {...}}`` for one).
    """
    env = {k: shell[k] for k in _PASS_THROUGH if k in shell}
    for name, value in spec.environment.items():
        env[name] = shell.get(name, value)
    if env_vars_file:
        for scope in ("Parameters", spec.logical_id, spec.function_name):
            for name, value in (env_vars_file.get(scope) or {}).items():
                env[name] = str(value)
    env.update(
        {
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_LAMBDA_FUNCTION_NAME": spec.function_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(int(spec.timeout_s)),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12_trafficgate_local",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def invoke(
    hook: Hook | EcsStage,
    event: Any,
    *,
    template: Path,
    timeout_s: float | None = None,
    region: str | None = None,
    parameter_overrides: Mapping[str, str] | None = None,
    env_vars_file: Mapping[str, Any] | None = None,
    extra_env: Mapping[str, str] | None = None,
    log_stream: Any = None,
) -> InvokeResult:
    """Invoke ``hook``'s handler from ``template`` in a child process and wait for it.

    Parameters
    ----------
    hook
        Which function to run.
    event
        The event (any JSON value; the handler validates it).
    template
        Path of template.yaml.
    timeout_s
        Overrides the function's Timeout from the template.
    region
        AWS region of the function; ``AWS_REGION``/``AWS_DEFAULT_REGION`` or us-east-1.
    parameter_overrides, env_vars_file
        As ``sam local invoke --parameter-overrides`` and ``--env-vars``.
    extra_env
        Variables set last (used by the rehearsal to point the function at its stand-in).
    log_stream
        Where the function's log lines go (stderr by default).
    """
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    spec = find_function(template, hook, parameter_overrides=parameter_overrides, region=region)
    if timeout_s is not None:
        spec = FunctionSpec(**{**spec.__dict__, "timeout_s": float(timeout_s)})
    env = function_environment(spec, region=region, shell=os.environ, env_vars_file=env_vars_file)
    env.update(extra_env or {})
    with tempfile.TemporaryDirectory(prefix="trafficgate-invoke-") as tmp:
        event_path = Path(tmp) / "event.json"
        result_path = Path(tmp) / "result.json"
        event_path.write_text(json.dumps(event))
        command = [
            sys.executable,
            "-m",
            "trafficgate_local.worker",
            str(spec.code_dir),
            spec.handler,
            str(event_path),
            str(result_path),
            spec.function_name,
            str(spec.timeout_s),
            str(spec.memory_mb),
        ]
        started = time.monotonic()
        stream = log_stream if log_stream is not None else sys.stderr
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        timed_out = False
        try:
            assert proc.stdout is not None
            # Lambda gives the init (imports, module load) its own limit and each invocation the
            # function's timeout from its start, then kills the sandbox; so do we (with a small
            # grace), restarting the timer when the worker says an invocation starts. A busy
            # machine's slow interpreter start so never eats into the function's own time.
            deadline = [started + INIT_LIMIT_S + _KILL_GRACE_S]
            _pump(proc, stream, deadline, spec.timeout_s + _KILL_GRACE_S)
            proc.wait(timeout=max(0.1, deadline[0] - time.monotonic()))
        except subprocess.TimeoutExpired:
            timed_out = True
            proc.kill()
            proc.wait()
        duration = time.monotonic() - started
        returned: Any = None
        error: dict[str, Any] | None = None
        if result_path.exists():
            payload = json.loads(result_path.read_text())
            returned, error = payload.get("result"), payload.get("error")
        if timed_out:
            error = {
                "errorType": "Sandbox.Timedout",
                "errorMessage": f"Task timed out after {spec.timeout_s:.2f} seconds",
            }
        return InvokeResult(spec, returned, error, timed_out, duration, proc.returncode or 0)


def _pump(proc: subprocess.Popen[str], stream: Any, deadline: list[float], invocation_s: float) -> None:
    """Copy the function's output to ``stream`` until it exits or ``deadline[0]`` passes; each
    invocation mark moves the deadline to ``invocation_s`` from then (and is not copied)."""
    import selectors

    assert proc.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    while True:
        left = deadline[0] - time.monotonic()
        if left <= 0:
            raise subprocess.TimeoutExpired(proc.args, 0)
        if not selector.select(timeout=min(left, 0.5)):
            if proc.poll() is not None:
                return
            continue
        line = proc.stdout.readline()
        if not line:
            return
        if line.rstrip("\n") == INVOKE_MARK:
            deadline[0] = time.monotonic() + invocation_s
            continue
        stream.write(line)
        stream.flush()
