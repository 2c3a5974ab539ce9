"""Verdict overhead of a healthy AfterAllowTestTraffic hook on the stand-in (a script, not a test).

Run: ``.venv/bin/python bench/verdict_overhead.py [--runs 5] [--requests N] [--profile]``.
Exits 1 if the overhead is above target.

The overhead is what a hook costs beyond the HTTP probe it exists to run: reading the
settings, discovering the deployment (CodeDeploy, ELBv2), judging, reporting the verdict to
CodeDeploy and emitting logs and metrics. It is measured as

    median(wall time of the real handler, warm) - median(the same probe burst on its own)

with both measured against the same healthy green app behind the rehearsal's local load
balancer, with the same ProbeSpec (``Settings.from_env()`` in the hook's environment).
Target: <= 0.25 s.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

from trafficgate.config import Settings
from trafficgate.hooks import Hook
from trafficgate.observability import send_logs_to
from trafficgate.probe import evaluate, run_burst
from trafficgate_local.lambda_context import LocalLambdaContext
from trafficgate_local.rehearsal.conductor import Rehearsal, RehearsalOptions

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 0.25
HOOK = Hook.AFTER_ALLOW_TEST_TRAFFIC


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="timed invocations of each (default 5)")
    parser.add_argument("--requests", type=int, help="probe requests (default: the template's)")
    parser.add_argument("--profile", action="store_true", help="cProfile the timed hook invocations")
    args = parser.parse_args(argv)

    # The rehearsal's own set-up: stand-in, blue and a healthy green app, the local load balancer,
    # and a deployment whose test listener routes to green (AllowTestTraffic done).
    rehearsal = Rehearsal(RehearsalOptions(template=ROOT / "template.yaml", probe_requests=args.requests), out=None)
    with rehearsal._stack:
        rehearsal._setup()
        rehearsal._install()
        rehearsal._allow_test_traffic()
        spec_fn = rehearsal._function(HOOK)
        os.environ.update(rehearsal.hooks.environment(spec_fn))
        # http.compare is probing too, not overhead: off, so the hook runs the one burst timed in (a).
        os.environ["TRAFFICGATE_COMPARE"] = "off"
        handler = rehearsal.hooks.handler(HOOK, spec_fn)
        test_port = next(e["test_port"] for e in rehearsal.timeline.events if e["kind"] == "setup")
        url = f"http://{rehearsal.dns_name}:{test_port}"
        probe_spec = Settings.from_env().probe
        assert probe_spec is not None

        # (a) the probe burst alone.
        run_burst(probe_spec, url)  # warm
        probe_times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            burst = run_burst(probe_spec, url)
            probe_times.append(time.perf_counter() - started)
            result = evaluate(probe_spec, burst)
            if result.outcome.value != "pass":
                raise SystemExit(f"the probe alone did not pass: {result.reason}")

        # (b) the whole hook through its real handler, warm (one untimed invocation first).
        sink = io.StringIO()
        send_logs_to(sink)

        def invoke() -> float:
            execution_id = rehearsal.stand_in.register_hook_execution(rehearsal.deployment_id, HOOK.value)
            event = {"DeploymentId": rehearsal.deployment_id, "LifecycleEventHookExecutionId": execution_id}
            context = LocalLambdaContext(function_name=spec_fn.function_name, timeout_s=spec_fn.timeout_s)
            started = time.perf_counter()
            with contextlib.redirect_stdout(sink):  # EMF metrics go to stdout
                summary = handler(event, context)
            elapsed = time.perf_counter() - started
            recorded = [
                r for r in rehearsal.stand_in.statuses(rehearsal.deployment_id) if r.execution_id == execution_id
            ]
            if [r.status for r in recorded] != ["Succeeded"] or summary.get("status") != "Succeeded":
                raise SystemExit(f"hook did not report Succeeded: {summary.get('reason')} / {recorded}")
            return elapsed

        invoke()  # warm: settings, clients, discovery cache
        profiler = cProfile.Profile() if args.profile else None
        hook_times = []
        for _ in range(args.runs):
            if profiler is not None:
                profiler.enable()
            hook_times.append(invoke())
            if profiler is not None:
                profiler.disable()

    probe_median = statistics.median(probe_times)
    hook_median = statistics.median(hook_times)
    overhead = hook_median - probe_median
    print(f"AfterAllowTestTraffic, healthy green, {probe_spec.requests} requests x {probe_spec.concurrency} at a time")
    print(f"{'measure':<28}{'median s':>10}{'min s':>10}{'max s':>10}")
    for label, values in (("probe burst alone", probe_times), ("hook wall time (warm)", hook_times)):
        print(f"{label:<28}{statistics.median(values):>10.3f}{min(values):>10.3f}{max(values):>10.3f}")
    verdict = "OK" if overhead <= TARGET_S else "OVER TARGET"
    print(f"{'verdict overhead':<28}{overhead:>10.3f}   target <= {TARGET_S:.2f} s: {verdict}")
    if profiler is not None:
        print("\nhook invocations, by cumulative time:")
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(30)
    return 0 if overhead <= TARGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
