"""The ``--html`` page: hostile strings escaped and bounded, limits kept, empty data drawn as nothing.

The page is parsed with the standard library's HTML parser: every element must be one the renderer
writes, and no attribute may be an event handler or point anywhere, whatever the checks reported.
"""

from __future__ import annotations

import html.parser
import math
from pathlib import Path
from typing import Any

import pytest

from trafficgate_local import cli
from trafficgate_local.report_html import check_page, html_target, rehearsal_page, write_page
from trafficgate_local.report_html.evidence import MAX_POINTS, bins_of, latency_limits, latency_series
from trafficgate_local.report_html.page import MAX_CHECKS, MAX_EVENTS
from trafficgate_local.report_html.text import MAX_TEXT, clean, esc

ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "p", "b", "ul", "li", "section",
    "ol", "span", "table", "tr", "th", "td", "code", "div", "figure", "figcaption",
    "svg", "rect", "line", "text", "path", "g", "circle",
}  # fmt: skip
HOSTILE = "\"'><script>alert(1)</script><img src=x onerror=alert(2)>\x1b[31m\u202egnp.exe\ud800&amp;\x00"


class Elements(html.parser.HTMLParser):
    """Every start tag and its attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def elements(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Elements()
    parser.feed(page)
    parser.close()
    return parser.tags


def assert_inert(page: str) -> None:
    page.encode("utf-8")  # no lone surrogate survived
    found = elements(page)
    assert {tag for tag, _ in found} <= ALLOWED_TAGS
    for tag, attrs in found:
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            assert name not in {"src", "href", "xlink:href", "action", "srcdoc"}, (tag, name)
            assert "javascript:" not in (value or "").lower()
    for raw in ("\x1b", "\x00", "\u202e"):
        assert raw not in page


def http_details(**extra: Any) -> dict[str, Any]:
    return {
        "url": "http://green.internal/",
        "listener": "test",
        "completed": 50,
        "latency_samples_ms": [5.0 + i for i in range(50)],
        "over_time": {"started_at": 1000.5, "bin_ms": 50, "requests": [10, 20, 20], "failures": [0, 1, 0]},
        "assertions": [
            {"name": "success_rate", "value": 0.98, "threshold": 0.99, "ok": False},
            {"name": "latency_p95_ms", "value": 52.0, "threshold": 1000.0, "ok": True},
        ],
        **extra,
    }


def summary(*checks: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "hook": "AfterAllowTestTraffic",
        "deployment_id": "d-DRYRUN000",
        "status": "Failed",
        "reason": "http.test_listener: success rate 0.98 < 0.99",
        "duration_ms": 812.4,
        "checks": list(checks),
        **extra,
    }


def probe_check(**extra: Any) -> dict[str, Any]:
    return {
        "id": "http.test_listener",
        "outcome": "fail",
        "reason": "success rate 0.98 < 0.99 (49/50 ok; status 500 x1)",
        "value": 0.98,
        "threshold": 0.99,
        "details": http_details(),
        **extra,
    }


# --- text ----------------------------------------------------------------------------------------


def test_clean_shows_controls_and_cuts_before_escaping() -> None:
    assert clean("a\x1bb\u202ec\ud800\nd\te") == "a\\x1bb\\u202ec\\ud800\nd\te"
    assert clean("x" * 1000, 10) == "x" * 10 + "… (990 more characters)"
    assert clean({"k": [1, None]}) == '{"k": [1, null]}'
    assert clean(float("nan")) == "NaN"
    # Cut first, then escape: an entity is never cut in half.
    assert esc("<" * 5, 3) == "&lt;&lt;&lt;… (2 more characters)"
    assert esc("\"'&") == "&quot;&#x27;&amp;"


# --- the page ------------------------------------------------------------------------------------


def test_hostile_strings_everywhere_are_escaped_and_inert() -> None:
    hostile_check = probe_check(
        id=HOSTILE,
        outcome=HOSTILE,
        reason=HOSTILE * 3,
        value=HOSTILE,
        threshold={HOSTILE: HOSTILE},
        warnings=[HOSTILE] * 20,
        dry_run=True,
        details=http_details(listener=HOSTILE, **{HOSTILE: HOSTILE, "body": HOSTILE}),
    )
    page = check_page(summary(hostile_check, hook=HOSTILE, status=HOSTILE, reason=HOSTILE), target=HOSTILE)
    assert_inert(page)
    assert "<script" not in page.lower() and "<img" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "\\x1b[31m" in page and "\\u202egnp.exe" in page
    assert "… 15 more warnings" in page
    page = rehearsal_page(
        {
            "deployment_id": HOSTILE,
            "scenario": HOSTILE,
            "status": HOSTILE,
            "reason": HOSTILE,
            "production_target_groups": {HOSTILE: HOSTILE},
            "hooks": [{"hook": HOSTILE, "status": HOSTILE, "reason": HOSTILE, "summary": summary(hostile_check)}],
            "timeline": [{"t": 0.5, "kind": HOSTILE, "text": HOSTILE, "hook": HOSTILE}] * 3,
        }
    )
    assert_inert(page)
    assert "<script" not in page.lower()


def test_huge_strings_and_lists_are_bounded() -> None:
    huge = "A" * 2_000_000
    checks = [probe_check(id=f"c{i}", reason=huge, details={"x": huge}) for i in range(MAX_CHECKS + 50)]
    page = check_page(summary(*checks, reason=huge))
    assert_inert(page)
    assert len(page) < 1_500_000
    assert f"… ({2_000_000 - MAX_TEXT} more characters)" in page
    assert "50 more checks not shown" in page
    events = [{"t": i / 100, "kind": "traffic", "text": huge} for i in range(MAX_EVENTS + 7)]
    page = rehearsal_page({"status": "Succeeded", "timeline": events, "duration_s": 6.0})
    assert "7 more events not shown" in page
    assert len(page) < 1_500_000


def test_a_cdf_keeps_at_most_max_points_and_only_finite_latencies() -> None:
    raw = [float(i % 977) for i in range(50_000)] + [math.nan, math.inf, -1.0, "12", None, True]
    [series] = latency_series({"details": {"latency_samples_ms": raw}})
    assert len(series.values) == MAX_POINTS
    assert list(series.values) == sorted(series.values) and series.values[0] == 0.0 and series.values[-1] == 976.0
    page = check_page(summary(probe_check(details={"latency_samples_ms": raw})))
    [path] = [attrs for tag, attrs in elements(page) if tag == "path"]
    assert (path["d"] or "").count("V") == MAX_POINTS


def test_empty_and_malformed_data_draw_nothing() -> None:
    for page in (check_page({}), rehearsal_page({}), check_page(summary()), rehearsal_page({"hooks": [None, 3]})):
        assert_inert(page)
        assert "cdf-chart" not in page and "over-time-chart" not in page
        assert "timeline-chart" in page  # the timeline is always drawn, if only its axis
    malformed = [
        {"details": None},
        {"details": {"latency_samples_ms": "1,2,3", "over_time": [1, 2]}},
        {"details": {"latency_samples_ms": [], "over_time": {"bin_ms": 0, "requests": [1], "failures": [0]}}},
        {"details": {"over_time": {"bin_ms": 50, "requests": [1, 2], "failures": [0]}}},
        {"details": {"over_time": {"bin_ms": 50, "requests": [1, -2], "failures": [0, 0]}}},
        {"details": {"over_time": {"bin_ms": math.nan, "requests": [1], "failures": [0]}}},
        {"details": {"over_time": {"bin_ms": 50, "requests": [1] * 10_000, "failures": [0] * 10_000}}},
        {"details": {"assertions": [{"name": "latency_p95_ms", "threshold": "1000"}, "x", {"name": 3}]}},
        {"details": {"assertions": [{"name": "latency_p950_ms", "threshold": 10.0}]}},
    ]
    for check in malformed:
        assert (latency_series(check), bins_of(check), latency_limits(check)) == ([], [], [])
        page = check_page(summary(check))
        assert_inert(page)
        assert "cdf-chart" not in page and "over-time-chart" not in page
    # Failures but no response: the counts over time without a CDF.
    page = check_page(summary(probe_check(details=http_details(latency_samples_ms=[]))))
    assert "over-time-chart" in page and "cdf-chart" not in page and "no latencies" in page


def test_a_single_side_cdf_with_its_limit_and_failures_over_time() -> None:
    page = check_page(summary(probe_check()), started_at=1000.0)
    assert_inert(page)
    found = elements(page)
    [path] = [attrs for tag, attrs in found if tag == "path"]
    assert "cdf-single" in (path["class"] or "")
    [limit] = [attrs for tag, attrs in found if tag == "g" and attrs.get("class") == "threshold"]
    assert (limit["data-quantile"], limit["data-limit-ms"]) == ("95", "1000")
    assert "p95 ≤ 1 s" in page
    failures = [attrs["data-failures"] for tag, attrs in found if tag == "rect" and attrs.get("data-failures")]
    assert failures == ["1"]
    # The burst began 0.5 s after the hook: its failures are on the timeline too.
    timeline = page[page.index('class="chart timeline-chart"') :]
    assert 'class="failures"' in timeline[: timeline.index("</svg>")]
    assert "test listener: n=50, median 29 ms" in page


def test_both_sides_are_drawn_green_against_blue() -> None:
    details = {
        "green": {"latency_samples_ms": [30.0, 31.0, 90.0], "over_time": http_details()["over_time"]},
        "blue": {"latency_samples_ms": [10.0, 11.0, 12.0], "over_time": http_details()["over_time"]},
        "assertions": [{"name": "latency_p50_ms", "value": 31.0, "threshold": 25.0, "ok": False}],
    }
    check = {"id": "http.compare", "outcome": "fail", "reason": "green slower", "details": details}
    assert [s.side for s in latency_series(check)] == ["blue", "green"]
    page = check_page(summary(check))
    assert_inert(page)
    paths = [attrs["class"] for tag, attrs in elements(page) if tag == "path"]
    assert paths == ["cdf cdf-blue", "cdf cdf-green"]  # green drawn last, on top
    assert "http.compare · green vs blue" in page
    assert "green: n=3, median 31 ms" in page and "blue: n=3, median 11 ms" in page
    # Each side's figures in the key details, without the samples the picture shows.
    assert "<b>green</b>: {}" in page and "latency_samples_ms" not in page
    # Only one side: drawn as the details' single side, not as a comparison.
    only_green = {"id": "x", "details": {"green": details["green"]}}
    assert latency_series(only_green) == []


def test_rehearsal_page_places_hooks_and_events_on_the_timeline() -> None:
    record = {
        "deployment_id": "d-ABCDEFGH1",
        "scenario": "errors",
        "status": "Failed",
        "reason": "AfterAllowTestTraffic Failed: http.test_listener: ...",
        "duration_s": 4.0,
        "production_target_groups": {"trafficgate-blue": 100},
        "hooks": [
            {"hook": "BeforeInstall", "status": "Succeeded", "reason": "7/7", "summary": summary(status="Succeeded")},
            {"hook": "AfterAllowTestTraffic", "status": "Failed", "reason": "x", "summary": summary(probe_check())},
        ],
        "timeline": [
            {"t": 0.1, "kind": "hook-start", "text": "BeforeInstall → f", "hook": "BeforeInstall"},
            {"t": 0.9, "kind": "hook", "text": "BeforeInstall: Succeeded", "hook": "BeforeInstall"},
            {"t": 1.0, "kind": "traffic", "text": "AllowTestTraffic: test listener → green (100%)"},
            {"t": 1.1, "kind": "hook-start", "text": "AfterAllowTestTraffic → f", "hook": "AfterAllowTestTraffic"},
            {"t": 2.0, "kind": "hook", "text": "AfterAllowTestTraffic: Failed", "hook": "AfterAllowTestTraffic"},
            {"t": 2.1, "kind": "rollback", "text": "ROLLBACK after AfterAllowTestTraffic"},
        ],
    }
    page = rehearsal_page(record, started_at=999.0)
    assert_inert(page)
    bars = [attrs["data-status"] for tag, attrs in elements(page) if tag == "g" and attrs.get("class") == "hook-bar"]
    assert bars == ["Succeeded", "Failed"]
    assert "rolled back: AfterAllowTestTraffic Failed" in page
    assert page.count('class="mark"') == 2  # traffic and rollback
    assert 'id="hook-AfterAllowTestTraffic"' in page


# --- the file ------------------------------------------------------------------------------------


def test_html_target_names_the_flag(tmp_path: Path) -> None:
    assert html_target(str(tmp_path / "page.html")) == tmp_path / "page.html"
    for text, message in [
        ("", "--html needs a file name"),
        (str(tmp_path), "is a directory"),
        (str(tmp_path / "nope" / "page.html"), f"directory {tmp_path / 'nope'} does not exist"),
    ]:
        with pytest.raises(ValueError, match="--html") as caught:
            html_target(text)
        assert message in str(caught.value)


def test_write_page_replaces_the_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "page.html"
    target.write_text("old")
    write_page(target, "<!DOCTYPE html>é")
    assert target.read_text(encoding="utf-8") == "<!DOCTYPE html>é"
    assert [p.name for p in tmp_path.iterdir()] == ["page.html"]


@pytest.mark.parametrize("command", [["check", "--hook", "AfterAllowTestTraffic"], ["rehearse"]])
def test_a_bad_html_path_is_a_usage_error_before_anything_runs(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing" / "page.html"
    args = cli.build_parser().parse_args([*command, "--html", str(missing)])
    assert args.func(args) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.strip() == f"trafficgate: --html {missing}: directory {missing.parent} does not exist"


@pytest.mark.parametrize(
    "details",
    [
        {"over_time": {"started_at": 1.0, "bin_ms": 1e308, "requests": [1, 2], "failures": [0, 1]}},
        {"over_time": {"started_at": 1.0, "bin_ms": 5e-324, "requests": [1, 2], "failures": [0, 1]}},
        {"latency_samples_ms": [1.0, 1.7e308]},
        {"latency_samples_ms": [1.0, 10**400]},
        {"over_time": {"started_at": 10**400, "bin_ms": 100, "requests": [10**400], "failures": [0]}},
    ],
    ids=["huge-bin", "tiny-bin", "huge-latency", "huge-int-latency", "huge-ints"],
)
def test_extreme_but_finite_numbers_draw_a_page_rather_than_crash(details: dict[str, Any]) -> None:
    summary = {
        "hook": "AfterAllowTestTraffic",
        "status": "Failed",
        "reason": "x",
        "checks": [{"id": "http.test_listener", "outcome": "fail", "reason": "x", "details": details}],
    }
    page = check_page(summary, target="http://green/", started_at=0.0)
    assert "http.test_listener" in page
