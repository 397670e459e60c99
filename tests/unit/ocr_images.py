"""Screens with text drawn by Pillow (its own scalable font: no system font needed), for the
OCR tests; real tesseract reads them."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont


def text_screen(
    lines: list[tuple[tuple[int, int], str]],
    size=(640, 480),
    background="black",
    color="white",
    font_size=16,
) -> bytes:
    image = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=font_size)
    for at, text in lines:
        draw.text(at, text, font=font, fill=color)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
