"""In a real browser: a failed screen check on the report shows the reference as checked over the
actual screen, cut at a line a person moves with the slider (keyboard) or by dragging the
picture; what shows left and right of the line is read from the page's pixels."""

import io

import pytest
from PIL import Image

from tests.fixtures.web import browser_login, in_thread, make_user
from tests.web.test_report_reference_slider import (
    ACTUAL_COLOUR,
    REFERENCE_COLOUR,
    failed_screen_check,
)

pytestmark = pytest.mark.browser


def _colours(frame) -> list[tuple]:
    """The colour at 20 %, 45 %, 55 % and 80 % of the picture's width, halfway down."""
    shot = Image.open(io.BytesIO(frame.screenshot())).convert("RGB")
    y = shot.height // 2
    return [shot.getpixel((int(shot.width * f), y)) for f in (0.2, 0.45, 0.55, 0.8)]


def _near(colour, expected) -> bool:
    return all(abs(a - b) <= 8 for a, b in zip(colour, expected, strict=True))


def _sides(frame) -> list[str]:
    out = []
    for c in _colours(frame):
        if _near(c, REFERENCE_COLOUR):
            out.append("reference")
        elif _near(c, ACTUAL_COLOUR):
            out.append("actual")
        else:
            out.append(str(c))
    return out


def test_reference_actual_slider_on_a_failed_check(live_server, page):
    user = make_user("vera", "viewer")
    run = in_thread(failed_screen_check, user)
    browser_login(page, live_server, "vera")
    page.goto(f"{live_server}/runs/{run.pk}/")
    figure = page.locator("li.step[data-step='2'] figure.ref-slider")
    figure.scroll_into_view_if_needed()
    frame = figure.locator(".slider-frame")
    loaded = "[...document.querySelectorAll('.slider-frame img')]"
    page.wait_for_function(f"() => {loaded}.every(i => i.complete && i.naturalWidth)")
    assert figure.locator(".tag-ref").inner_text() == "reference"
    assert figure.locator(".tag-act").inner_text() == "actual"
    assert _sides(frame) == ["reference", "reference", "actual", "actual"]
    figure.screenshot(path="test-artifacts/report-slider-half.png")

    slider = figure.locator(".slider-range")
    slider.focus()
    for _ in range(40):
        page.keyboard.press("ArrowLeft")
    assert slider.input_value() == "10"
    assert _sides(frame) == ["actual", "actual", "actual", "actual"]

    box = frame.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.9, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    assert int(slider.input_value()) == 90
    assert _sides(frame) == ["reference", "reference", "reference", "reference"]
    figure.screenshot(path="test-artifacts/report-slider-dragged.png")
