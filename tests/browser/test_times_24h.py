"""Times the pages' JavaScript prints read in 24 h, as the server's (atp_site/formats), in an
en-US browser whose own format would be "3:04:05 PM": one formatter (static/atp/site.js
``atpTime.clock``) used by every script; no script formats times with the browser's locale."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image

from tests.fixtures.web import ARTIFACTS, PageWatch, browser_login, make_user
from tests.web import run_pages_data as data

pytestmark = pytest.mark.browser

STATIC = Path(__file__).resolve().parents[2] / "static"


def test_no_script_formats_times_with_the_browser_locale():
    ours = [p for p in STATIC.rglob("*.js") if "vendor" not in p.parts]
    assert ours, "no scripts found"
    locale_calls = re.compile(r"\.toLocale(Time|Date)?String\(|Intl\.DateTimeFormat")
    assert [str(p) for p in ours if locale_calls.search(p.read_text())] == []


def test_live_screen_note_reads_24h(live_server, browser):
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    watch = PageWatch()  # as the page fixture does, with the en-US locale this test needs
    watch.attach(page)
    try:
        buf = io.BytesIO()
        Image.new("RGB", (64, 48), "teal").save(buf, "PNG")
        # the target's VM is not a libvirt domain here: its screen is served by the browser
        page.route(
            re.compile(r"/targets/\d+/screen\.png"),
            lambda route: route.fulfill(status=200, content_type="image/png", body=buf.getvalue()),
        )
        make_user("vera", "viewer")
        sc, rev = data.scenario("demo")
        run = data.new_run(sc, rev)
        browser_login(page, live_server, "vera")
        assert page.evaluate("new Date(2024, 0, 1, 15, 4, 5).toLocaleTimeString()").endswith(
            "PM"
        ), "control: this browser's own format is 12 h"
        assert page.evaluate("atpTime.clock(new Date(2024, 0, 1, 15, 4, 5))") == "15:04:05"
        page.goto(f"{live_server}/runs/{run.pk}/")
        page.wait_for_function(
            "document.querySelector('.screen-note').textContent.startsWith('updated')"
        )
        note = page.inner_text(".screen-note")
        assert re.fullmatch(r"updated \d\d:\d\d:\d\d", note), note
        page.screenshot(path=str(ARTIFACTS / "run-live-screen-24h.png"))
        watch.check()
    finally:
        context.close()
