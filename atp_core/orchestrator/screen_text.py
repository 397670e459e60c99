"""Text on the screen by OCR: Debian's tesseract (libtesseract 5) through ``tesserocr``.

``read_text`` crops an area of a screenshot, makes it dark-on-light grey (tesseract reads that
best; a terminal's light-on-dark is inverted), scales it up (screen fonts are 10-15 px high,
tesseract wants ~30) and returns the text with each word's box in screenshot pixels.
``find_text`` looks for a string (exact, or fuzzy with a 0-1 similarity) or a regular
expression in what was read and says where on the screen it is.

One tesseract engine per thread, made on first use (loading the English model takes ~0.1 s;
a read of a 400x100 area ~0.1 s: ``bench/p7_screen_checks.py``). ``OMP_THREAD_LIMIT`` is set
to 1 before libtesseract loads: its OpenMP threads only fight over the cores with the rest of
the engine.
"""

from __future__ import annotations

import difflib
import os
import re
import threading
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from PIL import Image

from atp_core.errors import InfrastructureError, InvalidInput

Area = tuple[int, int, int, int]
DEFAULT_SCALE = 2
LANGUAGE = "eng"

_local = threading.local()


@dataclass
class Word:
    text: str
    confidence: float
    box: Area  # (x, y, width, height) in screenshot pixels
    start: int = 0  # character offsets in TextRead.text
    end: int = 0


@dataclass
class TextRead:
    """What OCR read in ``area``: lines joined by newlines, words by single spaces."""

    text: str
    area: Area
    words: list[Word] = field(default_factory=list)

    def box_of(self, start: int, end: int) -> Area | None:
        """The screenshot box around the words that overlap characters [start, end)."""
        boxes = [w.box for w in self.words if w.start < end and w.end > start]
        if not boxes:
            return None
        x0 = min(b[0] for b in boxes)
        y0 = min(b[1] for b in boxes)
        x1 = max(b[0] + b[2] for b in boxes)
        y1 = max(b[1] + b[3] for b in boxes)
        return x0, y0, x1 - x0, y1 - y0


@dataclass
class TextMatch:
    matched: bool
    score: float  # 1.0 for an exact or regex match; the similarity when fuzzy
    found: str  # the text that matched (or came closest)
    box: Area | None  # where it is on the screen


def _api() -> Any:
    api = getattr(_local, "api", None)
    if api is None:
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")
        try:
            import tesserocr
        except ImportError as exc:
            raise InfrastructureError(
                f"OCR needs the tesserocr module built against Debian's libtesseract ({exc}); "
                "run `make setup`"
            ) from None
        try:
            api = tesserocr.PyTessBaseAPI(lang=LANGUAGE, psm=tesserocr.PSM.SINGLE_BLOCK)
        except RuntimeError as exc:
            raise InfrastructureError(
                f"tesseract could not load its {LANGUAGE!r} model ({exc}); install "
                "tesseract-ocr-eng (rig/install.sh)"
            ) from None
        _local.api = api
        _local.module = tesserocr
    return api


def prepare(gray: np.ndarray, scale: int = DEFAULT_SCALE) -> np.ndarray:
    """Dark text on a light background, scaled up by ``scale``."""
    if float(gray.mean()) < 128:
        gray = 255 - gray
    if scale > 1:
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    return gray


def _gray(image: bytes | np.ndarray) -> np.ndarray:
    from .screen_match import Frame, load_image

    if isinstance(image, Frame):
        return image.gray
    array = load_image(image)
    return array if array.ndim == 2 else cv2.cvtColor(array, cv2.COLOR_BGR2GRAY)


def clip_area(area: Area | None, width: int, height: int) -> Area:
    """``area`` inside a width x height screen (None = all of it), or InvalidInput."""
    if area is None:
        return 0, 0, width, height
    x, y, w, h = (int(v) for v in area)
    if w <= 0 or h <= 0 or x < 0 or y < 0 or x >= width or y >= height:
        raise InvalidInput(f"area {tuple(area)} is outside the {width}x{height} screen")
    return x, y, min(w, width - x), min(h, height - y)


