"""Text on the screen by OCR: ``verify_text`` (now), ``wait_text`` (poll), ``read_text``
(into a variable). A failure says what was read, and where; the area read is an artifact."""

from __future__ import annotations

from typing import Any

from atp_core.errors import CheckFailed

from .. import schema, screen_match, screen_text
from ..polling import Polling, poll_until
from ..runtime import StepCall, require_vm
from .registry import handles
from .screen import _box

DEFAULT_INTERVAL = 0.5
SHOWN = 300  # characters of the read text quoted in an error


def _quote(text: str) -> str:
    text = text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"
    return repr(text)


def _read(call: StepCall) -> tuple[screen_text.TextRead, bytes]:
    shot = call.session().screen.screenshot()
    read = screen_text.read_text(screen_match.Frame(shot), _box(call.args.get("area")))
    return read, shot


def _wanted(call: StepCall) -> tuple[str | None, str | None, float | None, str]:
    text, regex, fuzzy = call.args.get("text"), call.args.get("regex"), call.args.get("fuzzy")
    text = None if text is None else str(text)
    regex = None if regex is None else str(regex)
    fuzzy = None if fuzzy is None else float(fuzzy)
    if regex is not None:
        shown = f"regex {regex!r}"
    elif fuzzy is not None:
        shown = f"text {text!r} (fuzzy >= {fuzzy:g})"
    else:
        shown = f"text {text!r}"
    return text, regex, fuzzy, shown


def _found(call: StepCall, match: screen_text.TextMatch, shown: str, reads: int) -> None:
    call.value = match.found
    where = f" at {match.box}" if match.box else ""
    score = f", similarity {match.score:.2f}" if match.score < 1 else ""
    call.say(f"found {shown} on the screen{where}: {match.found!r}{score} ({reads} read(s))")


def _failed(
    call: StepCall, read: screen_text.TextRead, shot: bytes, match: screen_text.TextMatch, *, why
) -> CheckFailed:
    x, y, w, h = read.area
    crop = screen_match.load_image(shot)[y : y + h, x : x + w]
    call.artifact("ocr-area", screen_match.encode_png(crop), "screenshot", "image/png")
    closest = (
        f"; closest {match.found!r} (similarity {match.score:.2f})"
        if match.found and match.score >= 0.5
        else ""
    )
    return CheckFailed(f"{why} in area {read.area}; read: {_quote(read.text)}{closest}")


@handles(schema.VerifyText)
def verify_text(call: StepCall) -> None:
    require_vm(call)
    text, regex, fuzzy, shown = _wanted(call)
    read, shot = _read(call)
    match = screen_text.find_text(read, text=text, regex=regex, fuzzy=fuzzy)
    if not match.matched:
        raise _failed(call, read, shot, match, why=f"{shown} is not on the screen")
    _found(call, match, shown, 1)


@handles(schema.WaitText)
def wait_text(call: StepCall) -> None:
    require_vm(call)
    text, regex, fuzzy, shown = _wanted(call)
    interval = float(call.args.get("interval") or DEFAULT_INTERVAL)
    best: tuple[Any, ...] | None = None

    def attempt(_polling: Polling) -> Any:
        nonlocal best
        read, shot = _read(call)
        match = screen_text.find_text(read, text=text, regex=regex, fuzzy=fuzzy)
        if match.matched:
            return match
        if best is None or match.score >= best[2].score:
            best = (read, shot, match)
        return None

    found, polling = poll_until(call, attempt, interval=interval, margin=0.5, at_least=0.5)
    reads = polling.tries
    if found is not None:
        _found(call, found, shown, reads)
        return
    read, shot, match = best
    raise _failed(
        call,
        read,
        shot,
        match,
        why=f"{shown} did not appear within {call.timeout:g} s ({reads} reads)",
    )


@handles(schema.ReadText)
def read_text(call: StepCall) -> None:
    require_vm(call)
    read, _ = _read(call)
    call.value = read.text
    call.say(f"read {len(read.text)} characters in area {read.area}: {_quote(read.text)}")
