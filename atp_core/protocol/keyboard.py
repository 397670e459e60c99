"""Keyboard input: key names and chords, and text typed key by key with correct Shift."""

from __future__ import annotations

import re
import time

import libvirt

from atp_core.cancel import NEVER, CancelToken
from atp_core.errors import InvalidInput

from . import keyboard_flow
from .domain import DomainRef
from .keymap import ALIASES, QCODE_TO_LINUX, US_LAYOUT

DEFAULT_HOLD_MS = 10  # send_key: how long a key or chord stays down
# send_text: each typed key (QEMU plays a character in 2-4 holds). 3 ms gives ~53 characters/s
# but lost keys on a crowded host (the desktop guest's X and a starved TCG vCPU drain the
# 16-byte PS/2 buffer late): exactness first, so typed keys keep send_key's hold.
TEXT_HOLD_MS = DEFAULT_HOLD_MS
DEFAULT_INTERVAL_MS = 10


def normalize_key(name: str) -> str:
    """A key name as its qcode (``Enter`` -> ``ret``, ``win`` -> ``meta_l``), or InvalidInput."""
    if not isinstance(name, str) or not name:
        raise InvalidInput(f"key {name!r}: expected a key name such as 'ret', 'a', 'ctrl'")
    key = name if len(name) == 1 else name.strip().lower()
    key = ALIASES.get(key, key)
    if len(key) == 1 and key.isalpha():
        key = key.lower()
    if key.startswith("key_") and key[4:] in QCODE_TO_LINUX:
        key = key[4:]
    if key not in QCODE_TO_LINUX:
        raise InvalidInput(
            f"unknown key {name!r}; use a qcode name (a-z, 0-9, ret, esc, tab, spc, f1-f12, "
            "up/down/left/right, ctrl, shift, alt, meta_l, delete, ...) or an alias "
            "(enter, escape, space, win, del, pageup, ...)"
        )
    return key


def parse_key(key: str | list[str]) -> list[str]:
    """One chord as qcodes: ``"ctrl+alt+del"``, ``"ctrl-c"``, ``["ctrl", "c"]``, ``"ret"``."""
    if isinstance(key, list | tuple):
        parts = [str(k) for k in key]
    elif isinstance(key, str):
        if len(key) == 1:
            parts = [key]
        else:
            parts = [p for p in re.split(r"(?<=.)[+-](?=.)", key) if p != ""]
    else:
        raise InvalidInput(f"key {key!r}: expected a string or a list of key names")
    if not parts:
        raise InvalidInput("key: empty chord")
    return [normalize_key(p) for p in parts]


def validate_text(text: str) -> None:
    """Raise InvalidInput naming the first character the US layout cannot type."""
    for index, ch in enumerate(text):
        if ch not in US_LAYOUT:
            raise InvalidInput(
                f"character {ch!r} (U+{ord(ch):04X}) at position {index} cannot be typed on a "
                "US keyboard; allowed: printable ASCII, newline and tab"
            )


def text_to_chords(text: str) -> list[list[str]]:
    validate_text(text)
    chords = []
    for ch in text:
        qcode, shift = US_LAYOUT[ch]
        chords.append(["shift", qcode] if shift else [qcode])
    return chords


QEMU_DEFAULT_HOLD_MS = 100  # what QEMU uses when libvirt passes no hold time (hold 0)
DELAY_SLACK_MS = 1  # QEMU's input timer runs in whole ms, a little late: allowed per delay


def chord_duration(keys: int, hold_ms: int) -> float:
    """Seconds QEMU takes (at most) to play one ``send-key`` chord to the guest.

    QEMU queues a delay of ``hold`` after every press and after every release, so a chord of
    ``keys`` keys occupies its keyboard queue for ``2 * keys * hold``; its timer is set in
    whole milliseconds and fires a little late, hence ``DELAY_SLACK_MS`` per delay, so that the
    model is never shorter than the real playback (a model that runs ahead would let QEMU's
    queue grow chord by chord). The call itself returns at once; QEMU drops key events once
    that queue holds 1024 entries, so a sender that does not wait loses keys after ~150
    characters of sustained typing.
    """
    return 2 * keys * ((hold_ms or QEMU_DEFAULT_HOLD_MS) + DELAY_SLACK_MS) / 1000


