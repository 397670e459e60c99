"""Text from guests made storable: UTF-16 recognised, NUL characters replaced.

Windows tools often write UTF-16 (``wmic``, PowerShell redirections, ``reg export``); read as
UTF-8 it becomes text with a NUL after every character, and PostgreSQL refuses NUL in text and
in JSON (the event carrying it was lost and its step stayed "running"). ``decode_guest_bytes``
decodes UTF-16 when it sees it; ``without_nul`` replaces any NUL left in a string, or in the
strings and keys of nested lists and mappings, with U+FFFD.
"""

from __future__ import annotations

from typing import Any

NUL = "\x00"
REPLACEMENT = "\ufffd"


def looks_like_utf16(data: bytes) -> str | None:
    """``"utf-16"`` (a BOM), ``"utf-16-le"`` / ``"utf-16-be"`` (mostly-ASCII text with a
    zero byte in every odd / even position), else None."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    pairs = len(data) // 2
    if pairs < 2:
        return None
    even_zeros = data[0 : pairs * 2 : 2].count(0)
    odd_zeros = data[1 : pairs * 2 : 2].count(0)
    if odd_zeros >= 0.6 * pairs and even_zeros <= 0.1 * pairs:
        return "utf-16-le"
    if even_zeros >= 0.6 * pairs and odd_zeros <= 0.1 * pairs:
        return "utf-16-be"
    return None


def decode_guest_bytes(data: bytes, fallbacks: tuple[str, ...] = ("utf-8", "gbk")) -> str:
    """Guest output as text: UTF-16 when it looks like it, then each of ``fallbacks``, then
    UTF-8 with replacements; NULs replaced."""
    utf16 = looks_like_utf16(data)
    if utf16:
        body = data[: len(data) - len(data) % 2]
        try:
            return without_nul(body.decode(utf16))
        except UnicodeDecodeError:
            pass
    for encoding in fallbacks:
        try:
            return without_nul(data.decode(encoding))
        except UnicodeDecodeError:
            continue
    return without_nul(data.decode("utf-8", errors="replace"))


def without_nul(value: Any) -> Any:
    """``value`` with every NUL in its strings (and mapping keys) replaced by U+FFFD."""
    if isinstance(value, str):
        return value.replace(NUL, REPLACEMENT) if NUL in value else value
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(without_nul(v) for v in value) if value else value
    return value
