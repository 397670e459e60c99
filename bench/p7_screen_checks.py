"""P7: screen checks and OCR, against the raw OpenCV and tesseract calls in the same run.

1. A screen check of a 1024x768 frame against 50 candidate references (the engine's
   ``match_candidates``: every candidate at its own position first, then the whole screen
   on a scaled-down copy) vs the raw call a script would make: ``cv2.matchTemplate`` of each
   candidate's area over the whole grey frame (``TM_CCOEFF_NORMED``) + ``minMaxLoc``. Three
   frames: the 50th candidate in place, the 50th candidate moved by (+300, -95), none of them
   on the screen. Both sides get the PNG screenshot and decode it once per check; references
   are decoded once (the engine caches them; the raw side gets them pre-cut).
2. OCR of a 400x100 area with two lines of terminal text: ``screen_text.read_text`` (crop,
   invert, 2x scale, recognise, word boxes) vs the raw ``tesserocr`` call on the same crop
   (``SetImage`` + ``GetUTF8Text``, one API object kept, no preprocessing).

Medians of ``--rounds`` alternating rounds, one thread, ``OMP_THREAD_LIMIT=1``; wall time and
the CPU time of the process (``time.process_time``: what a check costs, whatever the load).

Run: ``.venv/bin/python bench/p7_screen_checks.py [--rounds 15] [--candidates 50]``
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from measured import announce  # noqa: E402
from PIL import Image, ImageDraw, ImageFont  # noqa: E402

from atp_core.orchestrator import screen_match, screen_text  # noqa: E402
from atp_core.orchestrator.runtime import ReferenceSpec  # noqa: E402
from atp_core.orchestrator.steps.screen import match_candidates  # noqa: E402

W, H = 1024, 768


def desktop(seed: int, labels: list[tuple[tuple[int, int], str]]) -> Image.Image:
    """A desktop-like frame: a background, a few windows with title bars and text, buttons."""
    rng = random.Random(seed)
    image = Image.new("RGB", (W, H), (46, 139, 87))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=14)
    for i in range(6):
        x, y = rng.randint(0, W - 300), rng.randint(0, H - 200)
        draw.rectangle((x, y, x + 300, y + 200), fill="white", outline="black", width=2)
        draw.rectangle((x, y, x + 300, y + 20), fill=(60, 60, 120))
        draw.text((x + 6, y + 3), f"window {i}", font=font, fill="white")
        for line in range(8):
            words = " ".join(
                rng.choice(["ls", "-la", "/tmp", "echo", "42", "ok"]) for _ in range(5)
            )
            draw.text((x + 6, y + 26 + 20 * line), words, font=font, fill="black")
    for (x, y), text in labels:
        draw.rectangle((x, y, x + 90, y + 34), fill=(220, 220, 220), outline="black", width=2)
        draw.text((x + 10, y + 9), text, font=font, fill="black")
    return image


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def median_ms(samples: list[float]) -> float:
    return 1000 * statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--candidates", type=int, default=50)
    args = parser.parse_args()
    announce("== P7 screen checks and OCR (bench/p7_screen_checks.py)")
    cv2.setNumThreads(1)
    n = args.candidates
    rng = random.Random(5)
    spots = [(40 + (i % 8) * 120, 430 + (i // 8) * 48) for i in range(n)]
    words = ["OK", "Cancel", "Apply", "Help", "Save", "Open", "Quit", "Next", "Back", "Yes"]
    names = [f"{rng.choice(words)} {rng.choice(words)[::-1]}{i}" for i in range(n)]
    folder = Path(tempfile.mkdtemp(prefix="atp-p7-"))
    specs, templates = [], []
    for i, at in enumerate(spots):
        ref = desktop(7, [(at, names[i])])
        path = folder / f"cand-{i}.png"
        ref.save(path)
        area = (at[0], at[1], 91, 35)
        specs.append(ReferenceSpec(path=path, areas=[area], threshold=0.97, label=f"c{i}"))
        gray = cv2.cvtColor(np.asarray(ref), cv2.COLOR_RGB2GRAY)
        templates.append(gray[area[1] : area[1] + 35, area[0] : area[0] + 91].copy())
    last = spots[-1]
    frames = {
        "in place": png(desktop(7, [(last, names[-1])])),
        "moved": png(desktop(7, [((last[0] + 300, last[1] - 95), names[-1])])),
        "none": png(desktop(7, [(last, "other")])),
    }

    def ours(shot: bytes) -> tuple[bool, str]:
        seen = match_candidates(specs, screen_match.Frame(shot))
        return seen.matched, seen.label

    def raw(shot: bytes) -> tuple[bool, int]:
        gray = cv2.cvtColor(screen_match.load_image(shot), cv2.COLOR_BGR2GRAY)
        best, which = -1.0, -1
        for i, templ in enumerate(templates):
            result = cv2.matchTemplate(gray, templ, cv2.TM_CCOEFF_NORMED)
            _, score, _, _ = cv2.minMaxLoc(result)
            if score > best:
                best, which = score, i
        return best >= 0.97, which

    for shot in frames.values():  # warm up: reference cache, OpenCV
        ours(shot)
    print(f"screen check: 1024x768 frame, {n} candidate references, {args.rounds} rounds, median")
    print("wall time, and CPU time of this process (what the check costs whatever the load)")
    print(
        f"{'frame':>10}  {'raw wall':>9}  {'raw CPU':>8}  {'atp wall':>9}  {'atp CPU':>8}  "
        f"{'ratio':>5}  result"
    )
    for label, shot in frames.items():
        t_raw, t_ours, c_raw, c_ours = [], [], [], []
        for round_no in range(args.rounds):
            for side in ("raw", "ours") if round_no % 2 == 0 else ("ours", "raw"):
                t0, c0 = time.perf_counter(), time.process_time()
                got = raw(shot) if side == "raw" else ours(shot)
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                (t_raw if side == "raw" else t_ours).append(wall)
                (c_raw if side == "raw" else c_ours).append(cpu)
                if side == "raw":
                    raw_got = got
                else:
                    ours_got = got
        r, o = median_ms(t_raw), median_ms(t_ours)
        print(
            f"{label:>10}  {r:>7.1f}ms  {median_ms(c_raw):>6.1f}ms  {o:>7.1f}ms  "
            f"{median_ms(c_ours):>6.1f}ms  {median_ms(c_ours) / median_ms(c_raw):>5.3f}  "
            f"atp_core {ours_got}, raw {raw_got}"
        )

    import tesserocr

    text = desktop(3, [])
    draw = ImageDraw.Draw(text)
    draw.rectangle((300, 300, 700, 400), fill="white")
    mono = ImageFont.load_default(size=15)
    draw.text((306, 312), "atp@desk:~$ expr 7 + 8", font=mono, fill="black")
    draw.text((306, 340), "15", font=mono, fill="black")
    shot = png(text)
    area = (300, 300, 400, 100)
    api = tesserocr.PyTessBaseAPI(lang="eng", psm=tesserocr.PSM.SINGLE_BLOCK)

    def raw_ocr() -> str:
        crop = Image.open(io.BytesIO(shot)).convert("L").crop((300, 300, 700, 400))
        api.SetImage(crop)
        return api.GetUTF8Text()

    def ours_ocr() -> str:
        return screen_text.read_text(shot, area).text

    raw_ocr(), ours_ocr()
    t_raw, t_ours, c_raw, c_ours = [], [], [], []
    for round_no in range(args.rounds):
        for side in ("raw", "ours") if round_no % 2 == 0 else ("ours", "raw"):
            t0, c0 = time.perf_counter(), time.process_time()
            got = raw_ocr() if side == "raw" else ours_ocr()
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            (t_raw if side == "raw" else t_ours).append(wall)
            (c_raw if side == "raw" else c_ours).append(cpu)
            if side == "raw":
                raw_text = got
            else:
                ours_text = got
    r, o = median_ms(t_raw), median_ms(t_ours)
    print(f"OCR of a 400x100 area, {args.rounds} rounds, median (wall, CPU)")
    print(f"  raw tesserocr {r:.1f} ms, CPU {median_ms(c_raw):.1f} ms {raw_text.strip()!r}")
    print(
        f"  atp_core      {o:.1f} ms, CPU {median_ms(c_ours):.1f} ms {ours_text!r}  "
        f"ratio {o / r:.2f} (CPU {median_ms(c_ours) / median_ms(c_raw):.2f})"
    )
    api.End()
    return 0


if __name__ == "__main__":
    sys.exit(main())
