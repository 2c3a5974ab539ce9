"""The ``--html`` evidence page, as a browser shows it: real runs of the CLI, rendered in headless Chromium.

A rehearsal whose green answers 500 to one request in five, and a dry run against a green whose body
carries markup, each write their page; Chromium loads it from a file (no network: the page needs
none, and its Content-Security-Policy allows none) and the test reads the DOM it built and a
screenshot of it.

Chromium is required: without it the test fails saying how to install it. Set
``TRAFFICGATE_SKIP_BROWSER=1`` to skip it on purpose (CI never does).
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from tests.support.http_apps import HttpApp, Route, serve

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SKIP_VARIABLE = "TRAFFICGATE_SKIP_BROWSER"
#: A hang guard only: a rehearsal takes 10-25 s here, Chromium a few seconds.
TIMEOUT_S = 300
HOSTILE_STATUS = "\u202e<script>document.title='pwned'</script><img src=x onerror=alert(1)>"
PLAN = """\
version: 1
hooks:
  AfterAllowTestTraffic:
    - id: http.test_listener
      requests: 20
      decision: fixed
      concurrency: 1
      json_equals: {status: ok}
"""


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get(SKIP_VARIABLE) == "1":
        pytest.skip(f"{SKIP_VARIABLE}=1: the evidence page is not rendered in a browser")
    pytest.fail(
        "Chromium is not installed: this test renders the --html page in headless Chromium. "
        "Install it with `apt-get install -y chromium` (`make test` does so when run as root), "
        f"or set {SKIP_VARIABLE}=1 to skip this test on purpose.",
        pytrace=False,
    )


def browse(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Chromium, headless, offline and without a first-run or background traffic, on ``page``."""
    command = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        *extra,
        page.resolve().as_uri(),
    ]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def dom_of(page: Path, tmp_path: Path) -> str:
    return browse(page, tmp_path / "profile-dom", "--dump-dom").stdout


