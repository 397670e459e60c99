"""Reconnect backoff: exponential from base, capped, jittered within bounds, limited attempts."""

import random

import pytest

from atp_core.errors import ConnectionFailed
from atp_core.transport import ConnectionConfig, ConnectionState, HostConnection
from atp_core.transport import connection as connection_module


def test_exponential_without_jitter():
    cfg = ConnectionConfig(reconnect_base=0.5, reconnect_cap=30, jitter=0)
    assert [cfg.backoff_delay(n, 0.5) for n in range(8)] == [
        0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0
    ]  # fmt: skip


def test_cap_applies_before_jitter_and_never_overflows():
    cfg = ConnectionConfig(reconnect_base=1, reconnect_cap=10, jitter=0.2)
    assert cfg.backoff_delay(2000, 0.0) == pytest.approx(8.0)
    assert cfg.backoff_delay(2000, 0.999999) == pytest.approx(12.0, rel=1e-5)


@pytest.mark.parametrize("attempt", range(10))
def test_jitter_stays_within_its_bounds(attempt):
    cfg = ConnectionConfig(reconnect_base=0.25, reconnect_cap=5, jitter=0.3)
    nominal = min(5, 0.25 * 2**attempt)
    rng = random.Random(attempt)
    delays = [cfg.backoff_delay(attempt, rng.random()) for _ in range(500)]
    assert min(delays) >= nominal * 0.7 - 1e-9
    assert max(delays) <= nominal * 1.3 + 1e-9
    assert max(delays) - min(delays) > nominal * 0.4  # it really varies


def test_full_jitter_never_goes_negative():
    cfg = ConnectionConfig(reconnect_base=1, jitter=1.5)
    assert cfg.backoff_delay(0, 0.0) == 0.0


class FakeOpen:
    """Stands in for libvirt.open: fails ``failures`` times, then returns a fake connection."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def __call__(self) -> object:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionFailed(f"refused #{self.calls}")
        return object()


@pytest.fixture
def sleeps(monkeypatch):
    recorded: list[float] = []
    monkeypatch.setattr(connection_module.time, "sleep", recorded.append)
    return recorded


def test_gives_up_after_the_configured_attempts(monkeypatch, sleeps):
    cfg = ConnectionConfig(reconnect_base=0.5, reconnect_cap=3, reconnect_attempts=5, jitter=0.1)
    fake = FakeOpen(failures=99)
    monkeypatch.setattr(HostConnection, "_open_once", fake)
    states = []
    conn = HostConnection(
        "qemu+tcp://nowhere/system", cfg, on_state_change=lambda c, s: states.append(s)
    )
    with pytest.raises(ConnectionFailed, match="reconnect failed after 5 attempts: .*refused #5"):
        conn._reconnect()
    assert fake.calls == 5
    assert len(sleeps) == 4  # no pointless wait after the last attempt
    for n, delay in enumerate(sleeps):
        nominal = min(3, 0.5 * 2**n)
        assert nominal * 0.9 - 1e-9 <= delay <= nominal * 1.1 + 1e-9
    assert conn.failures == 5 and conn.reconnects == 0
    assert conn.state == ConnectionState.FAILED and "refused #5" in conn.last_error
    assert states == [ConnectionState.CONNECTING, ConnectionState.FAILED]


def test_succeeds_on_a_later_attempt(monkeypatch, sleeps):
    cfg = ConnectionConfig(reconnect_base=0.1, reconnect_attempts=5, jitter=0)
    fake = FakeOpen(failures=2)
    monkeypatch.setattr(HostConnection, "_open_once", fake)
    conn = HostConnection("qemu+tcp://nowhere/system", cfg)
    assert conn._reconnect() is not None
    assert sleeps == [0.1, 0.2]
    assert (conn.reconnects, conn.failures, conn.state) == (1, 2, ConnectionState.CONNECTED)
    assert conn.reconnected_at is not None


def test_at_least_one_attempt_even_if_configured_zero(monkeypatch, sleeps):
    fake = FakeOpen(failures=0)
    monkeypatch.setattr(HostConnection, "_open_once", fake)
    conn = HostConnection("qemu+tcp://nowhere/system", ConnectionConfig(reconnect_attempts=0))
    conn._reconnect()
    assert fake.calls == 1 and sleeps == []
