"""Durations of the scenario language: ``500ms``, ``2s``, ``1.5m``, ``1h`` or bare seconds.

Everything is parsed to float seconds; :func:`format_duration` prints the shortest exact
unit form back (``0.5`` → ``"500ms"``, ``120`` → ``"2m"``).
"""

from __future__ import annotations

import math
import re

UNITS: dict[str, float] = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
# Long spellings accepted on input for convenience; printed back in the short form.
_ALIASES = {
    "msec": "ms",
    "millis": "ms",
    "sec": "s",
    "secs": "s",
    "second": "s",
    "seconds": "s",
    "min": "m",
    "mins": "m",
    "minute": "m",
    "minutes": "m",
    "hr": "h",
    "hrs": "h",
    "hour": "h",
    "hours": "h",
}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-zA-Z]*)\s*$")
DURATION_REGEX = (
    r"^\s*(\d+(\.\d+)?|\.\d+)\s*"
    r"(ms|s|m|h|msec|millis|sec|secs|second|seconds|min|mins|minute|minutes|hr|hrs|hour|hours)?\s*$"
)
MAX_SECONDS = 366 * 24 * 3600.0  # a year: anything longer is certainly a typo

HELP = "a duration: a number of seconds or a number with a unit (500ms, 2s, 1.5m, 1h)"


def parse_duration(value: object) -> float:
    """Float seconds of ``value``; ``ValueError`` saying what is allowed otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"expected {HELP}, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        match = _PATTERN.match(value)
        if not match:
            raise ValueError(f"expected {HELP}, got {value!r}")
        number, unit = match.groups()
        unit = unit.lower()
        unit = _ALIASES.get(unit, unit) if unit else "s"
        if unit not in UNITS:
            raise ValueError(
                f"unknown duration unit {unit!r} in {value!r}; allowed units: ms, s, m, h"
            )
        seconds = float(number) * UNITS[unit]
    else:
        raise ValueError(f"expected {HELP}, got {type(value).__name__}")
    if math.isnan(seconds) or math.isinf(seconds):
        raise ValueError(f"expected {HELP}, got {value!r}")
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative, got {value!r}")
    if seconds > MAX_SECONDS:
        raise ValueError(f"duration {value!r} is longer than a year")
    return seconds


def _clean(number: float) -> str:
    text = f"{number:.6f}".rstrip("0").rstrip(".")
    return text or "0"


def format_duration(seconds: float) -> str:
    """The shortest unit form that is exact: ``"500ms"``, ``"2s"``, ``"1.5m"``, ``"1h"``."""
    seconds = float(seconds)
    if seconds == 0:
        return "0s"
    for unit, factor in (("h", 3600.0), ("m", 60.0)):
        count = seconds / factor
        if count >= 1 and abs(count * 4 - round(count * 4)) < 1e-9:  # whole or quarter units
            return f"{_clean(count)}{unit}"
    if seconds < 1:
        millis = seconds * 1000
        if abs(millis - round(millis)) < 1e-6:
            return f"{int(round(millis))}ms"
    return f"{_clean(seconds)}s"
