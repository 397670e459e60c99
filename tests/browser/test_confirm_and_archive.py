"""In a real browser: a destructive action asks once; dismissing keeps the thing, accepting
removes it. Archiving asks, the library's "Show archived" lists the scenario, its page shows
the banner; a viewer's editor says read-only; a revision's diff is coloured."""

from __future__ import annotations

import pytest

from hosts.models import VdiEndpoint
from scenarios.models import Scenario
from scenarios.services import create_scenario, save_revision
from tests.fixtures.web import ARTIFACTS, browser_login, make_user

pytestmark = pytest.mark.browser

TEXT = 'version: 1\nname: old\nsteps:\n  - type: send_text\n    text: "hi"\n'


def test_endpoint_removal_asks_and_dismiss_keeps_it(live_server, page):
    make_user("alice", "admin")
    endpoint = VdiEndpoint.objects.create(name="lab", url="https://vdi.example", username="u")
    browser_login(page, live_server, "alice")
    page.goto(f"{live_server}/vdi/{endpoint.pk}/edit")
    questions = []

    def answer(dialog, accept):
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda d: answer(d, False))
    with page.expect_event("dialog"):  # asked, and dismissed: the form is not submitted
        page.get_by_role("button", name="Remove endpoint").click()
    assert VdiEndpoint.objects.filter(pk=endpoint.pk).exists()
    page.once("dialog", lambda d: answer(d, True))
    page.get_by_role("button", name="Remove endpoint").click()
    page.wait_for_url(live_server + "/vdi/")
    assert not VdiEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert questions == ["Remove VDI endpoint lab and its VM records?"] * 2


def test_archive_asks_then_show_archived_and_banner(live_server, page):
    operator = make_user("olga", "operator")
    scenario = create_scenario(TEXT, operator)
    save_revision(scenario, TEXT.replace('"hi"', '"hello"'), operator, message="greet")
    browser_login(page, live_server, "olga")
    page.goto(live_server + "/scenarios/old/")
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Archive").click()
    page.wait_for_url(live_server + "/scenarios/")
    assert Scenario.objects.get(name="old").archived
    assert page.locator("[data-scenario=old]").count() == 0
    page.check("#show-archived")
    page.get_by_role("button", name="Search").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-scenario=old] .badge-archived").inner_text() == "archived"
    page.screenshot(path=str(ARTIFACTS / "library-show-archived.png"), full_page=True)
    page.click("[data-scenario=old] a")
    assert "Archived:" in page.locator("#archived-banner").inner_text()
    page.screenshot(path=str(ARTIFACTS / "scenario-archived-banner.png"), full_page=True)

    page.goto(live_server + "/scenarios/old/revisions/2/")
    added = page.locator("pre.diff .d-add").first
    assert added.evaluate("(e) => getComputedStyle(e).color") == "rgb(26, 127, 55)"
    page.screenshot(path=str(ARTIFACTS / "revision-diff-coloured.png"), full_page=True)


def test_viewer_editor_is_read_only(live_server, page):
    create_scenario(TEXT, make_user("olga", "operator"))
    make_user("vera", "viewer")
    browser_login(page, live_server, "vera")
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(live_server + "/scenarios/old/")
    assert "Read-only" in page.locator("#readonly-notice").inner_text()
    assert page.get_by_text("Ctrl-Space").count() == 0
    page.screenshot(path=str(ARTIFACTS / "editor-viewer-read-only-phone.png"), full_page=True)
