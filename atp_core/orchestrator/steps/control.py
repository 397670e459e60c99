"""``set``: assign variables (values are rendered first, so ``${...}`` works in them)."""

from __future__ import annotations

from .. import schema
from ..runtime import StepCall
from ..variables import to_text
from .registry import handles


@handles(schema.Set)
def set_values(call: StepCall) -> None:
    values = call.args.get("values") or {}
    for name, value in values.items():
        call.frame.assign.set(str(name), value)
    shown = ("***" if call.is_secret(to_text(v)) else to_text(v)[:80] for v in values.values())
    call.say(", ".join(f"{k}={v}" for k, v in zip(values, shown, strict=True)))
