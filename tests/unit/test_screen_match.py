"""Screen matching: template matching finds a moved area, SSIM compares in place, a different
screen scores low and yields a diff image; bad areas are clear errors."""

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from atp_core.errors import InvalidInput
from atp_core.orchestrator.screen_match import compare, diff_image


def screen(text: str, at=(10, 20), size=(320, 200)) -> bytes:
    image = Image.new("RGB", size, "black")
    ImageDraw.Draw(image).text(at, text, fill="white")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_template_finds_the_area_elsewhere():
    ref = screen("READY 42", at=(10, 20))
    moved = screen("READY 42", at=(60, 90))
    result = compare(ref, moved, areas=[(8, 18, 60, 16)], threshold=0.95)
    assert result.matched and result.score > 0.99
    assert result.areas[0].location == (58, 88)


def test_template_rejects_other_text_and_draws_a_diff():
    ref = screen("READY 42")
    other = screen("ERROR 17")
    result = compare(ref, other, areas=[(8, 18, 60, 16)], threshold=0.95)
    assert not result.matched and result.score < 0.9
    png = diff_image(ref, other, result)
    diff = Image.open(io.BytesIO(png))
    assert diff.size == (320 * 3 + 12, 200 + 24)  # three panels under a label strip


def test_ssim_in_place():
    ref = screen("READY 42")
    assert compare(ref, ref, method="ssim").score == pytest.approx(1.0)
    moved = screen("READY 42", at=(60, 90))
    assert compare(ref, moved, areas=[(8, 18, 60, 16)], method="ssim").score < 0.5


def test_flat_area_compares_pixels():
    ref = screen("")
    assert compare(ref, ref, areas=[(0, 0, 50, 50)]).score == 1.0
    white = Image.new("RGB", (320, 200), "white")
    out = io.BytesIO()
    white.save(out, format="PNG")
    assert compare(ref, out.getvalue(), areas=[(0, 0, 50, 50)]).score == 0.0


def test_bad_input():
    ref = screen("x")
    with pytest.raises(InvalidInput, match="outside the 320x200"):
        compare(ref, ref, areas=[(400, 0, 10, 10)])
    with pytest.raises(InvalidInput, match="allowed template, ssim"):
        compare(ref, ref, method="orb")
    with pytest.raises(InvalidInput, match="does not exist"):
        compare("/nonexistent.png", ref)
    assert np.asarray(Image.open(io.BytesIO(ref))).shape == (200, 320, 3)


def test_exclude_areas_are_ignored():
    ref = screen("READY 42   12:00", at=(10, 20))
    later = screen("READY 42   12:07", at=(10, 20))
    area = [(8, 18, 140, 16)]
    clock = [(70, 18, 80, 16)]
    assert compare(ref, later, areas=area, threshold=0.99).score < 0.99
    assert compare(ref, later, areas=area, exclude=clock, threshold=0.99).matched
    assert compare(ref, later, areas=area, exclude=clock, method="ssim").score == 1.0
    moved = screen("READY 42   12:07", at=(40, 60))
    result = compare(ref, moved, areas=area, exclude=clock, threshold=0.99)
    assert result.matched and result.areas[0].location == (38, 58)
