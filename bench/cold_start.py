"""Cold start of a hook function compared with a bare boto3 client, each in fresh interpreters.

(a) import ``functions/after_allow_test_traffic/app.py`` and build what a cold invocation needs
    before its first check: the container's runner (which parses and validates the settings)
    and the CodeDeploy client every invocation reports through;
(b) ``import boto3`` and create one CodeDeploy client.

Each is timed inside a fresh child process with ``time.perf_counter`` around the measured code
only (interpreter start-up is the same for both and excluded). Seven runs each, medians
compared; the target is (a)/(b) <= 1.5. Exits 1 above target and lists the costliest imports
(``python -X importtime``) of (a).

    .venv/bin/python bench/cold_start.py [--runs 7] [--target 1.5]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FUNCTION_DIR = ROOT / "functions" / "after_allow_test_traffic"

HOOK = f"""
import time
t0 = time.perf_counter()
import sys
sys.path.insert(0, {str(FUNCTION_DIR)!r})
import app
from trafficgate.runner import get_runner
runner = get_runner()
assert not isinstance(runner.settings, Exception), runner.settings
runner.clients.reporting_client()  # every invocation reports: count its client, as (b) counts one
print(time.perf_counter() - t0)
"""

BOTO3 = """
import time
t0 = time.perf_counter()
import boto3
boto3.client("codedeploy", region_name="us-east-1")
print(time.perf_counter() - t0)
"""


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRAFFICGATE_", "POWERTOOLS_", "AWS_"))}
    # As in Lambda: a region and credentials in the environment, no shared config files to read.
    env.update(
        {
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


def measure(code: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", code], env=child_env(), capture_output=True, text=True, check=True, timeout=120
    )
    return float(out.stdout.strip().splitlines()[-1])


def costliest_imports(code: str, top: int = 12) -> list[tuple[int, str]]:
    """(cumulative µs, module) of the top-level imports that cost most, from ``-X importtime``."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], env=child_env(), capture_output=True, text=True, timeout=120
    )
    rows: list[tuple[int, str]] = []
    for line in proc.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if match and len(match.group(2)) <= 3:  # top-level and first-level imports
            rows.append((int(match.group(1)), match.group(2) + match.group(3)))
    return sorted(rows, reverse=True)[:top]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--target", type=float, default=1.5)
    args = parser.parse_args(argv)

    measure(HOOK)  # warm the OS file cache once; neither side should pay for cold disks
    measure(BOTO3)
    hook = [measure(HOOK) for _ in range(args.runs)]
    bare = [measure(BOTO3) for _ in range(args.runs)]
    hook_median, bare_median = statistics.median(hook), statistics.median(bare)
    ratio = hook_median / bare_median
    print(f"(a) hook import + runner init : median {hook_median * 1000:7.1f} ms  ({args.runs} runs)")
    print(f"(b) import boto3 + one client : median {bare_median * 1000:7.1f} ms  ({args.runs} runs)")
    print(f"ratio (a)/(b)                 : {ratio:.2f}  (target <= {args.target})")
    if ratio <= args.target:
        return 0
    print("\nabove target; costliest imports of (a) (cumulative ms):")
    for micros, module in costliest_imports(HOOK):
        print(f"  {micros / 1000:8.1f}  {module}")
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
