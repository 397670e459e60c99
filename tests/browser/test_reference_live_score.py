"""In a real browser, the reference editor's live score against a rig VM's screen now: the
editor opens on the VM's screen (two lines of text at the top), the screen then changes (the
first line moves five lines down, the second is gone); an area drawn over the first line
matches and the page says where it was found; Shift+dragging it onto the second line turns the
score into no match."""

from __future__ import annotations

import io
import math

import pytest
from PIL import Image
from playwright.sync_api import expect

from hosts.models import Host, VirtualMachine
from hosts.services import take_screenshot
from tests.fixtures.web import ARTIFACTS, browser_login, make_user
from tests.rig.protocol_helpers import poll

pytestmark = [pytest.mark.browser, pytest.mark.rig]

LINE = 16  # the text console's character cell is 9x16


def _text_on_line(png: bytes, line: int) -> bool:
    with Image.open(io.BytesIO(png)) as img:
        return img.convert("L").crop((0, line * LINE, 135, (line + 1) * LINE)).getextrema()[1] > 128


def _console(rig_vm, text: str) -> None:
    rig_vm.shell(f"printf '\\033[2J\\033[H{text}' > /dev/tty1")


def _wait_screen(host, rig_vm, lines: dict[int, bool]) -> None:
    def ready(png: bytes) -> bool:
        return all(_text_on_line(png, line) == text for line, text in lines.items())

    shot = poll(lambda: take_screenshot(host, rig_vm.name), ready, timeout=30)
    assert ready(shot), f"the console did not show {lines}"


def test_an_area_scores_against_the_vm_screen_as_it_is_drawn_and_moved(live_server, page, rig_vm):
    host = Host.objects.create(name="local", uri=rig_vm.uri)
    vm = VirtualMachine.objects.create(host=host, name=rig_vm.name, state="running")
    make_user("olga", "operator")
    _console(rig_vm, "LIVE SCORE MARK\\nOTHER TEXT 42\\n")
    _wait_screen(host, rig_vm, {0: True, 1: True})

    browser_login(page, live_server, "olga")
    page.goto(f"{live_server}/references/new?vm={vm.pk}")  # the reference: the screen now
    page.wait_for_function("document.getElementById('ref-canvas').width === 720")
    status = page.locator("#score-status")
    assert page.input_value("#score-source") == f"vm:{vm.pk}"  # the VM it came from
    expect(status).to_have_text("Draw a match area to see its score.")

    _console(rig_vm, "\\n\\n\\n\\n\\nLIVE SCORE MARK\\n")
    _wait_screen(host, rig_vm, {0: False, 1: False, 5: True})

    canvas = page.locator("#ref-canvas")
    box = canvas.bounding_box()
    border = canvas.evaluate("(c) => c.clientLeft")
    scale = canvas.evaluate("(c) => c.clientWidth") / 720
    x0, y0 = box["x"] + border, box["y"] + border

    def at(x: int, y: int) -> tuple[int, int]:
        """Whole CSS pixels (the browser drops fractions of the pointer's position) that the
        editor rounds to image pixel (x, y)."""
        return math.ceil(x0 + x * scale - 0.5), math.ceil(y0 + y * scale - 0.5)

    # draw an area over the first line: it is on the screen now, five lines lower
    page.mouse.move(*at(0, 0))
    page.mouse.down()
    page.mouse.move(*at(135, 16), steps=5)
    page.mouse.up()
    page.wait_for_selector("#live-score[data-state=matched]", timeout=60_000)
    item = page.locator("#area-list li").first
    assert item.inner_text().startswith("1. match 135×16 at (0, 0) — matched: 1.000 ≥ 0.96")
    assert item.inner_text().endswith(f"found at (0, {5 * LINE})")
    assert status.inner_text().startswith(f"Matches: score 1.000 ≥ 0.96 on local/{rig_vm.name}")
    page.wait_for_selector("#score-canvas:not([hidden])")
    page.screenshot(path=str(ARTIFACTS / "reference-live-score-match.png"), full_page=True)

    # Shift+drag it one line down, onto the line the screen no longer shows
    page.keyboard.down("Shift")
    page.mouse.move(*at(60, 8))
    page.mouse.down()
    page.mouse.move(*at(60, 8 + LINE), steps=5)
    page.mouse.up()
    page.keyboard.up("Shift")
    page.wait_for_selector("#live-score[data-state=no-match]", timeout=60_000)
    text = page.locator("#area-list li").first.inner_text()
    assert text.startswith(f"1. match 135×16 at (0, {LINE}) — no match: "), text
    assert float(page.locator("#area-list li").first.get_attribute("data-score")) < 0.96
    assert status.inner_text().startswith("No match: score ")
    page.screenshot(path=str(ARTIFACTS / "reference-live-score-no-match.png"), full_page=True)

    # the arrow keys move it back: a match again
    canvas.focus()
    page.keyboard.press("Shift+ArrowUp")  # 10 px
    for _ in range(6):
        page.keyboard.press("ArrowUp")
    page.wait_for_selector("#live-score[data-state=matched]", timeout=60_000)
    assert (
        page.locator("#area-list li")
        .first.inner_text()
        .startswith("1. match 135×16 at (0, 0) — matched")
    )
