"""``set``: assign variables (values are rendered first, so ``${...}`` works in them)."""

from __future__ import annotations

from ..runtime import StepCall
from ..variables import to_text


def set_values(call: StepCall) -> None:
    values = call.args.get("values") or {}
    for name, value in values.items():
        call.frame.assign.set(str(name), value)
    call.say(", ".join(f"{k}={to_text(v)[:80]}" for k, v in values.items()))
