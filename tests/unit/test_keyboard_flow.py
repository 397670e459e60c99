"""Flow-controlled typing: batches stay within what the guest's keyboard device has room for,
the next batch waits until the guest has read the previous one, the guest's programs are
given a turn (settle) between reader windows, a guest that reads nothing fails within a
bound, and a domain whose monitor cannot be watched falls back to sendKey."""

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
        self.log: list = []  # ("batch", events) and ("settle",) in order
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
        assert not self.busy, "sent while the guest had not read the previous batch"
        self.log.append(("batch", arguments["events"]))
        self.busy = self.busy_polls

    def settle(self) -> None:
        assert not self.busy, "settled before the device was drained"
        self.log.append(("settle",))

    @property
    def batches(self) -> list[list[dict]]:
        return [entry[1] for entry in self.log if entry[0] == "batch"]


def keys(batches: list[list[dict]]) -> list[tuple[str, bool]]:
    return [(e["data"]["key"]["data"], e["data"]["down"]) for b in batches for e in b]


TEXT = 'abC d!\nHello, World! 123 @#$%^&*()_+{}|:"<>?'


def test_ps2_batches_fit_the_queue_wait_for_the_guest_and_settle_readers():
    monitor = FakeMonitor()
    chords = text_to_chords(TEXT)
    flow = keyboard_flow.Ps2Flow(monitor)
    keyboard_flow.type_text(flow, chords, 0, NEVER, monitor.settle)
    assert keys(monitor.batches) == keys([keyboard_flow.chord_events(c) for c in chords])
    assert len(monitor.batches) > 3
    for batch in monitor.batches:  # whole chords, never more bytes than the queue takes
        pressed = [e["data"]["key"]["data"] for e in batch if e["data"]["down"]]
        assert 3 * len(pressed) <= keyboard_flow.PS2_BATCH_BYTES
    # between two settles, never more reader events than the window
    unsettled = 0
    for entry in monitor.log:
        if entry[0] == "settle":
            unsettled = 0
        else:
            unsettled += 3 * len(entry[1])  # MSC_SCAN, KEY, SYN per key event
            assert unsettled <= keyboard_flow.READER_WINDOW
    assert ("settle",) in monitor.log
    assert monitor.busy == 0  # returned once the guest had read the last batch


def test_an_interval_sends_one_character_per_batch():
    monitor = FakeMonitor(busy_polls=0)
    keyboard_flow.type_text(keyboard_flow.Ps2Flow(monitor), text_to_chords("abc"), 0.001, NEVER)
    assert len(monitor.batches) == 3


def test_a_guest_that_reads_nothing_fails_within_a_bound(monkeypatch):
    monkeypatch.setattr(keyboard_flow, "STALL_TIMEOUT", 0.2)
    monitor = FakeMonitor(busy_polls=10**9)
    with pytest.raises(OperationTimeout, match=r"vm-x: the guest took no key .*PS/2") as info:
        keyboard_flow.type_text(keyboard_flow.Ps2Flow(monitor), text_to_chords("a" * 20), 0, NEVER)
    first_batch = min(keyboard_flow.PS2_BATCH_BYTES // 3, keyboard_flow.READER_WINDOW // 6)
    assert f"; {first_batch} of 20 characters sent" in str(info.value)


class VirtioMonitor(FakeMonitor):
    def __init__(self, used: int, avail: int) -> None:
        super().__init__()
        self.used, self.avail = used, avail

    def qmp(self, command, arguments=None):
        assert command == "x-query-virtio-queue-status"
        # no used ring after the available one: the two-call path (state() reads both)
        return {"vring-avail": 0x1000, "vring-used": 0, "used-idx": self.used, "vring-num": 64}

    def hex_value(self, command):
        assert command == "xp /1hx 0x1002"
        return self.avail


def test_virtio_room_counts_free_and_unread_buffers_across_the_index_wrap():
    path = "/machine/peripheral/input1/virtio-backend"
    drained = keyboard_flow.VirtioFlow(VirtioMonitor(used=65530, avail=58), path)  # wrapped
    assert drained.poll() == (
        min(64 - keyboard_flow.VIRTIO_MARGIN, keyboard_flow.VIRTIO_WINDOW),
        True,
    )
    reading = keyboard_flow.VirtioFlow(VirtioMonitor(used=100, avail=150), path)
    assert reading.poll() == (keyboard_flow.VIRTIO_WINDOW - 14, False)  # 14 not read yet
    assert reading.cost(["shift", "a"]) == 5


def test_keys_sent_another_way_count_until_qemu_has_them():
    path = "/machine/peripheral/input1/virtio-backend"
    monitor = VirtioMonitor(used=1000, avail=1064)
    sent: list = []
    flow = keyboard_flow.VirtioFlow(monitor, path, sender=sent.append)
    assert flow.poll()[1] is True
    flow.send([["a"], ["shift", "b"]])  # 12 events once QEMU has them (a SYN per key event)
    room, drained = flow.poll()
    assert not drained and room == min(60, keyboard_flow.VIRTIO_WINDOW) - 12
    monitor.used, monitor.avail = 1012, 1076  # QEMU has them, the guest has read them
    assert flow.poll() == (min(60, keyboard_flow.VIRTIO_WINDOW), True)


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


def test_virtio_indexes_come_from_one_read_of_guest_memory_once_it_agrees_with_qemu():
    class RingMonitor(VirtioMonitor):
        def __init__(self):
            super().__init__(used=7, avail=71)
            self.reads: list[str] = []

        def qmp(self, command, arguments=None):
            assert command == "x-query-virtio-queue-status"
            self.reads.append("qmp")
            return {"vring-avail": 0x1000, "vring-used": 0x1010, "used-idx": self.used,
                    "vring-num": 64}  # fmt: skip

        def hex_value(self, command):
            self.reads.append("xp1")
            return self.avail

        def hmp(self, command):
            assert command == "xp /10hx 0x1000"
            self.reads.append("xp")
            words = [0, self.avail, 1, 2, 3, 4, 5, 6, 0, self.used]
            return (
                "0000000000001000: " + " ".join(f"0x{w:04x}" for w in words[:8]) + "\r\n"
                "0000000000001010: " + " ".join(f"0x{w:04x}" for w in words[8:]) + "\r\n"
            )

    monitor = RingMonitor()
    flow = keyboard_flow.VirtioFlow(monitor, "/machine/peripheral/input1/virtio-backend")
    assert flow.state() == (7, 64, 0)
    monitor.reads.clear()
    monitor.used, monitor.avail = 20, 80  # 4 of the 64 not read back yet
    assert flow.state() == (20, 60, 4)
    assert monitor.reads == ["xp"]
