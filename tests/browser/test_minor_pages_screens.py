"""In a real browser, at desktop and phone width (390 px): the error pages in the site's
layout, the runs list's search box and a bad filter shown, the schedules' next run; the nav
stays usable (no horizontal scrolling of the page)."""

from __future__ import annotations

import pytest

from atp_core.vdiplatform.errors import VdiAuthError
from hosts.models import Host, VdiEndpoint
from schedules import services as schedule_services
from schedules.models import Schedule
from tests.dist import factories as f
from tests.fixtures.web import ARTIFACTS, browser_login, make_user

pytestmark = pytest.mark.browser

WIDTHS = {"desktop": 1280, "phone": 390}


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("width", list(WIDTHS))
def test_minor_pages(live_server, page, width):
    rev = f.revision("smoke")
    f.vm(f.host("hd-a"), "vm1")
    schedule_services.save_schedule(
        Schedule(
            name="every-15m",
            scenario=rev.scenario,
            targets=[{"vm": "vm1", "host": "hd-a"}],
            kind="interval",
            every_seconds=900,
        )
    )
    make_user("vera", "viewer")
    page.set_viewport_size({"width": WIDTHS[width], "height": 800})
    browser_login(page, live_server, "vera")

    response = page.goto(live_server + "/runs/999999/")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "Not found"
    assert page.locator("nav.mainnav").count() == 1
    page.screenshot(path=str(ARTIFACTS / f"page-404-{width}.png"), full_page=True)
    assert _no_horizontal_scroll(page)

    response = page.goto(live_server + "/hosts/add")
    assert response.status == 403
    assert "this needs the admin role" in page.locator("#error-page").inner_text()
    page.screenshot(path=str(ARTIFACTS / f"page-403-{width}.png"), full_page=True)

    page.goto(live_server + "/runs/?state=sleeping&q=smoke")
    assert page.input_value("input[name=q]") == "smoke"
    assert "state: 'sleeping' is not one of" in page.locator("#filter-errors").inner_text()
    page.screenshot(path=str(ARTIFACTS / f"page-runs-bad-filter-{width}.png"), full_page=True)
    assert _no_horizontal_scroll(page)

    Host.objects.create(
        name="far", uri="qemu+tcp://127.0.0.1:9/system", reachable=False, last_error="refused"
    )
    page.goto(live_server + "/hosts/")
    assert "Host unreachable" in page.locator("[data-host=far]").inner_text()
    page.screenshot(path=str(ARTIFACTS / f"page-hosts-unreachable-{width}.png"), full_page=True)
    assert _no_horizontal_scroll(page)

    wrong = VdiAuthError(5099, "密码错误", method="POST", path="/ocloud/v1/login")
    endpoint = VdiEndpoint.objects.create(
        name="lab", url="https://vdi.example", username="admin", last_error=str(wrong)
    )
    page.goto(f"{live_server}/vdi/{endpoint.pk}/")
    assert "wrong password" in page.locator("p.error").inner_text()
    page.screenshot(path=str(ARTIFACTS / f"page-vdi-wrong-password-{width}.png"), full_page=True)
    assert _no_horizontal_scroll(page)

    page.goto(live_server + "/schedules/")
    assert page.locator("[data-schedule=every-15m] .next-fire time").count() == 1
    page.screenshot(path=str(ARTIFACTS / f"page-schedules-{width}.png"), full_page=True)
    assert _no_horizontal_scroll(page)
