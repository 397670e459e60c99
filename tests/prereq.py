"""Prerequisite checks: a missing one fails under CI=true and skips (visibly) elsewhere."""

from __future__ import annotations

import os
import socket

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(condition: bool, what: str) -> None:
    """Fail (in CI) or skip (locally) the current test when ``condition`` is false."""
    if condition:
        return
    message = f"missing prerequisite: {what}"
    if IN_CI:
        pytest.fail(message + " (CI=true: prerequisites are mandatory)", pytrace=False)
    pytest.skip(message)


def tcp_port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
