"""In a real browser: the report of a run with latency and logon metrics draws the per-kind
bars, the per-step distribution and a logon bar per target with the right numbers (read from
the drawn SVG and its size on the page); the metrics trends page, opened from the trends page,
draws a point per run and a logon column per run, and its selectors narrow it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.fixtures.web import ARTIFACTS, browser_login, make_user
from tests.web import run_pages_data as data

pytestmark = [pytest.mark.browser]

LOGONS = [
    {"power_on": 2.0, "agent": 3.0, "login_screen": 1.0, "credentials": 0.5, "desktop": 4.0},
    {"power_on": 1.0, "agent": 2.0, "login_screen": 1.5, "credentials": 0.5, "desktop": 2.0},
]


def _runs():
    now = timezone.now()
    earlier = data.measured_run(
        "desk-metrics",
        vms=("d1", "d2"),
        inputs=[("2", "key", [0.06, 0.07], None), ("3", "click", [0.04], None)],
        logons=[{"agent": 2.0, "login_screen": 1.0, "credentials": 0.5, "desktop": 3.0}],
        finished=now - dt.timedelta(hours=20),
    )
    later = data.measured_run(
        "desk-metrics",
        vms=("d1", "d2"),
        inputs=[
            ("2", "key", [0.080, 0.100, 0.120, 0.300], 0.25),
            ("3", "click", [0.045], None),
            ("4", "text", [0.150, 0.210], 0.2),
        ],
        logons=LOGONS,
        finished=now - dt.timedelta(hours=1),
    )
    data.measured_run("other-metrics", host="far", vms=("d9",), inputs=[("2", "key", [0.5], None)])
    plain = data.measured_run("plain-run")
    return earlier, later, plain


def test_report_and_trends_draw_the_metrics(live_server, page):
    make_user("vera", "viewer")
    earlier, later, plain = _runs()
    page.set_viewport_size({"width": 1280, "height": 1000})
    browser_login(page, live_server, "vera")

    page.goto(f"{live_server}/runs/{later.pk}/report")
    kinds = page.eval_on_selector_all(
        "#latency-kinds-chart g.lat-kind",
        "gs => gs.map(g => [g.dataset.kind, g.dataset.p50, g.dataset.p95, g.dataset.max])",
    )
    assert kinds == [
        ["click", "45", "45", "45"],
        ["key", "110", "273", "300"],
        ["text", "180", "207", "210"],
    ], kinds
    # the bars are drawn to scale: key's max bar is 300/45 times click's
    widths = page.evaluate(
        """() => ['click', 'key'].map(k => document.querySelector(
            `#latency-kinds-chart g[data-kind="${k}"] rect.bar-max`).getBBox().width)"""
    )
    assert abs(widths[1] / widths[0] - 300 / 45) < 0.05, widths
    steps = page.eval_on_selector_all(
        "#latency-steps-chart g.lat-step",
        "gs => gs.map(g => [g.dataset.step, g.dataset.count, g.classList.contains('over'),"
        " g.querySelectorAll('circle.sample').length, !!g.querySelector('line.limit')])",
    )
    assert steps == [
        ["2", "4", True, 4, True],
        ["3", "1", False, 1, False],
        ["4", "2", True, 2, True],
    ], steps
    assert "p50 110 · p95 273 · max 300 ms (n=4)" in page.inner_text("#latency-steps-chart")
    bars = page.eval_on_selector_all(
        "#logon-summary .logon-row",
        "rows => rows.map(r => [r.dataset.target, r.querySelectorAll('rect').length,"
        " r.querySelector('svg text').textContent.trim(),"
        " r.querySelector('rect.logon-desktop').getBBox().width])",
    )
    assert [b[:3] for b in bars] == [["local/d1", 5, "10.5 s"], ["local/d2", 5, "7.0 s"]], bars
    # both bars on one scale: d1's 4 s desktop phase is twice as wide as d2's 2 s one
    assert abs(bars[0][3] / bars[1][3] - 2) < 0.01, bars
    desktop = page.inner_text('#logon-summary tr[data-phase="desktop"]')
    assert desktop.split("\t") == ["desktop", "2", "3.00 s", "3.90 s"], desktop
    page.locator("#latency-summary").screenshot(path=str(ARTIFACTS / "report-latency-charts.png"))
    page.locator("#logon-summary").screenshot(path=str(ARTIFACTS / "report-logon-bars.png"))

    page.goto(f"{live_server}/runs/{plain.pk}/report")
    assert "measured no input-to-display latency" in page.inner_text("#metrics-empty")
    assert page.locator("#latency-summary, #logon-summary").count() == 0

    page.goto(f"{live_server}/runs/trends")
    page.click("#metric-trends-link")
    page.wait_for_url("**/runs/trends/metrics")
    groups = page.eval_on_selector_all(
        ".metric-group", "gs => gs.map(g => [g.dataset.scenario, g.dataset.host])"
    )
    assert groups == [["desk-metrics", "local"], ["other-metrics", "far"]], groups
    page.screenshot(path=str(ARTIFACTS / "metric-trends.png"), full_page=True)

    page.select_option('#metric-filters select[name="scenario"]', "desk-metrics")
    page.click("#metric-filters button[type=submit]")
    page.wait_for_url("**scenario=desk-metrics**")
    group = page.locator(".metric-group")
    assert group.count() == 1
    points = page.eval_on_selector_all(
        '.metric-group circle.trend-point[data-kind="key"]',
        "cs => cs.map(c => [Number(c.dataset.run), c.dataset.p50, c.dataset.p95])",
    )
    assert points == [[earlier.pk, "65", "70"], [later.pk, "110", "273"]], points
    # the later run's p95 point is higher on the chart (smaller y) than the earlier one's
    ys = page.eval_on_selector_all(
        '.metric-group circle.trend-point[data-kind="key"]', "cs => cs.map(c => c.cy.baseVal.value)"
    )
    assert ys[1] < ys[0], ys
    assert page.inner_text('.trend-latency tr[data-kind="key"]').split("\t") == [
        "key", "2", "6", "90 ms", "255 ms",
    ]  # fmt: skip
    columns = page.eval_on_selector_all(
        ".metric-group g.logon-run", "gs => gs.map(g => [Number(g.dataset.run), g.dataset.total])"
    )
    assert columns == [[earlier.pk, "6.50"], [later.pk, "8.75"]], columns
    page.locator(".metric-group").screenshot(path=str(ARTIFACTS / "metric-trends-desk.png"))
