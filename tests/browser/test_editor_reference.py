"""In a real browser: upload a screenshot, drag an area on it, save it as a reference image."""

from __future__ import annotations

import io
import math

import pytest
from PIL import Image

from scenarios.models import ReferenceImage
from tests.fixtures.web import ARTIFACTS, browser_login, make_user

pytestmark = pytest.mark.browser


def test_pick_area_and_save_reference(live_server, page, tmp_path):
    shot = tmp_path / "screen.png"
    Image.new("RGB", (400, 300), "navy").save(shot)
    make_user("olga", "operator")
    browser_login(page, live_server, "olga")
    page.goto(live_server + "/references/new")
    page.set_input_files("input[name=screenshot]", str(shot))
    page.get_by_role("button", name="Use this PNG").click()
    canvas = page.locator("#ref-canvas")
    page.wait_for_function("document.getElementById('ref-canvas').width === 400")

    box = canvas.bounding_box()
    border = canvas.evaluate("(c) => c.clientLeft")
    scale = canvas.evaluate("(c) => c.clientWidth") / 400  # may be drawn smaller than the image
    x0, y0 = box["x"] + border, box["y"] + border

    def at(x: int, y: int) -> tuple[int, int]:
        """Whole CSS pixels (the browser drops fractions of the pointer's position) that the
        editor rounds to image pixel (x, y), wherever the layout puts the canvas."""
        return math.ceil(x0 + x * scale - 0.5), math.ceil(y0 + y * scale - 0.5)

    page.mouse.move(*at(50, 40))
    page.mouse.down()
    page.mouse.move(*at(150, 100), steps=5)
    page.mouse.up()
    assert "match 100×60 at (50, 40)" in page.locator("#area-list").inner_text()

    page.fill("input[name=name]", "blue-screen")
    page.fill("input[name=tags]", "boot")
    page.screenshot(path=str(ARTIFACTS / "reference-editor.png"), full_page=True)
    page.get_by_role("button", name="Save reference").click()
    page.wait_for_url(live_server + "/references/blue-screen/")
    # the page the save lands on is the saved reference, shown as a person sees it
    assert page.inner_text("h1") == "Reference blue-screen"
    assert "Saved reference blue-screen" in page.inner_text("body")
    page.wait_for_function("document.getElementById('ref-canvas').width === 400")
    assert "match 100×60 at (50, 40)" in page.locator("#area-list").inner_text()
    assert page.input_value("input[name=name]") == "blue-screen"
    assert page.input_value("input[name=source]").startswith("upload ")

    ref = ReferenceImage.objects.get(name="blue-screen")
    assert ref.areas == [{"x": 50, "y": 40, "width": 100, "height": 60, "type": "match"}]
    assert (ref.width, ref.height) == (400, 300) and ref.tags == ["boot"]
    with ref.image.open("rb") as fh:
        assert Image.open(io.BytesIO(fh.read())).getpixel((10, 10)) == (0, 0, 128)
