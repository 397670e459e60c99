"""In a real browser: from the hosts page a person reaches a host's capacity runs and opens one;
its latency-vs-desks curve is drawn to scale (a higher p95 is higher on the chart, the stop
line between the step that held and the one that did not, the capacity line at 2 desks), the
table and the verdict match; an operator launches a run from the list's form and lands on its
page, queued."""

from __future__ import annotations

import pytest
import redis
from django.conf import settings

from hosts.models import Host, VirtualMachine
from tests.fixtures.web import ARTIFACTS, browser_login, in_thread, make_user
from tests.web.capacity_data import finished_run

pytestmark = [pytest.mark.browser]


def _stored():
    host = Host.objects.create(name="capview", uri="qemu:///system")
    VirtualMachine.objects.create(host=host, name="desk-template")
    return finished_run(host)


def test_capacity_page_draws_the_curve(live_server, page, redis_url):
    make_user("olga", "operator")
    run = in_thread(_stored)
    page.set_viewport_size({"width": 1280, "height": 1000})
    browser_login(page, live_server, "olga")

    page.goto(f"{live_server}/hosts/")
    page.click('section[data-host="capview"] a.capacity-link')
    page.wait_for_url("**/capacity/?host=capview")
    page.screenshot(path=str(ARTIFACTS / "capacity-list.png"), full_page=True)
    page.click(f'tr[data-capacity="{run.pk}"] a')
    page.wait_for_url(f"**/capacity/{run.pk}/")

    assert page.inner_text("#capacity-verdict h2").startswith("capacity: 2 desks on host capview")
    points = page.eval_on_selector_all(
        "#capacity-curve-chart circle.curve-point",
        "cs => cs.map(c => [c.dataset.desks, c.dataset.p95, c.dataset.ratio,"
        " c.classList.contains('over'), c.cx.baseVal.value, c.cy.baseVal.value])",
    )
    assert [p[:4] for p in points] == [
        ["1", "60", "1.00", False],
        ["2", "66", "1.10", False],
        ["3", "90", "1.50", True],
    ], points
    xs, ys = [p[4] for p in points], [p[5] for p in points]
    assert xs[0] < xs[1] < xs[2] and abs((xs[2] - xs[1]) - (xs[1] - xs[0])) < 0.5, xs
    assert ys[0] > ys[1] > ys[2], "a higher p95 is drawn higher"
    stop_y = page.evaluate(
        "() => document.querySelector('#capacity-curve-chart line.stop-line').y1.baseVal.value"
    )
    assert ys[2] < stop_y < ys[1], (stop_y, ys)
    capacity_x = page.evaluate(
        "() => document.querySelector('#capacity-curve-chart line.capacity-line').x1.baseVal.value"
    )
    assert abs(capacity_x - xs[1]) < 0.5
    box = page.locator("#capacity-curve-chart svg").bounding_box()
    assert box["width"] > 400 and box["height"] > 150, box
    rows = page.eval_on_selector_all(
        "#capacity-steps-table tbody tr",
        "rs => rs.map(r => [...r.cells].map(c => c.textContent.trim()))",
    )
    assert rows == [
        ["1", "6", "50", "60", "1.00"],
        ["2", "12", "52", "66", "1.10"],
        ["3", "18", "70", "90", "1.50"],
    ], rows
    page.screenshot(path=str(ARTIFACTS / "capacity-run.png"), full_page=True)

    page.goto(f"{live_server}/capacity/")
    page.select_option("#capacity-template", "capview|desk-template")
    page.fill('input[name="max_desks"]', "2")
    page.fill('input[name="keys"]', "3")
    page.click('#capacity-launch button[type="submit"]')
    page.wait_for_url("**/capacity/*/")
    assert page.inner_text("#capacity-state") == "queued"
    assert "Measuring: 0 of at most 2 steps done" in page.inner_text("#capacity-verdict")
    assert page.locator("#capacity-curve-empty").is_visible()
    page.screenshot(path=str(ARTIFACTS / "capacity-run-queued.png"), full_page=True)
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("host.capview")
