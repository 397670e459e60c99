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
  guest memory) minus the device's used index (``x-query-virtio-queue-status``). A batch uses
  at most that many events, less a margin. QEMU routes keys to the virtio keyboard once its
  driver is ready (it is activated after the PS/2 one), so that is the one watched then.

The rate is what the guest takes (hundreds of characters/s on an idle host) and no key is lost
whatever the load. ``detect`` returns None where the monitor cannot be used this way (not
QEMU, an unknown layout): the caller keeps the paced ``sendKey`` path.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass

import libvirt

from atp_core.cancel import CancelToken
from atp_core.errors import InfrastructureError, OperationTimeout

from .domain import DomainRef, translate
from .keymap import QCODE_TO_LINUX

PS2_BATCH_BYTES = 8  # of the PS/2 keyboard's 16-byte queue (QEMU keeps headroom for replies)
VIRTIO_MARGIN = 4  # event buffers left free in the virtio queue
VIRTIO_BATCH_EVENTS = 32  # at most per input-send-event (one SYN ends the batch)
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
        import libvirt_qemu

        msg: dict = {"execute": command}
        if arguments:
            msg["arguments"] = arguments
        try:
            reply = json.loads(libvirt_qemu.qemuMonitorCommand(self.dom, json.dumps(msg), 0))
        except libvirt.libvirtError as exc:
            raise translate(exc, self.ref.name, f"QMP {command}") from exc
        if "error" in reply:
            raise InfrastructureError(
                f"{self.ref.name}: QMP {command}: {reply['error'].get('desc', reply['error'])}"
            )
        return reply.get("return")

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
    """Flow-controlled typing into one keyboard device of a running domain."""

    device = "?"

    def __init__(self, monitor: _Monitor) -> None:
        self.monitor = monitor

    def capacity(self) -> int:
        """How much may be sent now (bytes or events, as ``cost`` counts); 0: wait."""
        raise NotImplementedError

    def cost(self, chord: list[str]) -> int:
        raise NotImplementedError

    def limit(self) -> int:
        """The most one batch may cost (a batch of one chord is always allowed)."""
        raise NotImplementedError

    def type(self, chords: list[list[str]], interval: float, cancel: CancelToken) -> None:
        """Send every chord, batch by batch as the guest takes them. With ``interval`` > 0
        one chord per batch, at least ``interval`` seconds apart."""
        i = 0
        last_progress = time.monotonic()
        last_sent = 0.0
        pause = 0.0
        while i < len(chords):
            cancel.raise_if_cancelled()
            if interval > 0 and last_sent:
                cancel.wait(max(0.0, last_sent + interval - time.monotonic()))
            room = min(self.capacity(), self.limit())
            if room < self.cost(chords[i]):
                if time.monotonic() - last_progress > STALL_TIMEOUT:
                    raise OperationTimeout(
                        f"{self.monitor.ref.name}: the guest took no key for "
                        f"{STALL_TIMEOUT:.0f}s ({self.device} keyboard); "
                        f"{i} of {len(chords)} characters typed"
                    )
                pause = min(0.02, pause * 2 or 0.001)  # the guest is busy: back off a little
                cancel.wait(pause)
                continue
            pause = 0.0
            events, spent = [], 0
            while i < len(chords) and spent + self.cost(chords[i]) <= room:
                events += chord_events(chords[i])
                spent += self.cost(chords[i])
                i += 1
                if interval > 0:
                    break
            self.monitor.qmp("input-send-event", {"events": events})
            last_sent = last_progress = time.monotonic()


class Ps2Flow(TypingFlow):
    device = "PS/2"

    def capacity(self) -> int:
        status = self.monitor.hex_value("i /b 0x64")
        return 0 if status & _OBF else PS2_BATCH_BYTES

    def cost(self, chord: list[str]) -> int:
        return ps2_bytes(chord)

    def limit(self) -> int:
        return PS2_BATCH_BYTES


class VirtioFlow(TypingFlow):
    device = "virtio"

    def __init__(self, monitor: _Monitor, path: str) -> None:
        super().__init__(monitor)
        self.path = path

    def capacity(self) -> int:
        status = self.monitor.qmp("x-query-virtio-queue-status", {"path": self.path, "queue": 0})
        avail = self.monitor.hex_value(f"xp /1hx {int(status['vring-avail']) + 2:#x}")
        free = (avail - int(status["used-idx"])) & 0xFFFF
        return max(0, min(free, int(status["vring-num"])) - VIRTIO_MARGIN)

    def cost(self, chord: list[str]) -> int:
        return 2 * len(chord) + 1  # each press and release, and the batch's SYN (counted once
        # per chord: an over-estimate, never an under-estimate)

    def limit(self) -> int:
        return VIRTIO_BATCH_EVENTS


def detect(ref: DomainRef) -> TypingFlow | None:
    """The flow for the keyboard QEMU sends keys to, or None when it cannot be watched."""
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
                flow: TypingFlow = VirtioFlow(monitor, path)
                flow.capacity()  # the queue and guest memory can be read
                return flow
        flow = Ps2Flow(monitor)
        flow.capacity()
        return flow
    except (InfrastructureError, KeyError, TypeError, ValueError, AttributeError):
        return None
