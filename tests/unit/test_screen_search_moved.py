"""The whole-screen search of a template: a button moved to any position, whatever its offset
from the scaled-down grid, is found at the right spot; a near miss there is scored and not
matched; the coarse correlation is OpenCV's TM_CCOEFF_NORMED on the scaled-down level."""

import random

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from atp_core.orchestrator import screen_match
from atp_core.orchestrator.runtime import ReferenceSpec
from atp_core.orchestrator.steps import screen

BUTTON = (91, 35)


def desktop(button_at: tuple[int, int], label: str) -> np.ndarray:
    """A 1024x768 BGR frame: four windows full of short words (many spots that look like a
    button's text at a quarter of the size) and one button."""
    rng = random.Random(3)
    image = Image.new("RGB", (1024, 768), (46, 139, 87))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=14)
    for i in range(4):
        x, y = 20 + 250 * i, 40 + (i % 2) * 60
        draw.rectangle((x, y, x + 230, y + 300), fill="white", outline="black", width=2)
        for line in range(12):
            words = ["ls", "-la", "/tmp", "echo", "42", "ok", "Save", "Open"]
            text = " ".join(rng.choice(words) for _ in range(4))
            draw.text((x + 6, y + 8 + 22 * line), text, font=font, fill="black")
    x, y = button_at
    w, h = BUTTON
    draw.rectangle((x, y, x + w - 1, y + h - 1), fill=(220, 220, 220), outline="black", width=2)
    draw.text((x + 10, y + 9), label, font=font, fill="black")
    return np.asarray(image)[:, :, ::-1].copy()


REFERENCE_AT = (100, 600)
AREA = (*REFERENCE_AT, *BUTTON)


@pytest.mark.parametrize("dx", range(4))
@pytest.mark.parametrize("dy", range(4))
def test_a_moved_button_is_found_at_every_offset_from_the_coarse_grid(dx, dy):
    # the coarse pass works on a 4x scaled-down copy: a button 2-3 pixels off that grid
    # scaled down looks different from the reference scaled down (a naive scaled-down
    # template, resized from the 91x35 area, missed every such offset here)
    reference = desktop(REFERENCE_AT, "Save As")
    at = (600 + dx, 520 + dy)
    result = screen_match.compare(reference, desktop(at, "Save As"), areas=[AREA], threshold=0.99)
    assert result.matched and result.score > 0.999
    assert result.areas[0].location == at


def test_a_near_miss_elsewhere_is_scored_there_and_not_matched():
    reference = desktop(REFERENCE_AT, "Save As")
    at = (603, 522)
    result = screen_match.compare(reference, desktop(at, "Save At"), areas=[AREA], threshold=0.99)
    assert not result.matched
    assert 0.9 < result.score < 0.99  # one letter differs: close, below the threshold
    assert result.areas[0].location == at  # the closest spot found is the near miss


def test_candidates_moved_off_the_grid_the_first_in_order_wins(tmp_path):
    specs = []
    for label in ("Open", "Save As", "Quit"):
        path = tmp_path / f"{label}.png"
        cv2.imwrite(str(path), desktop(REFERENCE_AT, label))
        specs.append(ReferenceSpec(path=path, areas=[AREA], threshold=0.99, label=label))
    frame = screen_match.Frame(desktop((701, 403), "Save As"))
    seen = screen.match_candidates(specs, frame)
    assert seen.matched and seen.label == "Save As"
    assert seen.result.areas[0].location == (701, 403)
    missing = screen.match_candidates(specs, screen_match.Frame(desktop((701, 403), "Help")))
    assert not missing.matched and missing.result.score < 0.99


def test_the_coarse_scores_are_tm_ccoeff_normed_of_the_scaled_down_level():
    shot = desktop((341, 262), "Apply")
    frame = screen_match.Frame(shot)
    gray = cv2.cvtColor(shot, cv2.COLOR_BGR2GRAY)
    for area in [(341, 262, *BUTTON), (20, 40, 231, 301), (32, 52, 120, 40)]:
        prep = screen_match._prepare(gray, area, None)
        assert prep.factor == 4
        level = frame.scaled(4)
        assert level.shape == (768 // 4, 1024 // 4)
        x, y, w, h = area
        small = cv2.resize(
            gray[y : y + h - h % 4, x : x + w - w % 4],
            (w // 4, h // 4),
            interpolation=cv2.INTER_AREA,
        )
        expected = cv2.matchTemplate(level, small, cv2.TM_CCOEFF_NORMED)
        got = screen_match._coarse_scores(prep, frame)
        assert got.shape == expected.shape
        assert np.abs(got - np.nan_to_num(expected)).max() < 0.01
        assert cv2.minMaxLoc(got)[3] == cv2.minMaxLoc(expected)[3]
    assert cv2.minMaxLoc(got)[3] == (32 // 4, 52 // 4)  # the last area, on the 4x grid


def test_scaled_levels_are_box_averages_and_only_powers_of_two():
    frame = screen_match.Frame(desktop((341, 262), "Apply"))
    gray = frame.gray.astype(np.float32)
    blocks = gray.reshape(768 // 4, 4, 1024 // 4, 4).mean(axis=(1, 3))
    assert np.abs(frame.scaled(4).astype(np.float32) - blocks).max() <= 1.0
    with pytest.raises(ValueError, match="not a power of 2"):
        frame.scaled(3)


def test_spots_refined_together_score_as_one_window_each():
    shot = cv2.cvtColor(desktop((603, 522), "Save As"), cv2.COLOR_BGR2GRAY)
    templ = shot[522 : 522 + 35, 603 : 603 + 91].copy()
    mask = np.full(templ.shape, 255, np.uint8)
    mask[:, 45:] = 0
    # spots near the button, in a window, and at the screen's edges (their windows clipped)
    spots = [(600, 520), (30, 60), (0, 0), (1024 - 91, 768 - 35), (2000, 10)]
    for m in (None, mask):
        together = screen_match._search_near(shot, templ, m, spots, 8)
        alone = [
            screen_match._search(shot, templ, m, x - 8, y - 8, x + 8, y + 8) for x, y in spots[:4]
        ]
        assert len(together) == 4  # the spot off the screen has no window
        for (score, at), (score_alone, at_alone) in zip(together, alone, strict=True):
            assert at == at_alone and abs(score - score_alone) < 1e-5
        assert together[0] == (pytest.approx(1.0, abs=1e-5), (603, 522))
    assert screen_match._search_near(shot, templ, None, [(5000, 5000)], 8) == [(0.0, (0, 0))]