def read_text(image: Any, area: Area | None = None, *, scale: int = DEFAULT_SCALE) -> TextRead:
    """OCR of ``area`` of ``image`` (PNG bytes, an array or a ``screen_match.Frame``)."""
    gray = _gray(image)
    height, width = gray.shape[:2]
    x, y, w, h = clip_area(area, width, height)
    crop = prepare(gray[y : y + h, x : x + w], scale)
    api = _api()
    tess = _local.module
    api.SetImage(Image.fromarray(crop))
    try:
        api.Recognize()
    except RuntimeError as exc:
        raise InfrastructureError(f"tesseract could not read area {(x, y, w, h)}: {exc}") from None
    words: list[Word] = []
    lines: list[list[Word]] = []
    iterator = api.GetIterator()
    level = tess.RIL.WORD
    if iterator is not None:
        for item in tess.iterate_level(iterator, level):
            try:
                text = item.GetUTF8Text(level)
            except RuntimeError:  # tesserocr's way of saying "no text here"
                continue
            if not text or not text.strip():
                continue
            box = item.BoundingBox(level)
            if box is None:
                continue
            x0, y0, x1, y1 = box
            word = Word(
                text.strip(),
                float(item.Confidence(level)),
                (
                    x + x0 // scale,
                    y + y0 // scale,
                    max(1, (x1 - x0) // scale),
                    max(1, (y1 - y0) // scale),
                ),
            )
            if not lines or item.IsAtBeginningOf(tess.RIL.TEXTLINE):
                lines.append([])
            lines[-1].append(word)
            words.append(word)
    parts: list[str] = []
    offset = 0
    for number, line in enumerate(lines):
        if number:
            parts.append("\n")
            offset += 1
        for index, word in enumerate(line):
            if index:
                parts.append(" ")
                offset += 1
            word.start, word.end = offset, offset + len(word.text)
            parts.append(word.text)
            offset = word.end
    return TextRead("".join(parts), (x, y, w, h), words)


def _collapse(text: str, spaces: bool = True) -> tuple[str, list[int]]:
    """``text`` with every whitespace run as one space (or none when ``spaces`` is false), and
    each kept character's offset in ``text``."""
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        if ch.isspace():
            if spaces and out and out[-1] != " ":
                out.append(" ")
                index.append(i)
            continue
        out.append(ch)
        index.append(i)
    return "".join(out), index


def similarity(expected: str, read: str) -> tuple[float, int, int]:
    """Best similarity (0-1) of ``expected`` with a same-length stretch of ``read``; and that
    stretch's [start, end) in ``read``."""
    if not expected:
        return 1.0, 0, 0
    n = len(expected)
    if len(read) <= n:
        return difflib.SequenceMatcher(None, expected, read).ratio(), 0, len(read)
    best = (0.0, 0, n)
    starts = {0, len(read) - n}
    matcher = difflib.SequenceMatcher(None, expected, read, autojunk=False)
    for i, j, size in matcher.get_matching_blocks():
        if size:
            starts.add(min(max(0, j - i), len(read) - n))
    for start in sorted(starts):
        for size in range(max(1, n - 2), n + 3):  # OCR drops or adds a character or two
            ratio = difflib.SequenceMatcher(None, expected, read[start : start + size]).ratio()
            if ratio > best[0]:
                best = (ratio, start, min(len(read), start + size))
    return best


def find_text(
    read: TextRead,
    text: str | None = None,
    regex: str | None = None,
    fuzzy: float | None = None,
) -> TextMatch:
    """Is ``text`` (spaces are not significant: OCR loses and adds them) or ``regex`` in what
    was read?
    ``fuzzy``: the least similarity (0-1) of ``text`` to a stretch of the read text."""
    if (text is None) == (regex is None):
        raise InvalidInput("give exactly one of 'text' or 'regex'")
    if regex is not None:
        try:
            found = re.search(regex, read.text)
        except re.error as exc:
            raise InvalidInput(f"invalid regular expression {regex!r}: {exc}") from None
        if found is None:
            return TextMatch(False, 0.0, "", None)
        return TextMatch(True, 1.0, found.group(0), read.box_of(found.start(), found.end()))
    for spaces in (True, False):  # OCR often loses or adds a space: spaces may differ
        wanted, _ = _collapse(str(text).strip(), spaces)
        haystack, index = _collapse(read.text, spaces)
        at = haystack.find(wanted) if index else -1
        if at >= 0 and wanted:
            start, end = index[at], index[at + len(wanted) - 1] + 1
            return TextMatch(True, 1.0, read.text[start:end], read.box_of(start, end))
    wanted, _ = _collapse(str(text).strip())
    if not wanted:
        return TextMatch(True, 1.0, "", None)
    haystack, index = _collapse(read.text)
    if not index:
        return TextMatch(False, 0.0, "", None)
    score, s, e = similarity(wanted, haystack)
    start, end = (index[s], index[max(s, e - 1)] + 1) if e > s else (0, 0)
    matched = fuzzy is not None and score >= fuzzy
    return TextMatch(
        matched, score, read.text[start:end], read.box_of(start, end) if matched else None
    )
