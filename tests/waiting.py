"""``wait_for``: the tests' one wait on a condition (no fixed sleeps, DEVELOPERS.md).

Poll ``condition`` until it returns something truthy and return that; at the deadline fail the
test naming what was awaited. Give a generous deadline: it only catches a hang; how fast the
thing happens is measured in bench/.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")


def wait_for(condition: Callable[[], T], timeout: float, what: str, interval: float = 0.25) -> T:
    """Poll ``condition`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)
