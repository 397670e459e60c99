"""In a real browser: on a failed run's report an operator labels the failed step and gives
it a bug reference; the note shows on the report, and the navigation's search finds it."""

import pytest

from tests.fixtures.web import browser_login, in_thread, make_user
from tests.web.run_pages_data import new_run, play, scenario

pytestmark = pytest.mark.browser


def _failed_run(user):
    sc, rev = scenario("triaged", user)
    run = new_run(sc, rev, user)
    play(run, statuses=("passed", "failed", "passed"))
    return run


def test_label_and_bug_reference_on_a_failed_step(live_server, page):
    user = make_user("olga", "operator")
    run = in_thread(_failed_run, user)
    browser_login(page, live_server, "olga")
    page.goto(f"{live_server}/runs/{run.pk}/")
    card = page.locator("#triage")
    assert "No notes yet." in card.inner_text()
    card.locator("select[name=step]").select_option("local/demo-1|2")
    card.locator("select[name=label]").select_option("product_bug")
    card.locator("input[name=bug_ref]").fill("ATP-1234")
    card.locator("textarea[name=comment]").fill("the text arrives one key late")
    card.get_by_role("button", name="Add note").click()
    page.wait_for_url(f"{live_server}/runs/{run.pk}/#triage")
    notes = page.locator(".triage-notes").inner_text()
    assert "step 2 (local/demo-1)" in notes and "product bug" in notes and "ATP-1234" in notes
    page.screenshot(path="test-artifacts/triage-report.png", full_page=True)

    page.locator(".nav-search input[name=find]").fill("ATP-1234")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/search?find=ATP-1234")
    assert f"run {run.pk} · triaged" in page.locator("#search-notes").inner_text()
