"""In a real browser: saving a reference without any area keeps the screenshot on the page
with the error, and the areas drawn afterwards save normally."""

from __future__ import annotations

import pytest
from PIL import Image

from scenarios.models import ReferenceImage
from tests.fixtures.web import ARTIFACTS, browser_login, make_user

pytestmark = pytest.mark.browser


def test_save_without_areas_keeps_the_screenshot(live_server, page, tmp_path):
    shot = tmp_path / "screen.png"
    Image.new("RGB", (400, 300), "navy").save(shot)
    make_user("olga", "operator")
    browser_login(page, live_server, "olga")
    page.goto(live_server + "/references/new")
    page.set_input_files("input[name=screenshot]", str(shot))
    page.get_by_role("button", name="Use this PNG").click()
    page.wait_for_function("document.getElementById('ref-canvas').width === 400")
    page.fill("input[name=name]", "navy-screen")
    page.get_by_role("button", name="Save reference").click()
    page.wait_for_load_state("networkidle")

    error = page.locator("#ref-form-error").inner_text()
    assert "Not saved: areas: give at least one area" in error
    page.wait_for_function("document.getElementById('ref-canvas').width === 400")
    assert page.input_value("input[name=name]") == "navy-screen"
    page.screenshot(path=str(ARTIFACTS / "reference-save-refused.png"), full_page=True)
    assert not ReferenceImage.objects.exists()

    canvas = page.locator("#ref-canvas")
    box = canvas.bounding_box()
    scale = canvas.evaluate("(c) => c.clientWidth") / 400
    border = canvas.evaluate("(c) => c.clientLeft")
    x0, y0 = box["x"] + border, box["y"] + border
    page.mouse.move(x0 + 20 * scale, y0 + 20 * scale)
    page.mouse.down()
    page.mouse.move(x0 + 120 * scale, y0 + 80 * scale, steps=4)
    page.mouse.up()
    page.get_by_role("button", name="Save reference").click()
    page.wait_for_url(live_server + "/references/navy-screen/")
    assert ReferenceImage.objects.get(name="navy-screen").width == 400
