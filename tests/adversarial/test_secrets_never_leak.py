"""Issue 10, item 1: no run of six characters of a secret reaches any output, wherever green echoes it.

The probe's headers come from a Secrets Manager secret. Green echoes them back at every offset
around each place text is cut: body samples (200 characters), value details (60), the reason.
Then every output is searched for every six-character window of every secret value: the log
lines and EMF blobs the function printed, the summary the handler returned, and the dry-run
CLI's ``--json`` output. A custom check that puts the secret in an exception, in a CheckError and
in its reason is there too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.adversarial.conftest import Gate, aws_side_checks, library_path
from tests.adversarial.hostile import Exchange, hostile
from tests.support.lambda_env import ROOT
from trafficgate.redaction import MIN_RUN

pytestmark = pytest.mark.integration

TOKEN = "Zq8Lm3Vt7Rk2Pw9Hn4Cb6Dy1Fg5Js0"
API_KEY = "Ae7Ui3Oo9Ye2Ww8Qq4Tt1Bb"
SECRETS = {"Authorization": f"Bearer {TOKEN}", "X-Api-Key": API_KEY}
BEARER = f"Bearer {TOKEN}"
#: Where the echoed secret starts in the body: it ends before, straddles at every position, and
#: starts after the 200-character cut of a body sample.
BODY_OFFSETS = list(range(200 - len(BEARER) - 3, 204))
#: The same around the 60-character cut of a value in a detail (the key follows a quote and padding).
DETAIL_OFFSETS = list(range(60 - len(API_KEY) - 4, 63))

LEAKY_CHECK = """
from trafficgate.checks.base import CheckError, CheckResult

def raises(ctx):
    secret = ctx.auth_headers()["X-Api-Key"]
    raise ValueError(f"upstream said: key {secret} rejected")

def check_error(ctx):
    raise CheckError("key " + ctx.auth_headers()["X-Api-Key"] + " rejected")

def reason(ctx):
    return CheckResult.failed("saw " + ctx.auth_headers()["Authorization"])
"""


def windows(value: str) -> set[str]:
    return {value[i : i + MIN_RUN] for i in range(len(value) - MIN_RUN + 1)}


def leaks(text: str) -> list[str]:
    """Every run of a secret (MIN_RUN characters or more) that appears in ``text``."""
    return sorted(w for secret in (TOKEN, API_KEY, BEARER) for w in windows(secret) if w in text)


def echo(exchange: Exchange) -> bool:
    """A 500 whose body echoes the secret headers' values after a filler that grows with every request."""
    n = len(exchange.server.requests) - 1
    filler = "x" * BODY_OFFSETS[n % len(BODY_OFFSETS)]
    headers = exchange.request.headers
    body = f"{filler}{headers.get('Authorization', '')} {headers.get('X-Api-Key', '')}\n{exchange.request.raw!r}"
    return exchange.answer(500, body.encode())


def echo_in_values(exchange: Exchange) -> bool:
    """200 with the secret in a JSON value and in a header, after fillers that cross the 60 cut."""
    n = len(exchange.server.requests) - 1
    pad = "y" * DETAIL_OFFSETS[n % len(DETAIL_OFFSETS)]
    key = exchange.request.headers.get("X-Api-Key", "")
    body = json.dumps({"token": pad + key, "status": "ok"}).encode()
    return exchange.answer(200, body, {"Content-Type": "application/json", "X-Echo": pad + key})


