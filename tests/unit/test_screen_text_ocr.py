"""OCR of screen text with the real tesseract: light-on-dark and dark-on-light, an area only,
word boxes in screen pixels; exact (spaces not significant), regex and fuzzy finding."""

import importlib.util

import pytest

from atp_core.errors import InvalidInput
from atp_core.orchestrator.screen_text import find_text, read_text
from tests.prereq import require
from tests.unit.ocr_images import text_screen


@pytest.fixture(autouse=True)
def _tesseract():
    require(
        importlib.util.find_spec("tesserocr") is not None,
        "OCR tests need tesserocr built against Debian's libtesseract",
    )


TERMINAL = text_screen([((20, 30), "$ echo hello-world"), ((20, 52), "hello-world")])


def test_reads_light_text_on_dark_with_word_boxes():
    read = read_text(TERMINAL)
    assert read.text.splitlines() == ["$ echo hello-world", "hello-world"]
    assert read.area == (0, 0, 640, 480)
    first = read.words[0]
    assert first.text == "$"
    x, y, w, h = first.box
    assert 18 <= x <= 24 and 28 <= y <= 38 and w < 15 and h < 25


def test_reads_only_the_area():
    screen = text_screen(
        [((20, 20), "Top left"), ((400, 400), "Result: 15")], background="white", color="black"
    )
    read = read_text(screen, (380, 380, 250, 60))
    assert read.text == "Result: 15"
    match = find_text(read, regex=r"Result: (\d+)")
    assert match.matched and match.found == "Result: 15"
    x, y, _, _ = match.box
    assert 395 <= x <= 405 and 395 <= y <= 410


def test_exact_regex_and_fuzzy():
    read = read_text(TERMINAL)
    assert find_text(read, text="echo  hello-world").matched
    assert find_text(read, text="$echo hello-world").matched  # spaces are not significant
    assert not find_text(read, text="goodbye").matched
    near = find_text(read, text="helo-world")
    assert not near.matched and 0.8 < near.score < 1
    fuzzy = find_text(read, text="helo-world", fuzzy=0.8)
    assert fuzzy.matched and fuzzy.box is not None
    assert not find_text(read, text="goodbye-moon", fuzzy=0.8).matched
    assert find_text(read, regex=r"^hello-\w+$".replace("^", "(?m)^")).matched


def test_area_outside_the_screen_is_a_clear_error():
    with pytest.raises(InvalidInput, match=r"outside the 640x480 screen"):
        read_text(TERMINAL, (700, 0, 10, 10))
    with pytest.raises(InvalidInput, match="exactly one"):
        find_text(read_text(TERMINAL, (0, 0, 100, 100)))


def test_an_empty_screen_reads_as_no_text():
    blank = text_screen([])
    read = read_text(blank)
    assert read.text == "" and read.words == []
    assert not find_text(read, text="Password:").matched
    noise = text_screen([((300, 200), "|"), ((10, 400), ".")])
    assert isinstance(read_text(noise).text, str)
