"""Keyboard and mouse steps, and ``verify_input`` (the guest's input devices saw the keys)."""

from __future__ import annotations

from typing import Any

from atp_core.errors import AtpError, CheckFailed, InfrastructureError, InvalidInput
from atp_core.protocol.keyboard import parse_key

from .. import schema
from ..latency import measured
from ..polling import Polling, poll_until
from ..runtime import StepCall, require_vm
from .registry import handles


class Unavailable:
    """The mark could not be taken (no recorder, agent not up yet); says why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _key(call: StepCall) -> tuple[str, str]:
    branch = call.branch
    uri, vm = (
        branch.resolve_vm(call.vm_override)
        if call.vm_override
        else (
            branch.target.host_uri,
            branch.target.vm,
        )
    )
    return uri, vm


def ensure_mark(call: StepCall) -> None:
    """Before the first input step since the last ``verify_input``: note where the logs end."""
    key = _key(call)
    marks = call.branch.run.input_marks
    if key in marks:
        return
    try:
        marks[key] = call.session().input_log.mark()
    except AtpError as exc:
        marks[key] = Unavailable(str(exc))
        call.log(f"input read-back unavailable on {key[1]}: {exc}", "debug")


def _ms(seconds: Any) -> int | None:
    return None if seconds is None else int(round(float(seconds) * 1000))


@handles(schema.SendKey)
@measured
def send_key(call: StepCall) -> None:
    require_vm(call)
    ensure_mark(call)
    key = call.args["key"]
    call.session().keyboard.send_key(key, _ms(call.args.get("hold")))
    call.say(f"pressed {'+'.join(parse_key(key))}")


@handles(schema.SendText)
@measured
def send_text(call: StepCall) -> None:
    require_vm(call)
    ensure_mark(call)
    text = str(call.args["text"])
    call.session().keyboard.send_text(
        text, interval_ms=_ms(call.args.get("interval")), cancel=call.token
    )
    call.say(f"typed {len(text)} characters")


@handles(schema.MouseMove)
@measured
def mouse_move(call: StepCall) -> None:
    require_vm(call)
    ensure_mark(call)
    x, y = int(call.args["x"]), int(call.args["y"])
    mouse = call.session().mouse
    if call.args.get("relative"):
        mouse.move_relative(x, y)
        call.say(f"moved by ({x}, {y})")
    else:
        mouse.move(x, y)
        call.say(f"moved to ({x}, {y})")


@handles(schema.MouseClick)
@measured
def mouse_click(call: StepCall) -> None:
    require_vm(call)
    ensure_mark(call)
    x, y = call.args.get("x"), call.args.get("y")
    call.session().mouse.click(
        None if x is None else int(x),
        None if y is None else int(y),
        button=call.args.get("button") or "left",
        double=bool(call.args.get("double")),
    )


@handles(schema.MouseDrag)
@measured
def mouse_drag(call: StepCall) -> None:
    require_vm(call)
    ensure_mark(call)
    start = _point(call.args["from"], "from")
    end = _point(call.args["to"], "to")
    moves = call.args.get("moves")
    extra: dict[str, Any] = {"steps": int(moves)} if moves else {}
    if call.args.get("hold") is not None:
        extra["hold"] = float(call.args["hold"])
    call.session().mouse.drag(start, end, button=call.args.get("button") or "left", **extra)


def _point(value: Any, name: str) -> tuple[int, int]:
    """[x, y] after the variables were filled in (``${found.x}`` renders as text)."""
    try:
        x, y = (int(round(float(v))) for v in value)
    except (TypeError, ValueError):
        raise InvalidInput(f"'{name}' must be [x, y] in pixels, got {value!r}") from None
    return x, y


@handles(schema.MouseScroll)
@measured
def mouse_scroll(call: StepCall) -> None:
    require_vm(call)
    ensure_mark(call)
    call.session().mouse.scroll(int(call.args["delta"]))


@handles(schema.VerifyInput)
def verify_input(call: StepCall) -> None:
    """Poll the guest's key events since the mark until they are exactly the expected ones."""
    vm = require_vm(call)
    key = _key(call)
    mark = call.branch.run.input_marks.pop(key, None)
    if mark is None:
        raise InfrastructureError(
            f"verify_input on {vm}: no keyboard or mouse step ran on this VM since the start or "
            "the last verify_input, so there is nothing to compare"
        )
    if isinstance(mark, Unavailable):
        raise InfrastructureError(
            f"verify_input on {vm}: the guest's input could not be read back when the input "
            f"started: {mark.reason}"
        )
    log = call.session().input_log
    text = call.args.get("text")
    if text is not None:
        expected: Any = str(text)

        def read() -> Any:
            return log.typed_text_since(mark)

        def prefix(got: Any) -> bool:
            return expected.startswith(got)
    else:
        expected = ["+".join(parse_key(k)) for k in call.args["keys"]]

        def read() -> Any:
            return log.pressed_keys_since(mark)

        def prefix(got: Any) -> bool:
            return got == expected[: len(got)]

    secret = call.is_secret(expected)

    def show(value: Any) -> str:  # a secret's text is never shown, not even the typed part
        return f"{len(value)} characters" if secret else repr(value)

    got: Any = None

    def attempt(_polling: Polling) -> bool | None:
        nonlocal got
        got = read()
        if got == expected:
            return True
        if not prefix(got):
            raise CheckFailed(f"the guest saw {show(got)}, expected {show(expected)}")
        return None

    seen, _ = poll_until(call, attempt, interval=0.3, margin=0.5, at_least=0.5)
    if not seen:
        raise CheckFailed(
            f"after {call.timeout:g} s the guest saw only {show(got)}, expected {show(expected)}"
        )
    call.say(f"the guest saw {show(got)}")