class Keyboard:
    """Keys go through libvirt ``virDomainSendKey`` (Linux key codes): press all, hold, release.

    Every chord waits until QEMU has played the previous one (see ``chord_duration``), so keys
    are never dropped by QEMU's input queue and ``send_text`` returns when the last key has
    reached the guest's keyboard. ``send_text`` holds typed keys ``TEXT_HOLD_MS`` and measures
    the interval from the previous send (the libvirt round trip inside it):
    ``bench/p2_typing.py``; 10 ms holds with the interval after the reply gave 29/s.
    """

    def __init__(self, domain: DomainRef) -> None:
        self.domain = domain
        self._busy_until = 0.0
        self._last_sent = 0.0

    def _idle_in(self) -> float:
        """Seconds until QEMU has played every chord sent so far."""
        return max(0.0, self._busy_until - time.monotonic())

    def _send(self, qcodes: list[str], hold_ms: int) -> None:
        codes = [QCODE_TO_LINUX[q] for q in qcodes]
        if self._idle_in():
            time.sleep(self._idle_in())
        self._last_sent = sent = time.monotonic()
        self.domain.call(
            "send key",
            lambda d: d.sendKey(libvirt.VIR_KEYCODE_SET_LINUX, hold_ms, codes, len(codes), 0),
        )
        # QEMU starts playing while the call is under way (the first press goes out at once),
        # so the chord is done ``chord_duration`` after it was sent, not after the reply came
        # back. If QEMU took it late, the next chord waits in its queue behind the rest of
        # this one: never more than a chord or two, far from the 1024 entries where it drops.
        self._busy_until = sent + chord_duration(len(codes), hold_ms)

    def _wait_next(self, interval: float, cancel: CancelToken) -> None:
        """Until QEMU is idle and ``interval`` has passed since the previous chord was sent."""
        due = max(self._busy_until, self._last_sent + interval)
        cancel.wait(max(0.0, due - time.monotonic()))

    def wait_idle(self, cancel: CancelToken | None = None) -> None:
        """Wait until QEMU has delivered every key sent so far."""
        (cancel or NEVER).wait(self._idle_in())

    def send_key(self, key: str | list[str], hold_ms: int | None = None) -> None:
        """Press one key or chord and release it."""
        self._send(parse_key(key), DEFAULT_HOLD_MS if hold_ms is None else hold_ms)

    def send_keys(self, keys: list[str | list[str]], interval_ms: int | None = None) -> None:
        interval = (DEFAULT_INTERVAL_MS if interval_ms is None else interval_ms) / 1000
        for i, key in enumerate(keys):
            if i:
                self._wait_next(interval, NEVER)
            self.send_key(key)

    def send_text(
        self,
        text: str,
        interval_ms: int | None = None,
        hold_ms: int | None = None,
        cancel: CancelToken | None = None,
    ) -> None:
        """Type ``text`` key by key (Shift where the US layout needs it); returns once the last
        key is in the guest's keyboard device.

        Without ``hold_ms``: flow-controlled (``keyboard_flow``): batches of keys go in through
        the monitor as soon as the guest has read the previous ones, so the rate is what the
        guest takes and no key is lost under load; ``interval_ms`` > 0 then sends one character
        at a time, at least that far apart. With ``hold_ms`` (or where the monitor cannot be
        watched): one ``sendKey`` chord per character, each key held ``hold_ms`` (default
        ``TEXT_HOLD_MS``), ``interval_ms`` the least time from one send to the next; the
        guest's keyboard buffer (16 bytes on PS/2) is then not watched, so a guest starved of
        CPU can lose keys when the holds are short."""
        cancel = cancel or NEVER
        chords = text_to_chords(text)
        if hold_ms is None and chords:
            flow = keyboard_flow.detect(self.domain)
            if flow is not None:
                self.wait_idle(cancel)  # a chord sent before may still be playing in QEMU
                settle = keyboard_flow.agent_settle(self.domain)
                try:
                    keyboard_flow.type_text(flow, chords, (interval_ms or 0) / 1000, cancel, settle)
                finally:
                    settle.close()
                return
        interval = (DEFAULT_INTERVAL_MS if interval_ms is None else interval_ms) / 1000
        hold = TEXT_HOLD_MS if hold_ms is None else hold_ms
        for i, chord in enumerate(chords):
            if i:
                self._wait_next(interval, cancel)
            self._send(chord, hold)
        self.wait_idle(cancel)
