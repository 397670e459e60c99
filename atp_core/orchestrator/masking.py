"""Masking of secret values in everything a run shows: events, the report, errors, reasons.

A run's :class:`Masker` knows the values of the scenario secrets (``${secret.NAME}``) handed to
``run_scenario`` and the rendered text of every step marked ``sensitive: true``; the executor
passes every event through it before the sink sees it and the report before it is returned,
so a password typed into the guest never reaches logs, step output, errors, the run's reason,
reports or notifications. A masked value reads ``***``.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from typing import Any

MASK = "***"
MIN_SENSITIVE_LENGTH = 3  # shorter rendered values of sensitive steps would mask everything


class Masker:
    def __init__(self, secrets: list[str] | None = None) -> None:
        self._lock = threading.Lock()
        self._values: list[str] = []
        for value in secrets or []:
            self.add(value, minimum=1)

    def add(self, value: str, *, minimum: int = MIN_SENSITIVE_LENGTH) -> None:
        """Mask ``value`` (and each of its lines, which commands echo one by one) from now on."""
        candidates = set()
        if value:
            # as is, line by line (commands echo lines), and escaped as repr() and JSON show it
            candidates = {value, *value.splitlines(), repr(value)[1:-1], json.dumps(value)[1:-1]}
        with self._lock:
            for text in candidates:
                text = text.strip("\r")
                if len(text) >= minimum and text not in self._values:
                    self._values.append(text)
            self._values.sort(key=len, reverse=True)  # longest first: no half-masked value

    def add_all(self, value: Any) -> None:
        """Mask every string inside ``value`` (a step's rendered arguments)."""
        if isinstance(value, str):
            self.add(value)
        elif isinstance(value, dict):
            for item in value.values():
                self.add_all(item)
        elif isinstance(value, list | tuple):
            for item in value:
                self.add_all(item)

    @property
    def active(self) -> bool:
        return bool(self._values)

    def touches(self, text: str) -> bool:
        """Whether ``text`` holds a masked value (then show nothing of it, not even a part)."""
        return any(value in text for value in self._values)

    def text(self, text: str) -> str:
        for value in self._values:
            if value in text:
                text = text.replace(value, MASK)
        return text

    def mask(self, value: Any) -> Any:
        """``value`` with every secret replaced in its strings (containers and dataclasses)."""
        if not self._values:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.mask(k): self.mask(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.mask(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self.mask(v) for v in value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            for item in dataclasses.fields(value):
                current = getattr(value, item.name)
                masked = self.mask(current)
                if masked is not current:
                    setattr(value, item.name, masked)
            return value
        return value
