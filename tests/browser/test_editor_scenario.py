"""In a real browser: write a scenario in the editor, see the inline error of a typo, fix it,
save it as revision 1; completion offers the step types of the engine's schema."""

from __future__ import annotations

import pytest

from scenarios.models import Scenario
from tests.fixtures.web import ARTIFACTS, browser_login, make_user

pytestmark = pytest.mark.browser

SCENARIO = """version: 1
name: browser-typing
tags: [smoke]
steps:
  - type: send_text
    text: "hello"
  - type: wait
    duration: 1s
"""


def _open_new_editor(page, live_server):
    make_user("olga", "operator")
    browser_login(page, live_server, "olga")
    page.goto(live_server + "/scenarios/new")
    page.wait_for_selector(".CodeMirror")
    page.evaluate("window.atpEditor.setValue('')")
    page.click(".CodeMirror-code")


def test_write_typo_see_inline_error_fix_and_save(live_server, page):
    _open_new_editor(page, live_server)
    # typed through the keyboard path (insertText keeps the indentation as written)
    page.keyboard.insert_text(SCENARIO.replace("send_text", "send_txet"))

    page.wait_for_selector("#validation-state[data-state=invalid]", timeout=15_000)
    page.wait_for_selector(".CodeMirror-lint-marker-error")
    issue = page.locator("#issues li").first
    assert issue.get_attribute("data-line") == "5", issue.inner_text()
    assert "send_txet" in issue.inner_text() or "type" in issue.inner_text()
    marked = page.locator(".CodeMirror-lint-mark-error").first.inner_text()
    assert "send_txet" in marked
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "editor-inline-error.png"), full_page=True)

    # fix the typo in place, as a user would: select it and type over it
    page.evaluate(
        """() => { const cm = window.atpEditor;
                   const line = 4, ch = cm.getLine(line).indexOf('send_txet');
                   cm.setSelection({line, ch}, {line, ch: ch + 9}); cm.focus(); }"""
    )
    page.keyboard.type("send_text")
    page.wait_for_selector("#validation-state[data-state=valid]", timeout=15_000)
    assert page.locator("#issues li").count() == 0
    assert page.locator(".CodeMirror-lint-marker-error").count() == 0

    page.fill("#revision-message", "first version")
    page.click("#save-button")
    page.wait_for_url(live_server + "/scenarios/browser-typing/")
    assert "revision 1" in page.locator("h1").inner_text()
    scenario = Scenario.objects.get(name="browser-typing")
    assert scenario.current_revision.number == 1
    assert scenario.current_revision.message == "first version"
    assert scenario.current_revision.author.username == "olga"


def test_completion_offers_step_types(live_server, page):
    _open_new_editor(page, live_server)
    page.keyboard.insert_text("version: 1\nname: c\nsteps:\n  - type: send_")
    page.keyboard.press("Control+Space")
    page.wait_for_selector(".CodeMirror-hints")
    offered = page.locator(".CodeMirror-hint").all_inner_texts()
    assert any(o.startswith("send_text") for o in offered), offered
    assert any(o.startswith("send_key") for o in offered), offered
    page.screenshot(path=str(ARTIFACTS / "editor-completion.png"), full_page=True)
