"""Keyboard pacing: a chord is sent only after QEMU has played the previous one, so QEMU's
input queue (1024 entries, then it drops keys) never fills, and send_text returns when the
last key is delivered."""

import time

import pytest

from atp_core.cancel import CancelToken
from atp_core.errors import Cancelled
from atp_core.protocol.keyboard import Keyboard, chord_duration


class FakeDomain:
    name = "vm-x"

    def __init__(self) -> None:
        self.sent: list[tuple[float, list[int], int]] = []

    def call(self, what, fn, running=True):
        return fn(self)

    def running(self):
        return self  # not a libvirt domain: send_text keeps the sendKey path (no monitor)

    def sendKey(self, codeset, hold, codes, n, flags):  # noqa: N802 - libvirt's name
        self.sent.append((time.monotonic(), list(codes), hold))


def test_chord_duration_model():
    # press + hold, release + hold; each delay allows 1 ms for QEMU's whole-ms, late timer
    assert chord_duration(1, 30) == pytest.approx(0.062)
    assert chord_duration(2, 30) == pytest.approx(0.124)  # shift+key
    assert chord_duration(1, 0) == pytest.approx(0.202)  # hold 0 = QEMU's default 100 ms


def test_text_waits_for_each_chord_to_play():
    domain = FakeDomain()
    keyboard = Keyboard(domain)
    keyboard.send_text("aBc", interval_ms=5, hold_ms=20)  # the interval is shorter than a chord
    finished = time.monotonic()
    times = [t for t, _, _ in domain.sent]
    assert [codes for _, codes, _ in domain.sent] == [[30], [42, 48], [46]]
    assert all(hold == 20 for _, _, hold in domain.sent)
    assert times[1] - times[0] >= 0.042 - 0.002  # 'a' was played first
    assert times[2] - times[1] >= 0.084 - 0.002  # shift+b is two keys
    assert finished - times[2] >= 0.042 - 0.002  # returns once 'c' is delivered


def test_a_long_interval_is_kept():
    domain = FakeDomain()
    Keyboard(domain).send_text("ab", interval_ms=150, hold_ms=5)
    first, second = (t for t, _, _ in domain.sent)
    assert second - first >= 0.15 - 0.002


def test_separate_send_key_calls_are_paced_too():
    domain = FakeDomain()
    keyboard = Keyboard(domain)
    keyboard.send_key("a", hold_ms=50)
    keyboard.send_key("b", hold_ms=50)
    first, second = (t for t, _, _ in domain.sent)
    assert second - first >= 0.1 - 0.002


def test_cancel_stops_typing_between_keys():
    domain = FakeDomain()
    keyboard = Keyboard(domain)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        keyboard.send_text("abcdef", hold_ms=10, cancel=token)
    assert len(domain.sent) == 1


class FakeClock:
    """The keyboard's clock, moved only by its own waits and by the fake's slow calls, so the
    gaps below are exact whatever the machine's load."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)

    wait = sleep  # the CancelToken's wait: nobody cancels

    def raise_if_cancelled(self) -> None:
        pass


def test_text_keys_are_held_briefly_and_the_interval_counts_from_the_previous_send(monkeypatch):
    """send_text holds typed keys TEXT_HOLD_MS, and a chord goes out as
    soon as QEMU has played the previous one: the interval is not added after the call."""
    from atp_core.protocol import keyboard
    from atp_core.protocol.keyboard import DEFAULT_HOLD_MS, TEXT_HOLD_MS

    clock = FakeClock()
    monkeypatch.setattr(keyboard, "time", clock)

    class SlowDomain(FakeDomain):
        def sendKey(self, codeset, hold, codes, n, flags):  # noqa: N802 - libvirt's name
            self.sent.append((clock.now, list(codes), hold))
            clock.now += 0.1  # a slow libvirt round trip

    domain = SlowDomain()
    Keyboard(domain).send_text("ab", interval_ms=150, cancel=clock)
    (first, _, hold), (second, _, _) = domain.sent
    assert hold == TEXT_HOLD_MS == DEFAULT_HOLD_MS
    # the interval is kept from the previous send, the round trip inside it (not 0.15 + 0.1)
    assert second - first == pytest.approx(0.15)
