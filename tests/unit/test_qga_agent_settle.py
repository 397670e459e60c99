"""GuestAgent right after a reconnect: 'agent not connected' waits for libvirt to reattach;
at any other time it fails at once."""

import json
import time

import pytest

from atp_core.errors import AgentUnavailable
from atp_core.protocol import qga
from atp_core.protocol.qga import GuestAgent


class FakeConnection:
    def __init__(self, reconnected_at):
        self.reconnected_at = reconnected_at


class FakeDomain:
    """A DomainRef whose agent is 'not connected' for the first ``failures`` calls."""

    name = "vm-x"

    def __init__(self, failures: int, reconnected_at) -> None:
        self.failures = failures
        self.calls = 0
        self.connection = FakeConnection(reconnected_at)

    def call(self, what, fn, running=True):
        self.calls += 1
        if self.calls <= self.failures:
            raise AgentUnavailable(
                "vm-x: guest agent not available (guest-ping): Guest agent is not responding: "
                "QEMU guest agent is not connected"
            )
        return json.dumps({"return": {}})


@pytest.fixture(autouse=True)
def fast(monkeypatch):
    monkeypatch.setattr(qga, "AGENT_SETTLE_POLL", 0.01)


def test_waits_for_the_agent_after_a_reconnect():
    domain = FakeDomain(failures=3, reconnected_at=time.monotonic())
    GuestAgent(domain, timeout=5).ping()
    assert domain.calls == 4


def test_gives_up_after_the_command_timeout():
    domain = FakeDomain(failures=10**6, reconnected_at=time.monotonic())
    started = time.monotonic()
    with pytest.raises(AgentUnavailable, match="not connected"):
        GuestAgent(domain, timeout=1).ping()
    assert time.monotonic() - started >= 0.9  # it waited its whole timeout, then gave up


@pytest.mark.parametrize("reconnected_at", [None, -1000.0])
def test_no_waiting_without_a_recent_reconnect(reconnected_at):
    at = None if reconnected_at is None else time.monotonic() + reconnected_at
    domain = FakeDomain(failures=1, reconnected_at=at)
    with pytest.raises(AgentUnavailable):
        GuestAgent(domain, timeout=5).ping()
    assert domain.calls == 1
