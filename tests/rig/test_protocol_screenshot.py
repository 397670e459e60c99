"""Screenshots: a PNG of the guest's screen size with real content on it."""

import io

import pytest
from PIL import Image

from tests.rig.protocol_helpers import poll

pytestmark = pytest.mark.rig


def test_screenshot_is_a_non_blank_png_of_the_screen_size(vm_session):
    png = vm_session.screen.screenshot()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    # the guest's VGA text console: 80x25 cells of 9x16 pixels
    assert image.size == (720, 400)
    assert vm_session.screen.size() == (720, 400)
    colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is not None and len(colours) >= 2  # not one flat colour
    # text is a small part of a console: the background dominates but is not everything
    background = max(colours)[0]
    assert background < 720 * 400


def test_screenshot_shows_what_was_typed(rig_vm, vm_session):
    """The picture changes when the console prints something (it is live, not cached)."""
    before = Image.open(io.BytesIO(vm_session.screen.screenshot())).convert("L")
    vm_session.keyboard.send_text("screenshot-marker-0123456789\n")
    after = poll(
        lambda: Image.open(io.BytesIO(vm_session.screen.screenshot())).convert("L"),
        lambda img: img.tobytes() != before.tobytes(),
        timeout=30,
        every=0.5,
    )
    assert after.tobytes() != before.tobytes()
