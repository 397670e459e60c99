"""Closed-loop input checks: read back, through the agent, the events the guest kernel saw.

The test guest records every evdev device to ``/tmp/eventN.bin`` (``struct input_event``,
24 bytes on x86_64) and lists the devices in ``/tmp/input-devices.txt``. A ``mark()`` notes how
long each record is now; ``*_since(mark)`` decodes only what arrived after it.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field

from atp_core.errors import InfrastructureError, ProtocolError

from .keymap import LINUX_TO_CHARS, LINUX_TO_QCODE, MODIFIERS
from .qga import GuestAgent

EVENT = struct.Struct("<qqHHi")  # tv_sec, tv_usec, type, code, value
EV_SYN, EV_KEY, EV_REL, EV_ABS = 0x00, 0x01, 0x02, 0x03
REL_X, REL_Y, REL_WHEEL = 0x00, 0x01, 0x08
ABS_X, ABS_Y = 0x00, 0x01
BUTTONS = {0x110: "left", 0x111: "right", 0x112: "middle"}
DEVICE_LIST = "/tmp/input-devices.txt"
ABS_LOOKBACK = 240 * EVENT.size  # bytes read back per step when looking for an old position


@dataclass(frozen=True)
class InputEvent:
    type: int
    code: int
    value: int


@dataclass(frozen=True)
class KeyEvent:
    code: int
    name: str
    value: int  # 1 press, 0 release, 2 autorepeat


@dataclass
class MouseEvents:
    """Mouse activity summed over a period, from every pointer device."""

    rel_x: int = 0
    rel_y: int = 0
    wheel: int = 0
    abs_positions: list[tuple[int, int]] = field(default_factory=list)
    button_presses: list[str] = field(default_factory=list)
    button_releases: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class InputMark:
    offsets: dict[str, int]


def parse_events(raw: bytes) -> list[InputEvent]:
    usable = len(raw) - len(raw) % EVENT.size
    records = (EVENT.unpack_from(raw, i) for i in range(0, usable, EVENT.size))
    return [InputEvent(t, c, v) for _sec, _usec, t, c, v in records]


def typed_text(events: list[KeyEvent]) -> str:
    """Reconstruct US-layout text from key presses (Shift-aware; Enter -> newline)."""
    shift = 0
    out = []
    for ev in events:
        if ev.name in ("shift", "shift_r"):
            shift += 1 if ev.value == 1 else (-1 if ev.value == 0 else 0)
            shift = max(shift, 0)
            continue
        if ev.value != 1:
            continue
        chars = LINUX_TO_CHARS.get(ev.code)
        if chars:
            out.append(chars[1] if shift and chars[1] else chars[0])
    return "".join(out)


class InputLog:
    def __init__(self, agent: GuestAgent) -> None:
        self.agent = agent
        self._devices: dict[str, str] | None = None

    def devices(self) -> dict[str, str]:
        """``{"event0": "AT Translated Set 2 keyboard", ...}`` from the guest's device list."""
        if self._devices is None:
            try:
                text = self.agent.file_read(DEVICE_LIST).decode(errors="replace")
            except ProtocolError as exc:
                raise InfrastructureError(
                    f"{self.agent.domain.name}: no input recorder in this guest ({exc})"
                ) from exc
            devices = {}
            for block in text.split("\n\n"):
                name = re.search(r'N: Name="([^"]*)"', block)
                handler = re.search(r"\b(event\d+)\b", block)
                if name and handler:
                    devices[handler.group(1)] = name.group(1)
            self._devices = devices
        return self._devices

    def _kind(self, device: str) -> str:
        name = self.devices().get(device, "").lower()
        if "keyboard" in name:
            return "keyboard"
        if "tablet" in name or "mouse" in name:
            return "pointer"
        return "other"

    def mark(self) -> InputMark:
        return InputMark(
            {dev: self.agent.file_size(f"/tmp/{dev}.bin") for dev in sorted(self.devices())}
        )

    def events_since(self, mark: InputMark, kind: str) -> list[InputEvent]:
        events: list[InputEvent] = []
        for dev in sorted(self.devices()):
            if self._kind(dev) != kind:
                continue
            raw = self.agent.file_read(f"/tmp/{dev}.bin", offset=mark.offsets.get(dev, 0))
            events.extend(parse_events(raw))
        return events

    def key_events_since(self, mark: InputMark) -> list[KeyEvent]:
        return [
            KeyEvent(e.code, LINUX_TO_QCODE.get(e.code, f"code{e.code}"), e.value)
            for e in self.events_since(mark, "keyboard")
            if e.type == EV_KEY
        ]

    def typed_text_since(self, mark: InputMark) -> str:
        return typed_text(self.key_events_since(mark))

    def pressed_keys_since(self, mark: InputMark) -> list[str]:
        """Key names in press order; a chord shows as ``ctrl+alt+delete``."""
        result: list[str] = []
        held: list[str] = []
        for ev in self.key_events_since(mark):
            if ev.value == 1:
                if ev.name in MODIFIERS:
                    held.append(ev.name)
                else:
                    result.append("+".join([*held, ev.name]))
            elif ev.value == 0 and ev.name in held:
                held.remove(ev.name)
        return result

    def _last_abs_before(self, device: str, offset: int) -> tuple[int | None, int | None]:
        """The last ABS_X/ABS_Y a device reported before ``offset`` (the kernel sends an axis
        only when it changes, so a move along one axis needs the other one from earlier)."""
        x = y = None
        end = offset - offset % EVENT.size
        while end > 0 and (x is None or y is None):
            start = max(0, end - ABS_LOOKBACK)
            raw = self.agent.file_read(f"/tmp/{device}.bin", offset=start, size=end - start)
            for ev in reversed(parse_events(raw)):
                if ev.type == EV_ABS and ev.code == ABS_X and x is None:
                    x = ev.value
                elif ev.type == EV_ABS and ev.code == ABS_Y and y is None:
                    y = ev.value
            end = start
        return x, y

    def mouse_events_since(self, mark: InputMark) -> MouseEvents:
        """Pointer activity after ``mark`` from every pointer device, in device order."""
        summary = MouseEvents()
        for dev in sorted(self.devices()):
            if self._kind(dev) != "pointer":
                continue
            offset = mark.offsets.get(dev, 0)
            raw = self.agent.file_read(f"/tmp/{dev}.bin", offset=offset)
            self._summarize(dev, offset, parse_events(raw), summary)
        return summary

    def _summarize(
        self, dev: str, offset: int, events: list[InputEvent], summary: MouseEvents
    ) -> None:
        x = y = None
        moved = False
        for ev in events:
            if ev.type == EV_SYN:
                if moved and (x is None or y is None):
                    old_x, old_y = self._last_abs_before(dev, offset)
                    x = old_x if x is None else x
                    y = old_y if y is None else y
                if moved and x is not None and y is not None:
                    summary.abs_positions.append((x, y))
                moved = False
                continue
            if ev.type == EV_REL:
                if ev.code == REL_X:
                    summary.rel_x += ev.value
                elif ev.code == REL_Y:
                    summary.rel_y += ev.value
                elif ev.code == REL_WHEEL:
                    summary.wheel += ev.value
            elif ev.type == EV_ABS:
                if ev.code == ABS_X:
                    x, moved = ev.value, True
                elif ev.code == ABS_Y:
                    y, moved = ev.value, True
            elif ev.type == EV_KEY and ev.code in BUTTONS:
                target = summary.button_presses if ev.value == 1 else summary.button_releases
                if ev.value in (0, 1):
                    target.append(BUTTONS[ev.code])
