"""The screen-check diff image: three panels labelled reference, actual, difference over a
dark strip, and the exclude areas boxed in magenta in every panel."""

import io

import numpy as np
from PIL import Image, ImageDraw

from atp_core.orchestrator.screen_match import (
    DIFF_LABELS,
    EXCLUDE_COLOUR,
    LABEL_HEIGHT,
    compare,
    diff_image,
)


def _png(text: str) -> bytes:
    img = Image.new("RGB", (200, 120), "white")
    ImageDraw.Draw(img).text((10, 10), text, fill="black")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def test_panels_are_labelled_and_excludes_drawn():
    ref, shot = _png("READY 42"), _png("READY 43")
    exclude = [(120, 60, 50, 40)]
    result = compare(ref, shot, areas=[(5, 5, 100, 30)], exclude=exclude, threshold=0.5)
    pixels = np.asarray(Image.open(io.BytesIO(diff_image(ref, shot, result, exclude=exclude))))
    assert pixels.shape[:2] == (120 + LABEL_HEIGHT, 200 * 3 + 12)
    assert DIFF_LABELS == ("reference", "actual", "difference")
    magenta = np.array(EXCLUDE_COLOUR[::-1])  # BGR constant, RGB image
    for panel in range(3):
        x0 = panel * (200 + 6)
        strip = pixels[:LABEL_HEIGHT, x0 : x0 + 200]
        assert (strip > 200).any() and (strip == 40).any(), "white label text on a dark strip"
        edge = pixels[LABEL_HEIGHT + 60, x0 + 120]  # top-left corner of the exclude box
        assert (edge == magenta).all(), f"panel {panel}: exclude area not boxed"
    without = np.asarray(Image.open(io.BytesIO(diff_image(ref, shot, result))))
    assert not (without[LABEL_HEIGHT + 60, 120] == magenta).all()
