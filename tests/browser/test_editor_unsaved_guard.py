"""In a real browser: the scenario editor does not throw typed changes away. Leaving the page
with unsaved changes asks first (and staying keeps them); a save the server refuses (400) says
plainly "Not saved" and the changes stay guarded; a successful save leaves without asking."""

from __future__ import annotations

import pytest

from scenarios.models import Scenario
from scenarios.services import create_scenario
from tests.fixtures.web import ARTIFACTS, browser_login, make_user

# the refused save is a 400 by design; the browser logs it as a failed resource
pytestmark = [pytest.mark.browser, pytest.mark.allow_console(r"status of 400 \(Bad Request\)")]

SCENARIO = """version: 1
name: guarded
steps:
  - type: wait
    duration: 1s
"""


def _answer_dialogs(page, dialogs: list[str]) -> None:
    def answer(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()  # "Stay on page"

    page.on("dialog", answer)


def _leave_by_nav(page) -> None:
    """Click away where the page must ask first; returns once it asked (the answer, "Stay on
    page", cancels the navigation)."""
    with page.expect_event("dialog", timeout=30_000):
        page.click("nav.mainnav >> text=Runs")


def test_unsaved_changes_are_guarded_and_a_refused_save_says_not_saved(live_server, page):
    user = make_user("olga", "operator")
    create_scenario(SCENARIO, user)
    browser_login(page, live_server, "olga")
    editor = f"{live_server}/scenarios/guarded/"
    page.goto(editor)
    page.wait_for_selector(".CodeMirror")
    assert page.inner_text("#save-state") == ""

    # nothing typed: leaving does not ask
    dialogs: list[str] = []
    _answer_dialogs(page, dialogs)
    page.click("nav.mainnav >> text=Runs")
    page.wait_for_url(f"{live_server}/runs/")
    assert dialogs == []
    page.goto(editor)
    page.wait_for_selector(".CodeMirror")

    # type a change: the page says so and asks before leaving; staying keeps the text
    page.click(".CodeMirror-code")  # a person's click: the page may ask before unloading
    page.evaluate("() => { window.atpEditor.focus(); window.atpEditor.execCommand('goDocEnd'); }")
    page.keyboard.insert_text("  - type: wait\n    duration: 2s\n")
    assert page.inner_text("#save-state") == "unsaved changes"
    _leave_by_nav(page)
    assert dialogs == ["beforeunload"]
    assert page.url == editor
    assert "duration: 2s" in page.evaluate("window.atpEditor.getValue()")

    # a save with errors is refused (400): "Not saved", and leaving still asks
    page.evaluate(
        """() => { const cm = window.atpEditor; const n = cm.lineCount() - 3;
                   const ch = cm.getLine(n).indexOf('wait');
                   cm.setSelection({line: n, ch}, {line: n, ch: ch + 4}); cm.focus(); }"""
    )
    page.keyboard.type("wiat")
    page.click("#save-button")
    page.wait_for_selector("#save-state[data-state=failed]")
    status = page.inner_text("#save-state")
    assert status.startswith("Not saved:") and "only in this editor" in status, status
    page.wait_for_selector("#validation-state[data-state=invalid]")
    page.screenshot(path=str(ARTIFACTS / "editor-not-saved.png"), full_page=True)
    assert page.inner_text("#save-state").startswith("Not saved:")  # the lint did not hide it
    assert Scenario.objects.get(name="guarded").revisions.count() == 1
    _leave_by_nav(page)
    assert dialogs == ["beforeunload", "beforeunload"]
    assert page.url == editor

    # fixed and saved: the page moves on to the new revision without asking
    page.evaluate(
        """() => { const cm = window.atpEditor; const n = cm.lineCount() - 3;
                   const ch = cm.getLine(n).indexOf('wiat');
                   cm.setSelection({line: n, ch}, {line: n, ch: ch + 4}); cm.focus(); }"""
    )
    page.keyboard.type("wait")
    page.click("#save-button")
    page.wait_for_selector("h1:has-text('revision 2')")
    assert page.url == editor
    assert dialogs == ["beforeunload", "beforeunload"]
    assert Scenario.objects.get(name="guarded").revisions.count() == 2
