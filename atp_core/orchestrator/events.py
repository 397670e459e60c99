"""The executor's event stream: typed events, numbered in order, handed to a caller's sink."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

EVENT_TYPES = (
    "run_started",
    "target_started",
    "step_started",
    "step_log",
    "step_output",
    "artifact",
    "step_finished",
    "target_paused",
    "target_resumed",
    "target_finished",
    "run_finished",
)


@dataclass
class Event:
    """One thing that happened during a run; ``seq`` orders the events of one engine run."""

    type: str
    seq: int
    ts: float
    target: str | None = None
    step_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "seq": self.seq,
            "ts": self.ts,
            "target": self.target,
            "step_id": self.step_id,
            "data": _jsonable(self.data),
        }


def _jsonable(value: Any) -> Any:
    """``value`` with everything JSON cannot hold turned into strings."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if hasattr(value, "to_dict"):
        return _jsonable(value.to_dict())
    return str(value)


Sink = Callable[[Event], None]


class EventEmitter:
    """Numbers events 1..n under a lock and calls the sink; a failing sink never breaks a run."""

    def __init__(self, sink: Sink | None) -> None:
        self._sink = sink
        self.masker: Any = None  # a masking.Masker: secret values never reach the sink
        self._lock = threading.Lock()
        self._seq = 0
        self.sink_errors = 0

    @property
    def count(self) -> int:
        return self._seq

    def emit(
        self,
        kind: str,
        /,
        *,
        target: str | None = None,
        step_id: str | None = None,
        **data: Any,
    ) -> Event:
        if kind not in EVENT_TYPES:
            raise ValueError(f"unknown event type {kind!r}; allowed: {', '.join(EVENT_TYPES)}")
        # numbering and delivery under one lock: the sink sees events in seq order
        if self.masker is not None and self.masker.active:
            data = self.masker.mask(data)
        with self._lock:
            self._seq += 1
            event = Event(kind, self._seq, time.time(), target, step_id, data)
            if self._sink is not None:
                try:
                    self._sink(event)
                except Exception:  # the sink is the caller's; its failure must not stop the run
                    self.sink_errors += 1
                    log.exception("event sink failed on %s #%d", kind, event.seq)
        return event
