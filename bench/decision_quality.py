"""Decision quality: P(Failed) and requests to a verdict, old fixed burst against the sequential procedures.

Monte Carlo over simulated green/blue pairs, no network. Each run draws requests until a verdict:

- old: the fixed burst on green alone, 50 requests, success rate >= 0.99 (so the first error fails
  it: it stops there) and p95 <= 1000 ms;
- new: trafficgate.stats.PairedComparison at http.compare's defaults (errors and latency, alpha
  0.01, beta 0.05, tolerated increase 1 point, detectable increase 2.5 points), at most its cap
  (TRAFFICGATE_COMPARE_MAX_REQUESTS, 1200) pairs;
  still open at the cap is inconclusive (counted apart: the check's policy decides);
- fixed: the fixed-sample test with the same guarantees, for each background error rate: the
  exact one-sided McNemar test (green's share of the pairs where only one side failed, against
  1/2) at the errors' share of alpha, with the fewest pairs that fail a green 3 points worse than
  blue 95 % of the time (computed exactly, not simulated). Target: an equal green passes in at
  most half of that.

A second table judges green alone, as http.test_listener does: the old fixed burst (50 requests, the
first error fails it at 0.99) against the sequential burst (trafficgate.probe.sequential.
SuccessRateTest, alpha 0.01, pass at 95 %, at most 400 requests), over green's error rate, at the
floors 0.99 (the default) and 0.95.

Latency model: each request lognormal, median 50 ms for blue (times the cell's factor for green),
sigma 0.4, independent; an error has no latency. Usage:

    .venv/bin/python bench/decision_quality.py [--runs 2000] [--seed 1] [--jobs 2]

Targets (issue 12): P(Failed) <= 1 % whenever green equals blue (common error rate up to 2 %);
P(Failed) >= 95 % for +3 points of errors and for x1.5 median latency; mean requests to a pass for
an equal green <= half of what a fixed-sample test with the same guarantees needs.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "shared"))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # tests/support: the fixed design

from tests.support.fixed_sample import fixed_sample_pairs  # scipy: the exact fixed-sample design
from trafficgate.probe.compare_spec import CompareSpec
from trafficgate.probe.sequential import SuccessRateTest
from trafficgate.stats import ERROR_ALPHA_SHARE, PairedComparison

BLUE_MEDIAN_MS = 50.0
SIGMA = 0.4
OLD_REQUESTS = 50
OLD_MIN_SUCCESS = 0.99
OLD_MAX_P95_MS = 1000.0
NEW_MAX_PAIRS = CompareSpec().max_requests
ALPHA = CompareSpec().alpha
#: The regression the guarantees are stated for: P(Failed) >= POWER at this many points more errors.
TARGET_INCREASE = 0.03
POWER = 0.95
ABSOLUTE_CAP = 400
ABSOLUTE_RATES = (0.0, 0.005, 0.01, 0.02, 0.03, 0.05, 0.10, 0.20, 1.0)


@dataclass(frozen=True)
class Cell:
    name: str
    blue_error: float
    green_error: float
    latency_factor: float = 1.0

    @property
    def equal(self) -> bool:
        return self.blue_error == self.green_error and self.latency_factor == 1.0


CELLS = (
    Cell("equal, 0 % errors", 0.0, 0.0),
    Cell("equal, 0.5 % errors", 0.005, 0.005),
    Cell("equal, 2 % errors", 0.02, 0.02),
    Cell("+1 point (0.5 % -> 1.5 %)", 0.005, 0.015),
    Cell("+2 points (0.5 % -> 2.5 %)", 0.005, 0.025),
    Cell("+3 points (0.5 % -> 3.5 %)", 0.005, 0.035),
    Cell("+10 points (0.5 % -> 10.5 %)", 0.005, 0.105),
    Cell("+3 points (0 % -> 3 %)", 0.0, 0.03),
    Cell("latency x1.1", 0.005, 0.005, 1.1),
    Cell("latency x1.5", 0.005, 0.005, 1.5),
    Cell("latency x3", 0.005, 0.005, 3.0),
)


def latency(rng: random.Random, factor: float) -> float:
    return BLUE_MEDIAN_MS * factor * math.exp(rng.gauss(0.0, SIGMA))


def old_run(cell: Cell, rng: random.Random) -> tuple[str, int]:
    """The fixed burst: fails at the first error (49/50 < 0.99), else judges the p95."""
    times: list[float] = []
    for i in range(1, OLD_REQUESTS + 1):
        if rng.random() < cell.green_error:
            return "fail", i
        times.append(latency(rng, cell.latency_factor))
    times.sort()
    p95 = times[math.ceil(0.95 * len(times)) - 1]
    return ("fail" if p95 > OLD_MAX_P95_MS else "pass"), OLD_REQUESTS


def new_run(cell: Cell, rng: random.Random, max_pairs: int = NEW_MAX_PAIRS) -> tuple[str, int]:
    comparison = PairedComparison()
    for _ in range(max_pairs):
        green = None if rng.random() < cell.green_error else latency(rng, cell.latency_factor)
        blue = None if rng.random() < cell.blue_error else latency(rng, 1.0)
        verdict = comparison.add(green, blue)
        if verdict is not None:
            return verdict, comparison.pairs
    return "open", max_pairs


def fixed_pairs(blue_error: float) -> int:
    """The fixed-sample design with the same guarantees at ``blue_error`` (tests/support/fixed_sample.py)."""
    return fixed_sample_pairs(blue_error, TARGET_INCREASE, ALPHA * ERROR_ALPHA_SHARE, POWER)


def simulate(args: tuple[Cell, int, int, int]) -> dict[str, float]:
    cell, runs, seed, max_pairs = args
    rng = random.Random(f"{seed}:{cell.name}")
    out: dict[str, float] = {}
    for label, run in (("old", old_run), ("new", lambda c, r: new_run(c, r, max_pairs))):
        results = [run(cell, rng) for _ in range(runs)]
        out[f"{label}_fail"] = sum(r == "fail" for r, _ in results) / runs
        out[f"{label}_open"] = sum(r == "open" for r, _ in results) / runs
        out[f"{label}_requests"] = sum(n for _, n in results) / runs
        passes = [n for r, n in results if r == "pass"]
        out[f"{label}_pass_requests"] = sum(passes) / len(passes) if passes else math.nan
    return out


def absolute(args: tuple[float, float, int, int]) -> dict[str, float]:
    """Green alone at ``floor``: the fixed burst against the sequential one, at error rate ``rate``."""
    rate, floor, runs, seed = args
    rng = random.Random(f"{seed}:absolute:{rate}:{floor}")
    allowed = math.floor(OLD_REQUESTS * (1 - floor) + 1e-9)
    fixed_fail = 0
    for _ in range(runs):
        errors = sum(rng.random() < rate for _ in range(OLD_REQUESTS))
        fixed_fail += errors > allowed
    outcomes = {"pass": 0, "fail": 0, None: 0}
    sent = 0
    for _ in range(runs):
        test = SuccessRateTest(floor, 0.01)
        for _ in range(ABSOLUTE_CAP):
            if test.add(rng.random() < rate) is not None:
                break
        outcomes[test.decision] += 1
        sent += test.n
    return {
        "fixed_fail": fixed_fail / runs,
        "fail": outcomes["fail"] / runs,
        "pass": outcomes["pass"] / runs,
        "open": outcomes[None] / runs,
        "requests": sent / runs,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--max-pairs", type=int, default=NEW_MAX_PAIRS, help="the comparison's cap per side")
    args = parser.parse_args()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        rows = list(pool.map(simulate, [(cell, args.runs, args.seed, args.max_pairs) for cell in CELLS]))
    print(f"{args.runs} runs per cell; new: at most {args.max_pairs} pairs per side")
    print(
        "| cell | old P(Failed) | old mean requests | new P(Failed) | new P(open) | new mean pairs "
        "| new mean pairs to a pass |"
    )
    print("|---|---|---|---|---|---|---|")
    for cell, row in zip(CELLS, rows, strict=True):
        print(
            f"| {cell.name} | {row['old_fail']:.3f} | {row['old_requests']:.0f} | {row['new_fail']:.3f} | "
            f"{row['new_open']:.3f} | {row['new_requests']:.0f} | {row['new_pass_requests']:.0f} |"
        )
    print()
    print(
        f"fixed-sample design with the same guarantees (alpha {ALPHA * ERROR_ALPHA_SHARE:g} on errors, "
        f"P(Failed) >= {POWER:g} at +{TARGET_INCREASE:g}) against the new procedure's equal green"
    )
    print("| background error rate | fixed-sample pairs | half of it | new mean pairs | new mean pairs to a pass |")
    print("|---|---|---|---|---|")
    for cell, row in zip(CELLS, rows, strict=True):
        if cell.equal:
            fixed = fixed_pairs(cell.blue_error)
            print(
                f"| {cell.blue_error:.1%} | {fixed} | {fixed / 2:.0f} | {row['new_requests']:.0f} | "
                f"{row['new_pass_requests']:.0f} |"
            )
    print()
    floors = (0.99, 0.95)
    jobs = [(rate, floor, args.runs, args.seed) for floor in floors for rate in ABSOLUTE_RATES]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        absolute_rows = list(pool.map(absolute, jobs))
    print(f"green alone: fixed = {OLD_REQUESTS} requests; sequential = at most {ABSOLUTE_CAP}, alpha 0.01, 95 %")
    print(
        "| floor | green's error rate | fixed P(Failed) | sequential P(Failed) | P(pass shown) | P(open) "
        "| mean requests |"
    )
    print("|---|---|---|---|---|---|---|")
    for (rate, floor, _, _), row in zip(jobs, absolute_rows, strict=True):
        print(
            f"| {floor:g} | {rate:.1%} | {row['fixed_fail']:.3f} | {row['fail']:.3f} | {row['pass']:.3f} | "
            f"{row['open']:.3f} | {row['requests']:.0f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
