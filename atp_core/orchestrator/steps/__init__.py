"""Step handlers by kind: ``HANDLERS[kind](call: StepCall) -> None``; containers (``loop``,
``parallel``, ``group``) are run by the executor itself.

Each handler module registers its handlers with ``@handles(Model)`` (``registry.py``);
importing this package imports them all and checks that every kind has its handler.
"""

from __future__ import annotations

from ..schema import STEP_MODELS
from . import control, guest, input, logon, power, screen, text, vdi, waits  # noqa: F401
from .registry import HANDLERS, Handler

_unhandled = sorted(m.kind for m in STEP_MODELS if not m.is_container and m.kind not in HANDLERS)
if _unhandled:
    raise ImportError(f"step kinds without a handler: {', '.join(_unhandled)}")

__all__ = ["HANDLERS", "Handler"]
