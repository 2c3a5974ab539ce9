"""Green's answers against blue's: status class, content type and JSON shape, on a few GET requests.

Layer L2 (a check): imports the check API and the probe engine.

Between AllowTestTraffic and AllowTraffic the test listener serves green while the production
listener still serves blue. ``http.diff`` asks both the same few GETs (:mod:`trafficgate.probe.samples`)
and reports where green's answers differ from blue's in *form*: the status class (``2xx``), the
media type of the Content-Type, and for JSON the shape (key paths and value types,
:mod:`trafficgate.probe.shape`). Values are never compared or shown: they may be secrets, and they
legitimately differ between two versions (ids, timestamps). What differs is reported by path,
``$.items[].price: number → string``, blue's on the left, green's on the right.

The built-in entries run as a dry run (:data:`BUILTIN_POLICY`): a new field or a changed type is
often intended, so it is reported, not rolled back. A plan that names ``http.diff`` enforces it,
as every plan entry is enforced unless it says ``dry_run: true``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from trafficgate.checks.base import Check, CheckError, CheckResult, Policy
from trafficgate.probe.exceptions import ProbeConfigError
from trafficgate.probe.shape import (
    MAX_DEPTH,
    MAX_DIFFERENCES,
    MAX_PATHS,
    SHAPE_PATH_PATTERN,
    Path,
    describe_sets,
    diff_shapes,
    parse_path,
)
from trafficgate.probe.spec import PATH_PATTERN, ProbeSpec
from trafficgate.ranges import Range, bounded
from trafficgate.redaction import Masker, registered

if TYPE_CHECKING:
    from trafficgate.context import CheckContext
    from trafficgate.probe.samples import PathSamples

DIFF_CHECK_ID = "http.diff"

#: The built-in entries' policy: reported, never blocking (a plan entry enforces it).
BUILTIN_POLICY = Policy(dry_run=True)
#: A path to sample, as the plan JSON Schema checks it: the probe path's pattern, ending with "nothing
#: follows" (a "$" would also match before a final newline, which the spec refuses).
PATH_ITEM_PATTERN = PATH_PATTERN.removesuffix("$") + r"(?![\s\S])"
#: Paths a plan entry may list.
MAX_PATHS_SAMPLED = 10
#: Characters of one reported difference (a long key is cut).
_DIFFERENCE_CHARS = 200


@dataclass(kw_only=True)
class HttpDiff(Check):
    """Compare green's answers with blue's on a few GET requests: status class, media type, JSON shape.

    Parameters
    ----------
    paths
        Paths to GET on both listeners (with their query); the probe path when empty.
    samples
        Requests per path and side. The shapes of one side's answers on a path are united, so a
        field that only some answers carry is not reported as missing.
    ignore
        Shape paths not compared, in the report's notation (``$.meta.requestId``,
        ``$.items[].updatedAt``, ``$["a key"]``); each ignores itself and everything under it.
    """

    check_id: str = DIFF_CHECK_ID
    paths: tuple[str, ...] = dataclasses.field(default=(), metadata={"items_pattern": PATH_ITEM_PATTERN})
    samples: int = bounded(3, Range(1, 20, integer=True))
    ignore: tuple[str, ...] = dataclasses.field(default=(), metadata={"items_pattern": SHAPE_PATH_PATTERN})
    _ignored: tuple[Path, ...] = dataclasses.field(init=False, repr=False, compare=False, default=())
    sample_unit: ClassVar[str] = "requests"

    def __post_init__(self) -> None:
        super().__post_init__()
        # Checked when the plan is read, naming the field: hooks.X[0].ignore[1]: ...
        if len(self.paths) > MAX_PATHS_SAMPLED:
            raise ProbeConfigError(f"paths: at most {MAX_PATHS_SAMPLED} paths", field="paths")
        for i, path in enumerate(self.paths):
            try:
                ProbeSpec(path=path)
            except ProbeConfigError as exc:
                raise ProbeConfigError(f"paths[{i}]: {str(exc).removeprefix('path ')}", field=f"paths[{i}]") from None
        self._ignored = tuple(self._parse_ignore())

    def _parse_ignore(self) -> list[Path]:
        parsed = []
        for i, text in enumerate(self.ignore):
            try:
                parsed.append(parse_path(text))
            except ValueError as exc:
                raise ProbeConfigError(f"ignore[{i}]: {exc}", field=f"ignore[{i}]") from None
        return parsed

    def expected_s(self, ctx: CheckContext) -> float:
        # A few requests per path and side, each well under a second on a healthy listener.
        return 1.0 + 0.5 * len(self.paths or ("/",)) * self.samples

    def run(self, ctx: CheckContext) -> CheckResult:
        from trafficgate.probe.samples import run_samples  # requests only when samples run

        green_url, blue_url = ctx.base_url("test"), ctx.base_url("prod")
        missing = [name for name, url in (("test", green_url), ("production", blue_url)) if url is None]
        if green_url is None or blue_url is None:
            message = f"deployment group has no {' and no '.join(missing)} listener; response diff skipped"
            return CheckResult.passed(message, warnings=(message,))
        headers = ctx.auth_headers()
        green_spec, blue_spec = (
            dataclasses.replace(spec, headers={**spec.headers, **headers})
            for spec in (ctx.probe_spec("test"), ctx.probe_spec("prod"))
        )
        paths = self.paths or (ctx.settings.probe.path,)
        try:
            sampled = run_samples(
                green_spec,
                green_url,
                blue_spec,
                blue_url,
                paths=paths,
                samples=self.samples,
                deadline=ctx.deadline - ctx.time_after_s,
                cancel=ctx.cancelled,
            )
        except ProbeConfigError as exc:
            raise CheckError(f"probe settings: {exc}") from None
        mask = Masker([*green_spec.headers.values(), *registered()])
        found: list[str] = []
        warnings = list(sampled.warnings)
        per_path: dict[str, Any] = {}
        for answers in sampled.paths:
            differences, notes = compare_answers(answers, self._ignored)
            prefix = f"{answers.path} " if len(paths) > 1 else ""
            found.extend(mask.cut(prefix + d, _DIFFERENCE_CHARS) for d in differences)
            warnings.extend(f"{answers.path}: {note}" for note in notes)
            per_path[answers.path] = {"differences": len(differences), **_seen(answers)}
        requests = 2 * sum(a.green.requests for a in sampled.paths)
        details: dict[str, Any] = {
            "green": sampled.green_url,
            "blue": sampled.blue_url,
            "paths": per_path,
            "differences": found[:MAX_DIFFERENCES],
            "differences_total": len(found),
            "ignore": list(self.ignore),
            "stopped": sampled.stop_reason,
        }
        common: dict[str, Any] = {
            "value": len(found),
            "threshold": 0,
            "details": details,
            "samples": requests,
            "warnings": tuple(warnings),
        }
        if found:
            shown = "; ".join(found[:MAX_DIFFERENCES])
            more = f" (and {len(found) - MAX_DIFFERENCES} more)" if len(found) > MAX_DIFFERENCES else ""
            return CheckResult.failed(f"green answers differ from blue's: {shown}{more}", **common)
        if len(sampled.paths) < len(paths) or not sampled.paths:
            why = "the hook's deadline" if sampled.stop_reason == "cancelled" else "the deadline"
            return CheckResult.inconclusive(
                f"inconclusive: {len(sampled.paths)} of {len(paths)} paths sampled before {why}, no difference",
                **common,
            )
        return CheckResult.passed(
            f"green answers like blue on {len(paths)} path(s), {requests} requests: "
            "same status class, content type and JSON shape",
            **common,
        )


def compare_answers(answers: PathSamples, ignore: tuple[Path, ...] = ()) -> tuple[list[str], list[str]]:
    """The differences (blue → green) of one path's answers, and notes on what was not compared."""
    green, blue = answers.green, answers.blue
    differences: list[str] = []
    if green.statuses.keys() != blue.statuses.keys():
        differences.append(f"status: {describe_sets(blue.statuses)} → {describe_sets(green.statuses)}")
    # A side with no answer at all has no content type: its status already says so.
    if green.media and blue.media and green.media.keys() != blue.media.keys():
        differences.append(f"content-type: {describe_sets(blue.media)} → {describe_sets(green.media)}")
    notes: list[str] = []
    if green.shape is None or blue.shape is None:
        return differences, notes
    over = [name for name, side in (("green", green), ("blue", blue)) if side.shape is not None and side.shape.over]
    if over:
        notes.append(f"JSON shape of {' and '.join(over)} has more than {MAX_PATHS} paths; not compared")
        return differences, notes
    if green.shape.deep or blue.shape.deep:
        notes.append(f"JSON nested deeper than {MAX_DEPTH} levels: compared down to level {MAX_DEPTH}")
    differences.extend(diff_shapes(blue.shape, green.shape, ignore))
    return differences, notes


def _seen(answers: PathSamples) -> Mapping[str, Any]:
    """What each side answered, without values: counts of status classes and media types."""
    out: dict[str, Any] = {}
    for name, side in (("green", answers.green), ("blue", answers.blue)):
        out[name] = {"requests": side.requests, "status": dict(side.statuses), "content_type": dict(side.media)}
    return out
