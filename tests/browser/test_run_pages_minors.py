"""In a real browser at desktop and phone width (390 px): the report shows the screen-check
diff large with its caption, the live view of a running run ticks its elapsed time, compare
shows variables and the text diff; the step rows fit the phone's width."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from atp_core.orchestrator.screen_match import compare, diff_image
from runs.models import Run
from tests.fixtures.web import ARTIFACTS, browser_login, in_thread, make_user
from tests.web import run_pages_data as data

pytestmark = [
    pytest.mark.browser,
    # the running run's VM is not a libvirt domain: its live screen answers 503 and the page
    # says "no screen yet" (what a person sees); that is the expected server answer here
    pytest.mark.allow_http(r"/targets/\d+/screen\.png"),
]

WIDTHS = {"desktop": 1280, "phone": 390}


def _png(colour) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (320, 200), colour).save(buf, "PNG")
    return buf.getvalue()


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("width", list(WIDTHS))
def test_report_live_and_compare(live_server, page, width):
    from django.core.files.base import ContentFile

    user = make_user("olga", "operator")
    sc, rev = data.scenario("demo")
    done = data.new_run(sc, rev, user, variables={"lang": "en"})
    target = done.run_targets.get().name
    # events are fed off Playwright's event-loop thread (its broadcast refuses to run inside
    # a running loop), the way the worker's sink runs in its own process
    in_thread(data.play, done, ("passed", "failed", "passed"))
    ref, shot = _png("navy"), _png("teal")
    exclude = [(200, 120, 60, 40)]
    result = compare(ref, shot, areas=[(10, 10, 100, 60)], exclude=exclude)
    art = data.add_artifact(done, target, "2", "login-diff")
    art.kind = "diff"
    art.file.save("diff.png", ContentFile(diff_image(ref, shot, result, exclude=exclude)))
    in_thread(
        data.emit,
        done,
        "artifact",
        {"artifact_id": art.pk, "name": "login-diff", "kind": "diff", "mime": "image/png"},
        target,
        "2",
    )
    running = data.new_run(sc, rev, user, variables={"lang": "de"})
    in_thread(data.play, running, upto="step2")

    page.set_viewport_size({"width": WIDTHS[width], "height": 900})
    browser_login(page, live_server, "olga")
    page.goto(f"{live_server}/runs/{done.pk}/report")
    figure = page.locator("figure.diff-figure")
    assert "reference | actual | difference" in figure.inner_text()
    # the diff image loads lazily: below the reference slider it is off screen on a phone
    image = figure.locator("img")
    image.scroll_into_view_if_needed()
    image.wait_for(state="visible")
    page.wait_for_function("(i) => i.complete && i.naturalWidth > 0", arg=image.element_handle())
    assert image.evaluate("(i) => i.naturalWidth") == 320 * 3 + 12
    assert page.locator("button.use-ref").count() == 1, "only on the screenshot, not the diff"
    page.screenshot(path=str(ARTIFACTS / f"run-report-diff-{width}.png"), full_page=True)
    assert _fits(page)

    page.goto(f"{live_server}/runs/{running.pk}/")
    elapsed = page.locator("#run-duration")
    first = elapsed.inner_text()
    page.wait_for_function(
        "(t) => document.getElementById('run-duration').textContent !== t", arg=first
    )
    step = page.locator('li.step[data-step="2"] .sdur')
    assert step.inner_text() != "", "the running step shows its elapsed time"
    assert page.locator("#live-note").is_visible()
    page.screenshot(path=str(ARTIFACTS / f"run-live-ticking-{width}.png"), full_page=True)
    assert _fits(page)

    Run.objects.filter(pk=running.pk).update(variables={"lang": "de"})
    page.goto(f"{live_server}/runs/compare?a={done.pk}&b={running.pk}")
    assert page.locator("#compare-variables [data-variable=lang]").count() == 1
    page.screenshot(path=str(ARTIFACTS / f"run-compare-{width}.png"), full_page=True)