def plan(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text(text)
    return path


COLLECT_ALL = """\
version: 1
hooks:
  AfterAllowTestTraffic:
    - id: http.test_listener
      requests: {n}
      decision: fixed
      concurrency: 1
      failure_samples: {n}
      min_success_rate: 0
    - id: probe.failing
      check: http_probe
      requests: 5
      decision: fixed
"""

DETAILS = """\
version: 1
hooks:
  AfterAllowTestTraffic:
    - id: json.token
      check: http_probe
      requests: {n}
      decision: fixed
      concurrency: 1
      failure_samples: {n}
      min_success_rate: 0
      json_equals: {{token: expected}}
    - id: header.echo
      check: http_probe
      requests: {n}
      decision: fixed
      concurrency: 1
      failure_samples: {n}
      min_success_rate: 0
      header_matches: {{X-Echo: "^never$"}}
    - id: header.failing
      check: http_probe
      requests: 3
      decision: fixed
      header_matches: {{X-Echo: "^never$"}}
    - {{id: custom.raises, check: "leaky:raises"}}
    - {{id: custom.check_error, check: "leaky:check_error"}}
    - {{id: custom.reason, check: "leaky:reason"}}
"""


def test_body_samples_and_reasons_never_show_the_secret(gate: Gate, tmp_path: Path) -> None:
    arn = gate.secret(SECRETS)
    with hostile(echo) as green:
        run = gate.run(
            env={
                "TRAFFICGATE_TEST_URL": green.url,
                "TRAFFICGATE_AUTH_SECRET_ARN": arn,
                "TRAFFICGATE_PLAN_FILE": str(plan(tmp_path, COLLECT_ALL.format(n=len(BODY_OFFSETS)))),
            }
        )
        sent = [r.headers.get("Authorization") for r in green.requests]

    assert run.statuses == ["Failed"]
    assert set(sent) == {BEARER}  # the secret really went out, and really came back
    samples = run.check("http.test_listener")["details"]["failure_samples"]
    assert len(samples) == len(BODY_OFFSETS)
    assert all("***" in s["body"] or len(s["body"]) <= 203 for s in samples)
    assert leaks(json.dumps(run.summary)) == []
    assert leaks(run.output) == []


def test_value_details_exceptions_and_custom_reasons_never_show_the_secret(gate: Gate, tmp_path: Path) -> None:
    arn = gate.secret(SECRETS)
    (tmp_path / "leaky.py").write_text(LEAKY_CHECK)
    with hostile(echo_in_values) as green:
        run = gate.run(
            env={
                "TRAFFICGATE_TEST_URL": green.url,
                "TRAFFICGATE_AUTH_SECRET_ARN": arn,
                "TRAFFICGATE_PLAN_FILE": str(plan(tmp_path, DETAILS.format(n=len(DETAIL_OFFSETS)))),
                "TRAFFICGATE_CHECK_PACKAGES": "leaky",
            },
            pythonpath=tmp_path,
        )

    assert run.statuses == ["Failed"]
    details = [s["detail"] for c in ("json.token", "header.echo") for s in run.check(c)["details"]["failure_samples"]]
    assert len(details) == 2 * len(DETAIL_OFFSETS)
    assert run.check("custom.raises")["outcome"] == "error"
    assert "header.failing" in run.reason and "custom.reason" in run.reason
    assert leaks(json.dumps(run.summary)) == []
    assert leaks(run.output) == []


def test_the_dry_run_cli_json_never_shows_the_secret(gate: Gate, tmp_path: Path) -> None:
    arn = gate.secret(SECRETS)
    with hostile(echo) as green:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TRAFFICGATE_", "POWERTOOLS_"))}
        env["AWS_ENDPOINT_URL"] = gate.server.endpoint_url
        if library_path():
            env["PYTHONPATH"] = os.pathsep.join(library_path())
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "trafficgate_local.cli",
                "check",
                "--hook",
                "AfterAllowTestTraffic",
                "--json",
                "--verbose",
                "--test-url",
                green.url,
                "--plan",
                str(plan(tmp_path, COLLECT_ALL.format(n=len(BODY_OFFSETS)))),
                "--set",
                f"TRAFFICGATE_AUTH_SECRET_ARN={arn}",
                "--set",
                f"TRAFFICGATE_DISABLED_CHECKS={aws_side_checks()}",
            ],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["status"] == "Failed"
    assert leaks(proc.stdout) == []
    assert leaks(proc.stderr) == []
