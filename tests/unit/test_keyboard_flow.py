"""Flow-controlled typing: batches stay within what the guest's keyboard device has room for,
the next batch waits until the guest has read the previous one, a guest that reads nothing
fails within a bound, and a domain whose monitor cannot be watched falls back to sendKey."""

import pytest

from atp_core.cancel import NEVER
from atp_core.errors import OperationTimeout
from atp_core.protocol import keyboard_flow
from atp_core.protocol.keyboard import Keyboard, text_to_chords


class FakeMonitor:
    """The PS/2 status port busy for ``busy_polls`` reads after every batch."""

    class ref:  # noqa: N801 - stands in for a DomainRef
        name = "vm-x"

    def __init__(self, busy_polls: int = 2) -> None:
        self.busy_polls = busy_polls
        self.busy = 0
        self.batches: list[list[dict]] = []
        self.polls = 0

    def hex_value(self, command: str) -> int:
        assert command == "i /b 0x64"
        self.polls += 1
        if self.busy:
            self.busy -= 1
            return 0x1D  # output buffer full: a byte waits for the guest
        return 0x1C

    def qmp(self, command: str, arguments: dict | None = None):
        assert command == "input-send-event"
        self.batches.append(arguments["events"])
        self.busy = self.busy_polls


def typed(batches: list[list[dict]]) -> list[tuple[str, bool]]:
    return [(e["data"]["key"]["data"], e["data"]["down"]) for b in batches for e in b]


def test_ps2_batches_fit_the_queue_and_wait_for_the_guest():
    monitor = FakeMonitor()
    text = "abC d!\n"
    keyboard_flow.Ps2Flow(monitor).type(text_to_chords(text), 0, NEVER)
    chords = text_to_chords(text)
    assert typed(monitor.batches) == typed([keyboard_flow.chord_events(c) for c in chords])
    for batch in monitor.batches:  # never more bytes than the budget, always whole chords
        presses = [e["data"]["key"]["data"] for e in batch if e["data"]["down"]]
        assert sum(3 for _ in presses) <= keyboard_flow.PS2_BATCH_BYTES
    # the guest was busy for two reads after every batch: each next batch waited for it
    assert len(monitor.batches) > 1
    assert monitor.polls == 1 + (len(monitor.batches) - 1) * 3


def test_an_interval_sends_one_character_per_batch():
    monitor = FakeMonitor(busy_polls=0)
    keyboard_flow.Ps2Flow(monitor).type(text_to_chords("abc"), 0.001, NEVER)
    assert len(monitor.batches) == 3


def test_a_guest_that_reads_nothing_fails_within_a_bound(monkeypatch):
    monkeypatch.setattr(keyboard_flow, "STALL_TIMEOUT", 0.2)
    monitor = FakeMonitor(busy_polls=10**9)
    with pytest.raises(OperationTimeout, match=r"vm-x: the guest took no key .* 2 of 6"):
        keyboard_flow.Ps2Flow(monitor).type(text_to_chords("abcdef"), 0, NEVER)


def test_virtio_capacity_counts_free_buffers_across_the_index_wrap():
    class VirtioMonitor(FakeMonitor):
        def qmp(self, command, arguments=None):
            assert command == "x-query-virtio-queue-status"
            return {"vring-avail": 0x1000, "used-idx": 65530, "vring-num": 64}

        def hex_value(self, command):
            assert command == "xp /1hx 0x1002"
            return 20  # the guest's available index, wrapped past 65535

    flow = keyboard_flow.VirtioFlow(VirtioMonitor(), "/machine/peripheral/input1/virtio-backend")
    assert flow.capacity() == 26 - keyboard_flow.VIRTIO_MARGIN
    assert flow.cost(["shift", "a"]) == 5


def test_a_domain_without_a_qemu_monitor_keeps_the_send_key_path():
    class PlainDomain:
        name = "vm-x"
        sent: list = []

        def call(self, what, fn, running=True):
            return fn(self)

        def running(self):
            return self  # not a libvirt domain: its monitor cannot be asked

        def sendKey(self, codeset, hold, codes, n, flags):  # noqa: N802 - libvirt's name
            self.sent.append(list(codes))

    domain = PlainDomain()
    assert keyboard_flow.detect(domain) is None
    Keyboard(domain).send_text("aB", interval_ms=0)
    assert domain.sent == [[30], [42, 48]]
