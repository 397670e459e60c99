"""Screen checks: compare a screenshot with a reference image, by template matching or SSIM.

- ``template`` (default): each area of the reference is searched for anywhere in the screenshot
  (OpenCV ``TM_CCOEFF_NORMED``; a flat area, which that measure cannot score, is compared pixel
  by pixel at its own position). The score is the worst area's best match, 0..1. The search
  goes from cheap to dear and stops once the area matches: at its own position, then over the
  whole screen on a copy scaled down 2x or 4x (exact 2x2 box averages of the screen and of
  the template), the 3 best spots refined at full size within 2 scaled pixels, in one call.
  A full-size correlation over a 1024x768 screen costs ~10 ms; this way a check of 50
  candidate references costs a few (``bench/p7_screen_checks.py``). The scaled-down
  correlations of the candidates share the frame's Fourier transform and window norms: each
  costs one product of transforms and one inverse transform (OpenCV's ``matchTemplate``
  transforms the screen again on every call, ~3x dearer). Exclude areas are masked at full
  size only: scaled down, excluded pixels take the kept pixels' mean (OpenCV's masked
  matching is 4-6x slower). A reference file is decoded once and each of its areas prepared
  once (template, mask, scaled-down template and its transform), cached by path, mtime and
  size; PNG screenshots are decoded by OpenCV (faster than PIL).
- ``ssim``: structural similarity of each area at its own position (the screenshot is scaled to
  the reference's size first). The score is the worst area's SSIM.

Areas are ``(x, y, width, height)`` in reference pixels; no areas = the whole image.
``exclude`` areas (a clock, a cursor) are left out of every comparison: masked in template
matching, made identical before SSIM.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from atp_core.errors import InvalidInput

DEFAULT_THRESHOLD = 0.9
METHODS = ("template", "ssim")
COARSE_PEAKS = 3  # best spots of the scaled-down search refined at full size
FLT_EPSILON = float(np.finfo(np.float32).eps)

Area = tuple[int, int, int, int]


@dataclass
class AreaScore:
    area: Area
    score: float
    location: tuple[int, int]  # where the best match is in the screenshot (top-left)


@dataclass
class MatchResult:
    method: str
    threshold: float
    score: float
    areas: list[AreaScore] = field(default_factory=list)

    @property
    def matched(self) -> bool:
        return self.score >= self.threshold


def load_image(source: bytes | str | Path | np.ndarray) -> np.ndarray:
    """An image as a BGR uint8 array (PNG/PPM/JPEG bytes, a path, or an array)."""
    if isinstance(source, np.ndarray):
        return source
    if isinstance(source, str | Path):
        path = Path(source)
        if not path.is_file():
            raise InvalidInput(f"reference image {str(path)!r} does not exist")
        source = path.read_bytes()
    if source[:8] == b"\x89PNG\r\n\x1a\n":  # OpenCV decodes PNG ~1.5x faster than PIL
        image = cv2.imdecode(np.frombuffer(source, np.uint8), cv2.IMREAD_COLOR)
        if image is not None and image.dtype == np.uint8:
            return image
    try:
        image = Image.open(io.BytesIO(source)).convert("RGB")
    except Exception as exc:
        raise InvalidInput(f"not a readable image: {exc}") from None
    return cv2.cvtColor(np.asarray(image), cv2.COLOR_RGB2BGR)


def encode_png(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", image)
    if not ok:
        raise InvalidInput("could not encode the image as PNG")
    return data.tobytes()


def _clip(area: Area, width: int, height: int) -> Area:
    x, y, w, h = (int(v) for v in area)
    if w <= 0 or h <= 0 or x < 0 or y < 0 or x >= width or y >= height:
        raise InvalidInput(f"area {area} is outside the {width}x{height} reference image")
    return x, y, min(w, width - x), min(h, height - y)


def _flat_score(a: np.ndarray, b: np.ndarray) -> float:
    diff = np.abs(a.astype(np.float32) - b.astype(np.float32))
    return float(1.0 - diff.mean() / 255.0)


def _search(
    shot: np.ndarray, templ: np.ndarray, mask: np.ndarray | None, x0: int, y0: int, x1: int, y1: int
) -> tuple[float, tuple[int, int]]:
    """Best match of ``templ`` with its top-left corner in [x0, x1] x [y0, y1] of ``shot``."""
    h, w = templ.shape[:2]
    sh, sw = shot.shape[:2]
    x0, y0 = max(0, x0), max(0, y0)
    x1, y1 = min(sw - w, x1), min(sh - h, y1)
    if x1 < x0 or y1 < y0:
        return 0.0, (0, 0)
    window = shot[y0 : y1 + h, x0 : x1 + w]
    if mask is None:
        result = cv2.matchTemplate(window, templ, cv2.TM_CCOEFF_NORMED)
    else:
        result = cv2.matchTemplate(window, templ, cv2.TM_CCOEFF_NORMED, mask=mask)
    _, best, _, loc = cv2.minMaxLoc(_finite(result))
    return float(max(0.0, min(1.0, best))), (int(loc[0]) + x0, int(loc[1]) + y0)


def _finite(result: np.ndarray) -> np.ndarray:
    """A correlation map with NaN and infinities (flat windows) scored 0."""
    cv2.patchNaNs(result, 0.0)  # in place, in C: far cheaper than numpy's nan_to_num
    _, top, _, _ = cv2.minMaxLoc(result)
    if not np.isfinite(top):
        result[~np.isfinite(result)] = 0.0
    return result


class Frame:
    """A screenshot prepared once for many comparisons: grey, its scaled-down levels, and what
    every candidate of a check can share (each level's Fourier transform, its window sums);
    each reference area's score at its own position, kept for the whole-screen pass."""

    def __init__(self, screenshot: bytes | np.ndarray) -> None:
        self.image = load_image(screenshot)
        self.gray = cv2.cvtColor(self.image, cv2.COLOR_BGR2GRAY)
        self._scaled: dict[int, np.ndarray] = {1: self.gray}
        self._spectra: dict[int, np.ndarray] = {}
        self._sums: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._norms: dict[tuple[int, int, int], np.ndarray] = {}
        self._in_place: dict[int, tuple[_Prepared, tuple[float, tuple[int, int]]]] = {}

    def scaled(self, factor: int) -> np.ndarray:
        """The grey screenshot scaled down by ``factor`` (a power of 2), halved step by step
        (a 2x box average is exact and ~10x cheaper than one 4x resize)."""
        if factor not in self._scaled:
            if factor < 2 or factor & (factor - 1):
                raise ValueError(f"scale factor {factor} is not a power of 2")
            self._scaled[factor] = _halve(self.scaled(factor // 2))
        return self._scaled[factor]

    def spectrum(self, factor: int) -> np.ndarray:
        """The Fourier transform of level ``factor`` less its mean, zero-padded to a fast size:
        one transform per frame for the coarse correlations of all the candidates."""
        if factor not in self._spectra:
            level = self.scaled(factor)
            h, w = level.shape
            padded = np.zeros((cv2.getOptimalDFTSize(h), cv2.getOptimalDFTSize(w)), np.float32)
            padded[:h, :w] = level
            padded[:h, :w] -= float(level.mean())
            self._spectra[factor] = cv2.dft(padded, nonzeroRows=h)
        return self._spectra[factor]

    def inverse_norms(self, factor: int, h: int, w: int) -> np.ndarray:
        """For every h x w window of level ``factor``: 1 / the root of its pixels' summed
        squared deviation, 0 where the window is flat (as OpenCV scores it). Shared by the
        candidates of that size."""
        key = (factor, h, w)
        if key not in self._norms:
            if factor not in self._sums:
                self._sums[factor] = cv2.integral2(self.scaled(factor), sdepth=cv2.CV_64F)
            s, sq = self._sums[factor]
            s1 = s[h:, w:] - s[:-h, w:] - s[h:, :-w] + s[:-h, :-w]
            s2 = sq[h:, w:] - sq[:-h, w:] - sq[h:, :-w] + sq[:-h, :-w]
            var = s2 - s1 * s1 / (h * w)
            flat = var <= np.minimum(0.5, 10 * FLT_EPSILON * s2)
            var[flat] = 1.0
            inv = (1.0 / np.sqrt(var)).astype(np.float32)
            inv[flat] = 0.0
            self._norms[key] = inv
        return self._norms[key]

    def in_place(self, prep: _Prepared, x: int, y: int) -> tuple[float, tuple[int, int]]:
        """An area's score at its own position, once per frame (the first pass over the
        candidates computes it, the whole-screen pass reuses it)."""
        kept = self._in_place.get(id(prep))
        if kept is None or kept[0] is not prep:
            kept = self._in_place[id(prep)] = (
                prep,
                _search(self.gray, prep.templ, prep.mask, x, y, x, y),
            )
        return kept[1]


def _halve(image: np.ndarray) -> np.ndarray:
    """``image`` at half size, each pixel the mean of 2x2 (an odd last row or column dropped)."""
    h, w = image.shape[:2]
    return cv2.resize(
        image[: h - h % 2, : w - w % 2], (w // 2, h // 2), interpolation=cv2.INTER_AREA
    )


def _coarse_factor(w: int, h: int) -> int:
    side = min(w, h)
    return 4 if side >= 32 else 2 if side >= 10 else 1


@dataclass(eq=False)
class _Prepared:
    """One area of a reference, ready to search: its template and mask, and its scaled-down
    copy for the whole-screen search. Made once per reference file and area (cached with the
    reference), not per check.

    The scaled-down copy (``coarse``, at 1/``factor``, less its mean) is unmasked: excluded
    pixels take the mean of the kept ones, so they add nothing to a correlation (OpenCV's
    masked matching is 4-6x slower; the mask applies at full size). It is correlated with the
    whole screen through the frame's Fourier transform and its own (``spectrum``)."""

    templ: np.ndarray
    mask: np.ndarray | None
    flat: bool  # correlation is undefined: compare pixel by pixel in place
    factor: int = 1
    coarse: np.ndarray | None = None
    coarse_norm: float = 0.0
    spectra: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)

    def spectrum(self, shape: tuple[int, int]) -> np.ndarray:
        """The transform of ``coarse`` zero-padded to ``shape`` (a frame level's)."""
        spectrum = self.spectra.get(shape)
        if spectrum is None:
            h, w = self.coarse.shape
            padded = np.zeros(shape, np.float32)
            padded[:h, :w] = self.coarse
            spectrum = cv2.dft(padded, nonzeroRows=h)
            self.spectra = {shape: spectrum}  # one screen size at a time (one atomic swap)
        return spectrum


def _prepare(ref_gray: np.ndarray, area: Area, keep: np.ndarray | None) -> _Prepared:
    x, y, w, h = area
    templ = ref_gray[y : y + h, x : x + w]
    mask = None if keep is None else keep[y : y + h, x : x + w]
    if mask is not None and mask.all():
        mask = None
    kept = templ if mask is None else templ[mask > 0]
    if kept.size == 0 or float(kept.std()) < 1.0:
        return _Prepared(templ, mask, True)
    level = templ if mask is None else np.where(mask > 0, templ, round(float(kept.mean())))
    level, factor, coarse = level.astype(np.uint8), 1, None
    while factor < _coarse_factor(w, h):
        level = _halve(level)
        if level.std() < 1.0:
            break  # nothing left to find at that scale: search at the one above
        factor, coarse = factor * 2, level
    prep = _Prepared(templ, mask, False, factor)
    if coarse is not None:
        prep.coarse = coarse.astype(np.float32) - np.float32(coarse.mean())
        prep.coarse_norm = float(np.sqrt((prep.coarse * prep.coarse).sum()))
    return prep


def _coarse_scores(prep: _Prepared, frame: Frame) -> np.ndarray:
    """TM_CCOEFF_NORMED of the scaled-down template at every position of the frame's level of
    the same scale, by one product of transforms and one inverse transform (OpenCV's
    matchTemplate transforms the screen and the template again on every call); the frame's
    transform and its window norms are shared by all the candidates."""
    factor = prep.factor
    spectrum = frame.spectrum(factor)
    sh, sw = frame.scaled(factor).shape
    th, tw = prep.coarse.shape
    product = cv2.mulSpectrums(spectrum, prep.spectrum(spectrum.shape), 0, conjB=True)
    corr = cv2.dft(product, flags=cv2.DFT_INVERSE | cv2.DFT_SCALE | cv2.DFT_REAL_OUTPUT)
    scores = cv2.multiply(
        corr[: sh - th + 1, : sw - tw + 1],
        frame.inverse_norms(factor, th, tw),
        scale=1 / prep.coarse_norm,
    )
    # a score well above 1 is rounding in a nearly flat window: 0, as OpenCV scores it
    cv2.threshold(scores, 1.125, 0.0, cv2.THRESH_TOZERO_INV, dst=scores)
    return scores


def _template(prep: _Prepared, frame: Frame, area: Area, limit: float, search: str) -> AreaScore:
    x, y, w, h = area
    shot_gray = frame.gray
    templ, mask = prep.templ, prep.mask
    sh, sw = shot_gray.shape[:2]
    if h > sh or w > sw:
        return AreaScore(area, 0.0, (0, 0))
    if prep.flat:  # correlation undefined: compare in place
        if y + h <= sh and x + w <= sw:
            here = shot_gray[y : y + h, x : x + w]
            if mask is not None:
                here = np.where(mask > 0, here, templ)
            return AreaScore(area, _flat_score(templ, here), (x, y))
        return AreaScore(area, 0.0, (0, 0))
    best = frame.in_place(prep, x, y)
    if best[0] >= limit or search == "place":
        return AreaScore(area, best[0], best[1])
    factor = prep.factor
    if factor == 1:
        best = max(best, _search(shot_gray, templ, mask, 0, 0, sw, sh))
        return AreaScore(area, best[0], best[1])
    coarse = _coarse_scores(prep, frame)
    ch, cw = prep.coarse.shape
    spots = []
    for _ in range(COARSE_PEAKS):
        _, value, _, loc = cv2.minMaxLoc(coarse)
        if value <= 0:
            break
        spots.append((loc[0] * factor, loc[1] * factor))
        lx, ly = loc  # suppress this peak's neighbourhood before the next one
        coarse[
            max(0, ly - ch // 2) : ly + ch // 2 + 1, max(0, lx - cw // 2) : lx + cw // 2 + 1
        ] = -1
    found = _search_near(shot_gray, templ, mask, spots, 2 * factor)
    # the first spot (in the coarse order) that matches, else the best score of all
    best = next((f for f in found if f[0] >= limit), max([best, *found]))
    return AreaScore(area, best[0], best[1])


def _search_near(
    shot: np.ndarray, templ: np.ndarray, mask: np.ndarray | None, spots: list, pad: int
) -> list[tuple[float, tuple[int, int]]]:
    """The best match of ``templ`` within ``pad`` pixels of each spot (top-left corners; a
    spot with no window on the screen is left out), by one ``matchTemplate`` over the windows
    stacked: OpenCV transforms the template on every call, so 3 windows cost ~1.7x one, not
    3x. The scores are those of each window alone (to rounding, ~1e-6)."""
    h, w = templ.shape[:2]
    sh, sw = shot.shape[:2]
    windows = []
    for cx, cy in spots:
        x0, y0 = max(0, cx - pad), max(0, cy - pad)
        x1, y1 = min(sw - w, cx + pad), min(sh - h, cy + pad)
        if x1 >= x0 and y1 >= y0:
            windows.append((x0, y0, shot[y0 : y1 + h, x0 : x1 + w]))
    if not windows:
        return [(0.0, (0, 0))]
    canvas = np.zeros(
        (sum(win.shape[0] for _, _, win in windows), max(win.shape[1] for _, _, win in windows)),
        np.uint8,
    )
    row = 0
    for _, _, win in windows:
        canvas[row : row + win.shape[0], : win.shape[1]] = win
        row += win.shape[0]
    if mask is None:
        result = cv2.matchTemplate(canvas, templ, cv2.TM_CCOEFF_NORMED)
    else:
        result = cv2.matchTemplate(canvas, templ, cv2.TM_CCOEFF_NORMED, mask=mask)
    result = _finite(result)  # positions across two windows are never read
    found, row = [], 0
    for x0, y0, win in windows:
        wh, ww = win.shape[:2]
        _, best, _, loc = cv2.minMaxLoc(result[row : row + wh - h + 1, : ww - w + 1])
        found.append((float(max(0.0, min(1.0, best))), (int(loc[0]) + x0, int(loc[1]) + y0)))
        row += wh
    return found


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean structural similarity of two grey images of the same size (Wang et al., 7x7 box)."""
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    k = (7, 7)
    if a.shape[0] < 7 or a.shape[1] < 7:
        k = (max(1, min(a.shape[1], 7) | 1), max(1, min(a.shape[0], 7) | 1))
    mu_a, mu_b = cv2.blur(a, k), cv2.blur(b, k)
    var_a = cv2.blur(a * a, k) - mu_a * mu_a
    var_b = cv2.blur(b * b, k) - mu_b * mu_b
    cov = cv2.blur(a * b, k) - mu_a * mu_b
    num = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
    den = (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    return float(np.clip((num / den).mean(), 0.0, 1.0))


@dataclass
class _Reference:
    gray: np.ndarray
    prepared: dict = field(default_factory=dict)  # (area, exclude) -> _Prepared

    def prepare(self, area: Area, exclude: tuple, keep: np.ndarray | None) -> _Prepared:
        key = (area, exclude)
        prep = self.prepared.get(key)
        if prep is None:
            if len(self.prepared) > 64:
                self.prepared.clear()
            prep = self.prepared[key] = _prepare(self.gray, area, keep)
        return prep


_REFERENCES: dict[tuple[str, float, int], _Reference] = {}


def _reference(reference: bytes | str | Path | np.ndarray) -> _Reference:
    """A reference as a grey array; files are decoded once (cached by path, mtime and size),
    with the areas prepared for searching."""
    if isinstance(reference, str | Path):
        path = Path(reference)
        try:
            stat = path.stat()
        except OSError:
            raise InvalidInput(f"reference image {str(path)!r} does not exist") from None
        key = (str(path), stat.st_mtime, stat.st_size)
        cached = _REFERENCES.get(key)
        if cached is None:
            if len(_REFERENCES) > 512:
                _REFERENCES.clear()
            cached = _Reference(cv2.cvtColor(load_image(path), cv2.COLOR_BGR2GRAY))
            _REFERENCES[key] = cached
        return cached
    image = load_image(reference)
    return _Reference(image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))


def reference_gray(reference: bytes | str | Path | np.ndarray) -> np.ndarray:
    """A reference as a grey array; files are decoded once (cached by path, mtime and size)."""
    return _reference(reference).gray


def compare(
    reference: bytes | str | Path | np.ndarray,
    screenshot: bytes | np.ndarray | Frame,
    *,
    areas: list[Area] | None = None,
    threshold: float | None = None,
    method: str | None = None,
    exclude: list[Area] | None = None,
    search: str = "all",
) -> MatchResult:
    """Score ``screenshot`` against ``reference``; ``search="place"`` compares each area at
    its own position only (template method), for a first pass over many candidates."""
    method = method or "template"
    if method not in METHODS:
        raise InvalidInput(f"screen check method {method!r}: allowed {', '.join(METHODS)}")
    ref = _reference(reference)
    ref_gray = ref.gray
    frame = screenshot if isinstance(screenshot, Frame) else Frame(screenshot)
    height, width = ref_gray.shape[:2]
    boxes = [_clip(a, width, height) for a in areas] if areas else [(0, 0, width, height)]
    shot_gray = frame.gray
    limit = DEFAULT_THRESHOLD if threshold is None else float(threshold)
    excluded = tuple(_clip(a, width, height) for a in exclude or [])
    keep = None
    if excluded:
        keep = np.full(ref_gray.shape, 255, dtype=np.uint8)
        for ex, ey, ew, eh in excluded:
            keep[ey : ey + eh, ex : ex + ew] = 0
    scores: list[AreaScore] = []
    if method == "template":
        for box in boxes:
            prep = ref.prepare(box, excluded, keep)
            scores.append(_template(prep, frame, box, limit, search))
    else:
        if shot_gray.shape != ref_gray.shape:
            shot_gray = cv2.resize(shot_gray, (width, height), interpolation=cv2.INTER_AREA)
        if keep is not None:
            shot_gray = np.where(keep > 0, shot_gray, ref_gray).astype(np.uint8)
        for x, y, w, h in boxes:
            value = ssim(ref_gray[y : y + h, x : x + w], shot_gray[y : y + h, x : x + w])
            scores.append(AreaScore((x, y, w, h), value, (x, y)))
    return MatchResult(method, limit, min(s.score for s in scores), scores)


DIFF_LABELS = ("reference", "actual", "difference")
EXCLUDE_COLOUR = (200, 0, 200)  # BGR magenta: left out of the comparison
LABEL_HEIGHT = 24


def diff_image(
    reference: bytes | str | Path | np.ndarray,
    screenshot: bytes | np.ndarray,
    result: MatchResult,
    exclude: list[Area] | None = None,
) -> bytes:
    """A PNG of three labelled panels: reference | actual (the screenshot) | difference
    (amplified). Match areas are boxed (green = matched, red = below threshold; the best match
    location in the screenshot), exclude areas are boxed in magenta in every panel."""
    ref = load_image(reference)
    shot = load_image(screenshot)
    height, width = ref.shape[:2]
    if shot.shape[:2] != ref.shape[:2]:
        shot = cv2.resize(shot, (width, height), interpolation=cv2.INTER_AREA)
    diff = cv2.absdiff(ref, shot)
    diff = cv2.convertScaleAbs(diff, alpha=4.0)
    ref_view, shot_view = ref.copy(), shot.copy()
    for item in result.areas:
        x, y, w, h = item.area
        color = (0, 200, 0) if item.score >= result.threshold else (0, 0, 255)
        cv2.rectangle(ref_view, (x, y), (x + w - 1, y + h - 1), color, 2)
        cv2.rectangle(diff, (x, y), (x + w - 1, y + h - 1), color, 2)
        lx, ly = item.location
        cv2.rectangle(shot_view, (lx, ly), (lx + w - 1, ly + h - 1), color, 2)
        cv2.putText(
            shot_view,
            f"{item.score:.3f}",
            (lx + 2, max(12, ly - 4)),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.45,
            color,
            1,
        )
    for x, y, w, h in (_clip(a, width, height) for a in exclude or []):
        for view in (ref_view, shot_view, diff):
            cv2.rectangle(view, (x, y), (x + w - 1, y + h - 1), EXCLUDE_COLOUR, 2)
            cv2.putText(
                view,
                "excluded",
                (x + 3, y + 14),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.4,
                EXCLUDE_COLOUR,
                1,
            )
    panels = []
    for label, view in zip(DIFF_LABELS, (ref_view, shot_view, diff), strict=True):
        bar = np.full((LABEL_HEIGHT, width, 3), 40, dtype=np.uint8)
        cv2.putText(
            bar, label, (6, LABEL_HEIGHT - 7), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 1
        )
        panels.append(np.vstack([bar, view]))
    gap = np.full((height + LABEL_HEIGHT, 6, 3), 128, dtype=np.uint8)
    return encode_png(np.hstack([panels[0], gap, panels[1], gap, panels[2]]))


def changed_fraction(
    before: np.ndarray,
    after: np.ndarray,
    area: Area | None = None,
    exclude: list[Area] | None = None,
    tolerance: int = 24,
) -> float:
    """Fraction (0..1) of the pixels of ``area`` (default: all) whose grey level differs by
    more than ``tolerance`` between two grey frames; ``exclude`` areas never count. A frame of
    another size (the guest changed mode) counts as all changed."""
    if before.shape != after.shape:
        return 1.0
    height, width = before.shape[:2]
    x, y, w, h = _clip(area, width, height) if area else (0, 0, width, height)
    diff = cv2.absdiff(before[y : y + h, x : x + w], after[y : y + h, x : x + w]) > tolerance
    for ex, ey, ew, eh in exclude or []:
        x0, y0 = max(ex - x, 0), max(ey - y, 0)
        diff[y0 : max(0, ey - y + eh), x0 : max(0, ex - x + ew)] = False
    return float(diff.mean()) if diff.size else 0.0
