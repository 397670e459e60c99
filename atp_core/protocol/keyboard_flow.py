"""Typing with flow control: the next keys go in once the guest has taken the previous ones.

``virDomainSendKey`` (QMP ``send-key``) plays one chord with a hold after every press and
release and tells nothing about the guest: typing faster than the guest reads loses keys in
its keyboard device (the PS/2 keyboard holds 16 bytes, 3-6 per character; the virtio keyboard
64 event buffers, 4-8 per character), and a TCG guest on a crowded host reads late. Here the
keys of one or more characters go in as one QMP ``input-send-event`` (no holds: the guest
sees press and release in order), and the next batch waits until the device says the guest
has read them:

- PS/2 (i8042): the controller's status port (0x64, read through the monitor; reading it has
  no side effect) has its output-buffer-full bit clear once the guest has read every byte of
  the keyboard's queue. A batch is at most ``PS2_BATCH_BYTES`` scancode bytes.
- virtio keyboard: the event queue's free buffers are the guest's available index (read from
  guest memory) minus the device's used index (``x-query-virtio-queue-status``); the guest
  has not read ``size - free`` of them yet, and at most ``VIRTIO_WINDOW`` may be unread (the
  guest's driver hands a whole burst to every evdev reader at once). QEMU routes keys to the
  virtio keyboard once its driver is ready (it is activated after the PS/2 one), so that is
  the one watched then.

The device shows what the guest's kernel has read, not what the programs reading the keyboard
(X, an evdev recorder; 64-event buffers) have: a kernel that keeps taking keys while they are
starved of CPU fills their buffers (seen at load 16). So every ``READER_WINDOW`` events, once
the device is drained, the guest agent is pinged (a guest program ran after the keys were
read) before more go in. The rate is what the guest takes (hundreds of characters/s on an
idle host). ``detect`` returns None where the monitor cannot be used this way (not QEMU):
the caller keeps the paced ``sendKey`` path.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import libvirt

from atp_core.cancel import CancelToken
from atp_core.errors import InfrastructureError, OperationTimeout, ProtocolError

from .domain import DomainRef, translate
from .keymap import QCODE_TO_LINUX
from .qmp import qmp_command

PS2_BATCH_BYTES = 15  # of the PS/2 keyboard's 16-byte data queue, when the guest has read it all
VIRTIO_MARGIN = 4  # event buffers left free in the virtio queue
# Events the guest has not taken yet, at most. The guest's driver takes a whole burst in one
# interrupt and hands it to every evdev reader (X, a recorder), whose buffers hold 64 events:
# a burst close to that overflows a reader that has not caught up (seen at load 8).
VIRTIO_WINDOW = 40
READER_WINDOW = 24  # events into the guest's evdev readers between two settles (of 64)
STALL_TIMEOUT = 30.0  # seconds the guest may take no key before typing fails
_STATUS = re.compile(r"[:=]\s*0x([0-9a-fA-F]+)\s*$")
_OBF = 0x01  # i8042 status: output buffer full (a byte waits for the guest)
# Linux codes of keys with an E0 prefix in scancode set 2 (one byte more per press/release)
_E0_KEYS = {96, 97, 98, 99, 100, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 125, 126, 127}


def ps2_bytes(chord: list[str]) -> int:
    """Scancode set 2 bytes a chord puts in the PS/2 queue: press 1, release 2 (F0 xx), +1 E0."""
    return sum(3 + (2 if QCODE_TO_LINUX[q] in _E0_KEYS else 0) for q in chord)


def chord_events(chord: list[str]) -> list[dict]:
    """``input-send-event`` events of a chord: press all in order, release in reverse."""

    def event(qcode: str, down: bool) -> dict:
        return {"type": "key", "data": {"down": down, "key": {"type": "qcode", "data": qcode}}}

    return [event(q, True) for q in chord] + [event(q, False) for q in reversed(chord)]


@dataclass
class _Monitor:
    """QMP and HMP commands on one looked-up domain (no lookup per command: this is hot)."""

    ref: DomainRef
    dom: libvirt.virDomain

    def qmp(self, command: str, arguments: dict | None = None):
        return qmp_command(self.dom, self.ref.name, command, arguments)

    def hmp(self, command: str) -> str:
        import libvirt_qemu

        flag = libvirt_qemu.VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP
        try:
            return libvirt_qemu.qemuMonitorCommand(self.dom, command, flag)
        except libvirt.libvirtError as exc:
            raise translate(exc, self.ref.name, f"monitor {command.split()[0]}") from exc

    def hex_value(self, command: str) -> int:
        match = _STATUS.search(self.hmp(command))
        if not match:
            raise InfrastructureError(f"{self.ref.name}: monitor {command!r}: unexpected reply")
        return int(match.group(1), 16)


class TypingFlow:
    """One keyboard device of a running domain, watched through the monitor."""

    device = "?"
    limit = 0  # the most one batch may cost (a batch of one chord always goes)

    def __init__(self, monitor: _Monitor) -> None:
        self.monitor = monitor

    def poll(self) -> tuple[int, bool]:
        """(how much may be sent now, as ``cost`` counts; whether the guest has read all)."""
        raise NotImplementedError

    def capacity(self) -> int:
        return self.poll()[0]

    def cost(self, chord: list[str]) -> int:
        raise NotImplementedError

    def reader_cost(self, chord: list[str]) -> int:
        """Events a chord puts in the buffer of each evdev reader in the guest (X, ...)."""
        raise NotImplementedError

    def send(self, chords: list[list[str]]) -> None:
        events = [e for chord in chords for e in chord_events(chord)]
        self.monitor.qmp("input-send-event", {"events": events})


class Ps2Flow(TypingFlow):
    device = "PS/2"
    limit = PS2_BATCH_BYTES

    def poll(self) -> tuple[int, bool]:
        empty = not self.monitor.hex_value("i /b 0x64") & _OBF
        return (PS2_BATCH_BYTES if empty else 0), empty

    def cost(self, chord: list[str]) -> int:
        return ps2_bytes(chord)

    def reader_cost(self, chord: list[str]) -> int:
        return 6 * len(chord)  # MSC_SCAN, KEY and SYN for each press and each release


class VirtioFlow(TypingFlow):
    """The virtio keyboard. ``send`` puts a batch in through ``input-send-event`` (QEMU ends it
    with one SYN); ``sender`` replaces that (the SPICE inputs channel: QEMU then adds a SYN
    to every key event, and the keys reach QEMU after the call, so the events sent are
    counted until the device's used index has passed them)."""

    device = "virtio"
    limit = VIRTIO_WINDOW

    def __init__(
        self,
        monitor: _Monitor,
        path: str,
        sender: Callable[[list[list[str]]], None] | None = None,
    ) -> None:
        super().__init__(monitor)
        self.path = path
        self.sender = sender
        self.expected: int | None = None  # used index once QEMU has every event sent
        self._rings: tuple[int, int, int] | None = None  # avail and used addresses, size

    def state(self) -> tuple[int, int, int]:
        """(the device's used index, free buffers, buffers the guest has not read yet).

        Free = the guest's available index - the device's used index; the guest's driver
        gives every buffer back once it has read it, so ``size - free`` are still unread.
        Both indexes live in guest memory (split ring: ``avail.idx``, ``used.idx``); once the
        ring's addresses are known and the memory agrees with QEMU's own used index, one
        ``xp`` of the guest memory from one to the other reads both (a monitor call less)."""
        if self._rings is not None:
            avail, used = self._read_indexes(*self._rings[:2])
            size = self._rings[2]
        else:
            status = self.monitor.qmp(
                "x-query-virtio-queue-status", {"path": self.path, "queue": 0}
            )
            ring_avail, ring_used = int(status["vring-avail"]), int(status["vring-used"])
            used, size = int(status["used-idx"]), int(status["vring-num"])
            avail = self.monitor.hex_value(f"xp /1hx {ring_avail + 2:#x}")
            if 0 < ring_used - ring_avail <= 1024 and (ring_used - ring_avail) % 2 == 0:
                seen_avail, seen_used = self._read_indexes(ring_avail, ring_used)
                if seen_used == used and seen_avail == avail:
                    self._rings = (ring_avail, ring_used, size)
        free = min((avail - used) & 0xFFFF, size)
        return used, free, size - free

    def _read_indexes(self, ring_avail: int, ring_used: int) -> tuple[int, int]:
        """``avail.idx`` and ``used.idx`` from one read of guest memory."""
        count = (ring_used - ring_avail) // 2 + 2
        reply = self.monitor.hmp(f"xp /{count}hx {ring_avail:#x}")
        words = [
            int(token, 16)
            for line in reply.splitlines()
            if ":" in line
            for token in line.split(":", 1)[1].split()
        ]
        if len(words) != count:
            raise InfrastructureError(f"{self.monitor.ref.name}: monitor xp: unexpected reply")
        return words[1], words[-1]

    def poll(self) -> tuple[int, bool]:
        used, free, unread = self.state()
        behind = 0
        if self.sender is not None:
            if self.expected is None:
                self.expected = used
            behind = (self.expected - used) & 0xFFFF  # sent, not in the queue yet
            if behind >= 0x8000:  # more went in than ours (another sender): none of ours due
                behind, self.expected = 0, used
        room = min(free - VIRTIO_MARGIN, VIRTIO_WINDOW - unread) - behind
        return max(0, room), unread == 0 and behind == 0

    def cost(self, chord: list[str]) -> int:
        if self.sender is not None:
            return 4 * len(chord)  # press and release, each with its SYN
        return 2 * len(chord) + 1  # each press and release; the batch's SYN counted per chord

    def reader_cost(self, chord: list[str]) -> int:
        return self.cost(chord)

    def send(self, chords: list[list[str]]) -> None:
        if self.sender is None:
            super().send(chords)
            return
        if self.expected is None:
            self.expected = self.state()[0]
        self.sender(chords)
        self.expected = (self.expected + sum(self.cost(c) for c in chords)) & 0xFFFF


def type_text(
    flow: TypingFlow,
    chords: list[list[str]],
    interval: float,
    cancel: CancelToken,
    settle: Callable[[], None] | None = None,
) -> None:
    """Send every chord, batch by batch, as the guest's keyboard device takes them; return once
    the guest has read the last one. ``interval`` > 0: one chord per batch, at least that far
    apart.

    The device tells when the guest's kernel has read the keys, not when the programs reading
    them (X, a recorder) have: a kernel that takes keys while those programs are starved of
    CPU fills their buffers (64 events each). ``settle`` (the guest agent's ping: a program of
    the guest has run after the keys were read) is called, once the device is drained,
    whenever ``READER_WINDOW`` events went in since the last one."""
    i = unacked = 0
    progress, last_sent, pause, seen = time.monotonic(), 0.0, 0.0, None
    known: tuple[int, bool] | None = None  # a poll still true (nothing was sent since)
    while True:
        cancel.raise_if_cancelled()
        room, drained = known or flow.poll()
        known = None
        now = time.monotonic()
        if (room, drained) != seen:
            seen, progress = (room, drained), now
        due = last_sent + interval if interval > 0 and last_sent else now
        if i == len(chords):
            if drained:
                return
        elif (
            settle is not None
            and unacked
            and unacked + flow.reader_cost(chords[i]) > (READER_WINDOW)
        ):
            if drained:
                settle()
                unacked, progress, pause = 0, time.monotonic(), 0.0
                known = (room, drained)  # the device can only have drained further
                continue
        elif room >= flow.cost(chords[i]) and now >= due:
            batch, spent, burst = [], 0, 0
            room = min(room, flow.limit)
            while i < len(chords):
                cost, readers = flow.cost(chords[i]), flow.reader_cost(chords[i])
                over = burst + readers > READER_WINDOW or (
                    settle is not None and unacked + readers > READER_WINDOW
                )
                if batch and (spent + cost > room or over):
                    break
                batch.append(chords[i])
                spent, burst, unacked, i = spent + cost, burst + readers, unacked + readers, i + 1
                if interval > 0:
                    break
            flow.send(batch)
            last_sent = progress = time.monotonic()
            pause = 0.0
            continue
        if now - progress > STALL_TIMEOUT:
            raise OperationTimeout(
                f"{flow.monitor.ref.name}: the guest took no key for {STALL_TIMEOUT:.0f}s "
                f"({flow.device} keyboard); {i} of {len(chords)} characters sent"
            )
        pause = min(0.02, pause * 2 or 0.001)  # the guest is busy: back off a little
        cancel.wait(max(pause, due - now))


def detect(
    ref: DomainRef, sender: Callable[[list[list[str]]], None] | None = None
) -> TypingFlow | None:
    """The flow for the keyboard QEMU sends keys to, or None when it cannot be watched.
    ``sender``: keys go in another way (SPICE); only a virtio keyboard can be watched then."""
    monitor = _Monitor(ref, ref.running())  # a domain that is not running fails here
    try:
        for device in monitor.qmp("x-query-virtio") or []:
            path = device.get("path", "")
            if device.get("name") != "virtio-input":
                continue
            if monitor.qmp("qom-get", {"path": path, "property": "type"}) != (
                "virtio-keyboard-device"
            ):
                continue
            status = monitor.qmp("x-query-virtio-status", {"path": path})
            ready = any("DRIVER_OK" in s for s in status.get("status", {}).get("statuses", []))
            if ready:
                flow: TypingFlow = VirtioFlow(monitor, path, sender)
                flow.capacity()  # the queue and guest memory can be read
                return flow
        if sender is not None:
            return None  # PS/2 bytes cannot be counted as they arrive from another sender
        flow = Ps2Flow(monitor)
        flow.capacity()
        return flow
    except (InfrastructureError, KeyError, TypeError, ValueError, AttributeError):
        return None


IDLE_WAIT = 0.5  # seconds a settle waits for the guest to be as idle as before typing
LOADAVG = "/proc/loadavg"  # "... R/T last-pid": R tasks runnable now (the reader among them)


class AgentSettle:
    """``settle`` for ``type_text``, through the guest agent: wait until the programs woken by
    the keys (X and its input thread, the terminal) have had their turn.

    An agent that answers proves only that the agent ran, not that X did. X starved of CPU
    (a crowded host, a TCG guest) can lose keys the kernel has read (its evdev buffer holds
    64 events, its own queue is bounded too): CI once lost 11 characters in the middle of a
    line typed over SPICE. A Linux guest says how many of its tasks are runnable
    (``/proc/loadavg``, read through one kept file handle: a seek and a read per settle);
    the settle waits, at most ``IDLE_WAIT``, until only the reader is runnable. A guest with
    a busy program of its own raises that floor when a wait runs out. Elsewhere (no
    ``/proc``) it is a ping; without an answering agent, nothing: the device's flow control
    alone."""

    def __init__(self, ref: DomainRef) -> None:
        from .qga import GuestAgent

        self.agent = GuestAgent(ref, timeout=10)
        self.answering = True
        self.handle: int | None = None
        self.floor: int | None = None  # runnable tasks of the idle guest, the reader included

    def __call__(self) -> None:
        if not self.answering:
            return
        try:
            if self.floor is None:
                self._open()
            if self.handle is None:
                self.agent.ping()
                return
            deadline, lowest = time.monotonic() + IDLE_WAIT, None
            while True:
                runnable = self._runnable()
                if runnable <= self.floor:
                    return
                lowest = runnable if lowest is None else min(lowest, runnable)
                if time.monotonic() >= deadline:
                    self.floor = lowest  # a program of the guest's own keeps a CPU busy
                    return
                time.sleep(0.002)
        except InfrastructureError:
            self.answering = False

    def _open(self) -> None:
        self.floor = 1  # the reader itself; raised when the guest never gets below it
        try:
            self.handle = self.agent.command("guest-file-open", {"path": LOADAVG, "mode": "r"})
        except ProtocolError:
            self.handle = None  # the agent answered, there is no /proc here: a ping settles

    def _runnable(self) -> int:
        import base64

        self.agent.command("guest-file-seek", {"handle": self.handle, "offset": 0, "whence": 0})
        reply = self.agent.command("guest-file-read", {"handle": self.handle, "count": 256})
        fields = base64.b64decode(reply.get("buf-b64", "")).split()
        try:
            return int(fields[3].split(b"/")[0])
        except (IndexError, ValueError) as exc:
            raise InfrastructureError(f"{LOADAVG}: unexpected text") from exc

    def close(self) -> None:
        handle, self.handle = self.handle, None
        if handle is not None and self.answering:
            try:
                self.agent.command("guest-file-close", {"handle": handle})
            except InfrastructureError:
                pass


def agent_settle(ref: DomainRef) -> AgentSettle:
    """The ``settle`` of ``type_text`` for a guest (``AgentSettle``); close it after typing."""
    return AgentSettle(ref)
