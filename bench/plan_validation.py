"""Plan validation: the hand-written validator against fastjsonschema, on cold start and on error quality.

Issue 9 asked whether fastjsonschema (the validator Powertools' validation utility uses) gives
error messages as good as ours with no worse cold start. This script measures both:

(a) cold start, each in a fresh interpreter, timed around the measured code only:
    - ours: import ``trafficgate.plan`` and validate + build the example plan (validating is
      building: the loader converts and checks each field as it builds the check);
    - fastjsonschema: what it would add before that: import it, compile the published schema and
      validate the example plan, in an interpreter where the plan package is already imported
      (the checks still have to be built afterwards, by the same code as ours).
(b) error quality: the first message each gives for a set of bad plans.

    .venv/bin/python bench/plan_validation.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "schemas" / "plan.schema.json"
PLAN = ROOT / "examples" / "custom_check" / "plan.yaml"

OURS = f"""
import time
t0 = time.perf_counter()
import yaml
from trafficgate.plan import parse_plan
document = yaml.safe_load(open({str(PLAN)!r}).read())
parse_plan(document, source="bench")
print(time.perf_counter() - t0)
"""

FAST = f"""
import json, yaml
import trafficgate.plan.loader
import time
t0 = time.perf_counter()
import fastjsonschema
validate = fastjsonschema.compile(json.load(open({str(SCHEMA)!r})))
document = yaml.safe_load(open({str(PLAN)!r}).read())
validate(document)
print(time.perf_counter() - t0)
"""

BAD: dict[str, Any] = {
    "non-numeric p95 in the third entry": {
        "hooks": {
            "AfterAllowTestTraffic": [
                {"id": "http.test_listener"},
                {"id": "x", "check": "mychecks.orders:SchemaVersion"},
                {"id": "y", "check": "http_probe", "max_p95_ms": "fast"},
            ]
        }
    },
    "unknown parameter": {"hooks": {"AfterInstall": [{"id": "http.test_listener", "pathh": "/x"}]}},
    "unknown built-in id": {"hooks": {"AfterInstall": [{"id": "http.nope"}]}},
    "out-of-range policy": {"hooks": {"AfterInstall": [{"id": "ecs.stopped_tasks", "retries": -1}]}},
    "unknown hook": {"hooks": {"AfterTraffic": []}},
    "missing id": {"hooks": {"AfterInstall": [{"path": "/x"}]}},
}


def timed(code: str, runs: int) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRAFFICGATE_", "POWERTOOLS_"))}
    env["PYTHONPATH"] = str(ROOT / "examples" / "custom_check" / "layer")
    samples = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        samples.append(float(out.stdout.strip()))
    return statistics.median(samples) * 1000.0


def messages() -> list[tuple[str, str, str]]:
    import fastjsonschema

    from trafficgate.plan import PlanError, parse_plan

    sys.path.insert(0, str(ROOT / "examples" / "custom_check" / "layer"))
    validate = fastjsonschema.compile(json.loads(SCHEMA.read_text()))
    rows = []
    for name, document in BAD.items():
        try:
            parse_plan({"version": 1, **document}, source="bench")
            ours = "(accepted)"
        except PlanError as exc:
            ours = str(exc)
        try:
            validate({"version": 1, **document})
            theirs = "(accepted)"
        except fastjsonschema.JsonSchemaException as exc:
            theirs = str(exc)
        rows.append((name, ours, theirs))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    ours, fast = timed(OURS, args.runs), timed(FAST, args.runs)
    print(f"cold start, hand-written validator (validate + build)  : median {ours:7.1f} ms ({args.runs} runs)")
    print(f"added by fastjsonschema (import + compile + validate)  : median {fast:7.1f} ms ({args.runs} runs)")
    print()
    for name, mine, theirs in messages():
        print(f"- {name}")
        print(f"    ours          : {mine}")
        print(f"    fastjsonschema: {theirs[:160]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