def png_pixels(png: bytes) -> tuple[int, int, bytes]:
    """Width, height and the (still filtered) pixel rows of a PNG: enough to tell a blank image."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width = height = 0
    data = b""
    offset = 8
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind, body = png[offset + 4 : offset + 8], png[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            data += body
        offset += 12 + length
    return width, height, zlib.decompress(data)


def assert_not_blank(page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "page.png"
    browse(page, tmp_path / "profile-shot", "--window-size=1000,1400", f"--screenshot={shot}")
    width, height, pixels = png_pixels(shot.read_bytes())
    assert (width, height) == (1000, 1400)
    # A blank page filters to two or three byte values whatever PNG filter Chromium chose; text,
    # bars and curves in several colours to many.
    assert len(set(pixels)) > 100


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRAFFICGATE_", "POWERTOOLS_", "AWS_ENDPOINT"))}
    return subprocess.run(
        [sys.executable, "-m", "trafficgate_local.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )


def attributes(dom: str, tag: str, css_class: str) -> list[str]:
    """The start tags ``<tag ... class="css_class" ...>`` of the rendered DOM."""
    return [m for m in re.findall(rf"<{tag}\b[^>]*>", dom) if f'class="{css_class}"' in m]


def test_a_rolled_back_rehearsal_page_shows_the_timeline_the_cdf_and_every_verdict(tmp_path: Path) -> None:
    page = tmp_path / "rehearsal.html"
    proc = run_cli("rehearse", "--scenario", "errors", "--html", str(page))
    assert proc.returncode == 1, proc.stderr  # rolled back, as without --html
    assert f"Evidence page: {page}" in proc.stdout

    dom = dom_of(page, tmp_path)
    assert "<script" not in dom.lower()
    assert re.search(r"<title>Trafficgate rehearsal: d-[A-Z0-9]{9} \(errors\)</title>", dom)
    assert re.search(
        r'id="verdict"><b class="status-Failed">Failed</b>: rolled back: AfterAllowTestTraffic Failed', dom
    )
    # Every hook that ran, with its verdict, and every check id of each.
    hooks = re.findall(r'<section class="hook" id="hook-(\w+)"[^>]*><h2>\w+: <span class="status status-(\w+)">', dom)
    assert hooks == [("BeforeInstall", "Succeeded"), ("AfterInstall", "Succeeded"), ("AfterAllowTestTraffic", "Failed")]
    for check_id in ("ecs.task_definition", "ecs.taskset_steady", "elb.targets_healthy", "http.test_listener"):
        assert f'data-check="{check_id}"' in dom
    assert re.search(r'<tr class="check outcome-fail" data-check="http.test_listener">', dom)
    # How many 500s the burst saw before it stopped depends on how many requests were in flight.
    assert "success rate" in dom and re.search(r"status 500 x\d+", dom)
    # The timeline: three hook bars (the last red), the rollback, the burst's failures.
    bars = re.findall(r'<g class="hook-bar" data-status="(\w+)"', dom)
    assert bars == ["Succeeded", "Succeeded", "Failed"]
    assert "ROLLBACK after AfterAllowTestTraffic" in dom
    assert attributes(dom, "rect", "failures")
    # The latency CDF of the burst, with the p95 limit, and its failures over time.
    [figure] = re.findall(r'<figure class="evidence" data-check="http.test_listener">.*?</figure>', dom, re.S)
    assert "<svg" in figure and 'class="chart cdf-chart"' in figure
    [path] = attributes(figure, "path", "cdf cdf-single")
    assert re.search(r'd="M[\d.]+,[\d.]+(H[\d.]+V[\d.]+)+H[\d.]+"', path)
    assert '<g class="threshold" data-quantile="95" data-limit-ms="1000">' in figure
    assert "p95 ≤ 1 s" in figure
    assert 'class="chart over-time-chart"' in figure and attributes(figure, "rect", "failures")

    assert_not_blank(page, tmp_path)


def test_a_dry_run_page_shows_what_green_sent_as_text_never_as_markup(tmp_path: Path) -> None:
    plan, page = tmp_path / "plan.yaml", tmp_path / "check.html"
    plan.write_text(PLAN)
    body = ('{"status": "' + HOSTILE_STATUS.replace('"', '\\"') + '"}').encode()
    with serve(HttpApp(default=Route(body=body, headers={"Content-Type": "application/json"}))) as server:
        proc = run_cli(
            "check",
            "--hook",
            "AfterAllowTestTraffic",
            "--test-url",
            server.url,
            "--plan",
            str(plan),
            "--html",
            str(page),
        )
    assert proc.returncode == 1, proc.stderr
    assert "first: status is" in proc.stdout

    dom = dom_of(page, tmp_path)
    assert "<title>Trafficgate check: AfterAllowTestTraffic</title>" in dom  # not 'pwned'
    assert "<script" not in dom.lower() and "<img" not in dom.lower() and "\u202e" not in dom
    [row] = re.findall(r'<tr class="check outcome-fail" data-check="http.test_listener">.*?</tr>', dom, re.S)
    # The library cut green's value and wrote the override as an escape; the page shows it all as text.
    assert "first: status is \"\\u202e&lt;script&gt;document.title='pwned'&lt;/script&gt;&lt;img src=x" in row
    assert attributes(dom, "path", "cdf cdf-single")
    assert '<g class="threshold" data-quantile="95" data-limit-ms="1000">' in dom
    assert_not_blank(page, tmp_path)


def test_without_chromium_the_test_fails_saying_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv(SKIP_VARIABLE, raising=False)
    with pytest.raises(pytest.fail.Exception, match=r"apt-get install -y chromium"):
        chromium()
    monkeypatch.setenv(SKIP_VARIABLE, "1")
    with pytest.raises(pytest.skip.Exception, match=SKIP_VARIABLE):
        chromium()
