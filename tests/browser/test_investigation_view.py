"""In a real browser: from a failing run's report, Investigate shows it next to the last run of
its scenario that passed: the revision diff, the changed variable, the VM's changed domain XML
and boot ids, the worker and its changed package versions."""

import pytest

from tests.fixtures.web import browser_login, in_thread, make_user
from tests.web.test_runs_investigation import passed_then_failed

pytestmark = pytest.mark.browser


def test_investigate_a_failing_run(live_server, page):
    user = make_user("vera", "viewer")
    good, bad = in_thread(passed_then_failed, user)
    browser_login(page, live_server, "vera")
    page.goto(f"{live_server}/runs/{bad.pk}/")
    page.locator("#investigate-link").click()
    page.wait_for_url(f"{live_server}/runs/{bad.pk}/investigate")
    assert (
        "the last run of investigated that passed before it"
        in page.locator("#baseline").inner_text()
    )
    revision = page.locator("#inv-revision")
    assert "revision 1 → 2" in revision.locator("h2").inner_text()
    assert revision.locator(".d-add").inner_text().strip() == "+    text: hello world"
    assert revision.locator(".d-del").inner_text().strip() == "-    text: hello"
    greeting = page.locator("#inv-variables tr[data-variable=greeting]").inner_text()
    assert "changed" in greeting and "Hi" in greeting and "Hello" in greeting
    target = page.locator("#inv-targets .inv-target").first
    assert "aaaa-1111" in target.locator(".inv-boot").inner_text()
    assert "bbbb-2222" in target.locator(".inv-boot").inner_text()
    assert target.locator(".d-add").inner_text().strip() == "+  <memory unit='KiB'>524288</memory>"
    worker = page.locator("#inv-worker")
    assert "w1@rack1" in worker.inner_text() and "w2@rack2" in worker.inner_text()
    assert page.locator("#package-changes tbody tr").all_inner_texts() == [
        "numpy\tnot installed\t2.1",
        "opencv-python\t4.10.0\t4.11.0",
    ]
    page.screenshot(path="test-artifacts/investigation-view.png", full_page=True)
    page.locator("#compare-steps").click()
    page.wait_for_url(f"**/runs/compare?a={good.pk}&b={bad.pk}")
