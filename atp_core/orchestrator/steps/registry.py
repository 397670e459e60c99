"""Which handler runs each step kind: ``@handles(Model)`` on the handler, looked up by kind.

Kept apart from the handler modules so that a handler (``wait_until`` polls other kinds) can
look others up without importing the package that imports it.
"""

from __future__ import annotations

from collections.abc import Callable

from ..runtime import StepCall
from ..schema import StepBase

Handler = Callable[[StepCall], None]

HANDLERS: dict[str, Handler] = {}
"""The handler of every step kind but the containers (which the executor runs itself)."""


def handles(*models: type[StepBase]) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of the kinds of ``models``."""

    def register(handler: Handler) -> Handler:
        for model in models:
            if model.kind in HANDLERS:
                raise TypeError(f"step kind {model.kind!r} has two handlers")
            HANDLERS[model.kind] = handler
        return handler

    return register
