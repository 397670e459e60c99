"""A headless SPICE client: the VM's screen and its keyboard and mouse over the remote display.

spice-gtk's GLib client library (Debian's ``gir1.2-spiceclientglib-2.0``) through PyGObject.
Every spice-gtk object lives on one GLib main loop that runs in its own daemon thread (shared by
all clients of the process); the engine's threads only post work to it and wait on their own
events with deadlines, so a stuck SPICE peer never blocks them. The display channel's pixels are
copied, region by region as they are invalidated, into a frame buffer the client owns, so
``frame()`` can be read from any thread; each update is stamped with the client's
``time.monotonic()`` when it arrived.

Traps of spice-gtk 0.42 through GI that this module works around: ``Session.connect`` and
``Channel.connect`` shadow ``GObject.connect`` (signals are hooked with
``GObject.Object.connect``); secondary channels are not connected automatically; the
``display_get_primary`` binding reads a shifted struct (the pointer from
``display-primary-create`` is used instead); input sent before the inputs channel is open is lost.
"""

from __future__ import annotations

import ctypes
import io
import threading
import time
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlparse

import numpy as np
from PIL import Image

from atp_core.cancel import NEVER, CancelToken
from atp_core.errors import InvalidInput, OperationTimeout, SpiceUnavailable

from . import keyboard_flow
from .keyboard import parse_key, text_to_chords
from .keymap import QCODE_TO_LINUX
from .mouse import MouseGestures

DEFAULT_CONNECT_TIMEOUT = 15.0
DEFAULT_TEXT_INTERVAL_MS = 16  # between two characters of send_text (~58 characters/s)
DEFAULT_HOLD_MS = 10
UPDATE_HISTORY = 8192
INPUT_HISTORY = 4096

# Linux key codes 1..88 are PC XT set-1 scancodes; the E0-prefixed keys are 0x100 | code.
_EXTENDED = {
    96: 0x1C, 97: 0x1D, 98: 0x35, 99: 0x37, 100: 0x38, 102: 0x47, 103: 0x48, 104: 0x49,
    105: 0x4B, 106: 0x4D, 107: 0x4F, 108: 0x50, 109: 0x51, 110: 0x52, 111: 0x53, 119: 0x45,
    125: 0x5B, 126: 0x5C, 127: 0x5D,
}  # fmt: skip
# SPICE mouse buttons and their bits in the button state mask (spice-protocol enums)
_BUTTONS = {"left": (1, 1), "middle": (2, 2), "right": (3, 4), "wheel-up": (4, 8)}
_BUTTONS["wheel-down"] = (5, 16)
BUTTON_NAMES = ("left", "right", "middle")
_MOUSE_MODE_CLIENT = 2


def scancode(qcode: str) -> int:
    """The SPICE (XT set 1, 0x100 for the E0 prefix) scancode of a qcode key name."""
    code = QCODE_TO_LINUX[qcode]
    if code in _EXTENDED:
        return 0x100 | _EXTENDED[code]
    if code > 88:
        raise InvalidInput(f"key {qcode!r} has no SPICE scancode")
    return code


@dataclass(frozen=True)
class SpiceAddress:
    """Where a VM's SPICE server listens; the ticket is never shown."""

    host: str
    port: int
    ticket: str | None = field(default=None, repr=False)

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def spice_address(ref) -> SpiceAddress:
    """The SPICE address, port and ticket of a running domain, from its live (secure) XML.

    ``ref`` is a ``DomainRef``. A listen address of ``0.0.0.0``/``::`` (or none) means the
    host of the libvirt connection (127.0.0.1 for a local one).
    """
    import libvirt

    dom = ref.running()
    xml = ET.fromstring(
        ref.call("read XML", lambda d: d.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE), running=False)
    )
    graphics = xml.find("devices/graphics[@type='spice']")
    if graphics is None:
        kinds = [g.get("type") for g in xml.findall("devices/graphics")]
        has = ", ".join(kinds) if kinds else "no graphics at all"
        raise SpiceUnavailable(f"domain {ref.name!r} has no SPICE graphics (it has: {has})")
    port = int(graphics.get("port", "-1") or -1)
    if port <= 0:
        if graphics.get("tlsPort") not in (None, "-1"):
            raise SpiceUnavailable(
                f"domain {ref.name!r}: SPICE listens on a TLS port only; plain SPICE is needed"
            )
        raise SpiceUnavailable(f"domain {ref.name!r}: SPICE graphics have no port yet")
    listen = graphics.get("listen") or ""
    for child in graphics.findall("listen"):
        listen = listen or child.get("address") or ""
    if listen in ("", "0.0.0.0", "::"):
        try:
            uri = dom.connect().getURI()
        except libvirt.libvirtError:
            uri = ""
        listen = urlparse(uri).hostname or "127.0.0.1"
    return SpiceAddress(listen, port, graphics.get("passwd"))


class _GLibLoop:
    """The one GLib main loop of the process, in a daemon thread; spice-gtk lives there."""

    _instance: _GLibLoop | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        import gi

        gi.require_version("SpiceClientGLib", "2.0")
        from gi.repository import GLib

        self.GLib = GLib
        self.loop = GLib.MainLoop()
        self.thread = threading.Thread(target=self.loop.run, name="atp-spice-glib", daemon=True)
        self.thread.start()

    @classmethod
    def get(cls) -> _GLibLoop:
        with cls._lock:
            if cls._instance is None:
                try:
                    cls._instance = cls()
                except (ImportError, ValueError) as exc:
                    raise SpiceUnavailable(
                        "the SPICE client library is not installed (PyGObject and Debian's "
                        f"gir1.2-spiceclientglib-2.0): {exc}"
                    ) from exc
            return cls._instance

    def in_loop(self) -> bool:
        return threading.current_thread() is self.thread

    def post(self, fn: Callable[[], object]) -> None:
        """Run ``fn`` on the loop, in posting order; do not wait."""

        def run():
            fn()
            return False

        self.GLib.idle_add(run)

    def call(self, fn: Callable[[], object], timeout: float, what: str):
        """Run ``fn`` on the loop and return its result (or raise its error) within ``timeout``."""
        if self.in_loop():
            return fn()
        done = threading.Event()
        box: dict = {}

        def run():
            try:
                box["value"] = fn()
            except BaseException as exc:  # handed to the caller
                box["error"] = exc
            done.set()
            return False

        self.GLib.idle_add(run)
        if not done.wait(timeout):
            raise OperationTimeout(f"SPICE: {what} did not run within {timeout:.0f}s")
        if "error" in box:
            raise box["error"]
        return box.get("value")


@dataclass(frozen=True)
class Update:
    """One display update: the region the server redrew, when the client had it (monotonic)."""

    seq: int
    time: float
    x: int
    y: int
    width: int
    height: int

    def intersects(self, region: tuple[int, int, int, int] | None) -> bool:
        if region is None:
            return True
        rx, ry, rw, rh = region
        return (
            self.x < rx + rw
            and rx < self.x + self.width
            and self.y < ry + rh
            and ry < self.y + self.height
        )


@dataclass(frozen=True)
class SentInput:
    """One input event as it left the client (monotonic time, same clock as ``Update.time``).

    ``kind``: ``key_down``, ``key_up``, ``button_down``, ``button_up``, ``move`` (absolute) or
    ``motion`` (relative)."""

    time: float
    kind: str


@dataclass
class Frame:
    """A copy of the screen: RGB pixels (H, W, 3), the time and number of the last update in it."""

    pixels: np.ndarray
    time: float
    seq: int

    @property
    def size(self) -> tuple[int, int]:
        return self.pixels.shape[1], self.pixels.shape[0]

    def image(self) -> Image.Image:
        return Image.fromarray(self.pixels, "RGB")

    def png(self) -> bytes:
        out = io.BytesIO()
        self.image().save(out, format="PNG", compress_level=1)
        return out.getvalue()


class _Connection:
    """One spice-gtk session and its channels; lives and dies on the GLib thread."""

    def __init__(self, client: SpiceClient, address: SpiceAddress) -> None:
        from gi.repository import GObject
        from gi.repository import SpiceClientGLib as Spice

        self.Spice = Spice
        self.client = client
        self.address = address
        self.gconnect = GObject.Object.connect
        self.channels: list = []
        self.main = self.display = self.inputs = None
        self.inputs_open = False
        self.marked = False
        self.error: str | None = None
        self.closed = False
        session = self.session = Spice.Session()
        session.props.host = address.host
        session.props.port = str(address.port)
        if address.ticket:
            session.props.password = address.ticket
        session.props.enable_usbredir = False
        session.props.enable_audio = False
        self.gconnect(session, "channel-new", self._channel_new)
        self.gconnect(session, "disconnected", lambda *_: self._lost("the session was closed"))
        if not session.connect():
            self.error = f"SPICE {address}: the session could not start"

    def _channel_new(self, _session, channel) -> None:
        Spice = self.Spice
        self.channels.append(channel)
        self.gconnect(channel, "channel-event", self._channel_event)
        if isinstance(channel, Spice.MainChannel):
            self.main = channel
            return  # the session connects the main channel itself
        if isinstance(channel, Spice.DisplayChannel):
            if channel.props.channel_id != 0:
                return
            self.display = channel
            self.gconnect(channel, "display-primary-create", self._primary_create)
            self.gconnect(channel, "display-primary-destroy", self._primary_destroy)
            self.gconnect(channel, "display-invalidate", self._invalidate)
            self.gconnect(channel, "display-mark", self._mark)
        elif isinstance(channel, Spice.InputsChannel):
            self.inputs = channel
        else:
            return  # cursor, playback, usbredir...: not needed
        channel.connect()  # spice_channel_connect, not GObject.connect

    def _channel_event(self, channel, event) -> None:
        Spice = self.Spice
        event = Spice.ChannelEvent(event)
        if event == Spice.ChannelEvent.OPENED:
            if channel is self.inputs:
                self.inputs_open = True
                self.client._changed()
            return
        kind = type(channel).__name__.replace("Channel", "").lower() or "main"
        if event == Spice.ChannelEvent.ERROR_AUTH:
            self._lost(f"SPICE {self.address}: the ticket was refused (wrong ticket)")
        elif event == Spice.ChannelEvent.ERROR_CONNECT:
            self._lost(f"SPICE {self.address}: cannot connect (port unreachable)")
        elif event in (Spice.ChannelEvent.ERROR_TLS, Spice.ChannelEvent.ERROR_LINK):
            nick = event.value_nick
            self._lost(f"SPICE {self.address}: the {kind} channel's link failed ({nick})")
        elif event in (Spice.ChannelEvent.ERROR_IO, Spice.ChannelEvent.CLOSED) and any(
            channel is c for c in (self.main, self.display, self.inputs)
        ):
            self._lost(f"SPICE {self.address}: the {kind} channel was closed")

    def _lost(self, why: str) -> None:
        if self.closed:
            return
        self.error = self.error or why
        self.closed = True
        self.client._connection_lost(self, self.error)
        self.disconnect()

    def disconnect(self) -> None:
        self.closed = True
        try:
            self.session.disconnect()
        except Exception:  # already gone
            pass

    def _primary_create(self, _ch, _fmt, width, height, stride, _shmid, pointer) -> None:
        self.client._primary_create(width, height, stride, pointer)

    def _primary_destroy(self, _ch) -> None:
        self.client._primary_destroy()

    def _invalidate(self, _ch, x, y, width, height) -> None:
        self.client._invalidate(x, y, width, height)

    def _mark(self, _ch, mark) -> None:
        if mark:  # the server has sent the whole surface: the frame is complete
            self.marked = True
            self.client._changed()

    def mouse_mode_is_client(self) -> bool:
        return self.main is not None and self.main.props.mouse_mode == _MOUSE_MODE_CLIENT


class SpiceClient(MouseGestures):
    """A SPICE connection to one VM: its screen (frames, update regions) and its input.

    ``locate`` gives the address to connect to (called again on every reconnect, so a restarted
    QEMU on a new port is found); ``SpiceClient.for_domain(ref)`` reads it from the domain's live
    XML. Every failure is a ``SpiceUnavailable`` / ``OperationTimeout`` with a plain message.
    """

    DRAG_PAUSE = 0.02

    def __init__(
        self,
        locate: Callable[[], SpiceAddress] | SpiceAddress,
        *,
        name: str = "",
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    ) -> None:
        self._locate = locate if callable(locate) else (lambda: locate)
        self.name = name
        self.connect_timeout = connect_timeout
        self._loop = _GLibLoop.get()
        self._cond = threading.Condition()
        self._conn: _Connection | None = None
        self._error: str | None = None
        self._pixels: np.ndarray | None = None  # (H, W, 4) BGRX, owned by the client
        self._source: np.ndarray | None = None  # view on spice-gtk's surface (GLib thread only)
        self._updates: deque[Update] = deque(maxlen=UPDATE_HISTORY)
        self._sent: deque[SentInput] = deque(maxlen=INPUT_HISTORY)
        self._seq = 0
        self._frame_time = 0.0
        self._buttons = 0
        self._closed = False
        self._input_lock = threading.Lock()
        self._ref = None  # the DomainRef, when known: the guest's keyboard can be watched
        self.connects = 0

    @classmethod
    def for_domain(cls, ref, **kwargs) -> SpiceClient:
        """A client for the domain behind a ``DomainRef`` (address and ticket from its XML)."""
        client = cls(lambda: spice_address(ref), name=ref.name, **kwargs)
        client._ref = ref
        return client

    # ---- connection
    def connect(self, timeout: float | None = None) -> SpiceClient:
        """Connect (or reconnect) and wait for the screen and the inputs channel."""
        timeout = self.connect_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        address = self._locate()
        with self._cond:
            self._error = None
            self._pixels = None
        old = self._conn
        if old is not None:
            self._loop.post(old.disconnect)
        conn = self._loop.call(lambda: _Connection(self, address), timeout, "connect")
        with self._cond:
            self._conn = conn
            self.connects += 1
            while True:
                if conn.error:
                    self._error = conn.error
                    break
                if conn.inputs_open and conn.marked and self._pixels is not None:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(min(left, 0.2))
            error = conn.error
            ready = conn.inputs_open and conn.marked and self._pixels is not None
        if error or not ready:
            self._loop.post(conn.disconnect)
            if error:
                raise SpiceUnavailable(error)
            missing = "inputs channel" if conn.marked else "complete first frame"
            raise OperationTimeout(f"SPICE {address}: no {missing} within {timeout:.0f}s")
        return self

    @property
    def connected(self) -> bool:
        conn = self._conn
        return conn is not None and not conn.closed and conn.inputs_open

    def ensure_connected(self) -> None:
        """Reconnect when the connection was lost (guest reboot, QEMU restart)."""
        if self._closed:
            raise SpiceUnavailable(f"SPICE client of {self.name or 'the VM'} is closed")
        if not self.connected:
            self.connect()

    def close(self) -> None:
        self._closed = True
        conn, self._conn = self._conn, None
        if conn is not None:
            self._loop.post(conn.disconnect)
        with self._cond:
            self._cond.notify_all()

    def __enter__(self) -> SpiceClient:
        return self if self.connected else self.connect()

    def __exit__(self, *_exc) -> None:
        self.close()

    # ---- callbacks (GLib thread)
    def _changed(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _connection_lost(self, conn: _Connection, why: str) -> None:
        with self._cond:
            if conn is self._conn:
                self._error = why
            self._cond.notify_all()

    def _primary_create(self, width: int, height: int, stride: int, pointer: int) -> None:
        raw = (ctypes.c_uint8 * (stride * height)).from_address(pointer)
        self._source = np.frombuffer(raw, dtype=np.uint8).reshape(height, stride // 4, 4)
        with self._cond:
            self._pixels = np.array(self._source[:, :width])
        self._invalidate(0, 0, width, height)

    def _primary_destroy(self) -> None:
        self._source = None

    def _invalidate(self, x: int, y: int, width: int, height: int) -> None:
        now = time.monotonic()
        source = self._source
        with self._cond:
            if source is None or self._pixels is None:
                return
            h, w = self._pixels.shape[:2]
            x0, y0 = max(0, x), max(0, y)
            x1, y1 = min(w, x + width), min(h, y + height)
            if x1 > x0 and y1 > y0:
                self._pixels[y0:y1, x0:x1] = source[y0:y1, x0:x1]
            self._seq += 1
            self._frame_time = now
            self._updates.append(Update(self._seq, now, x, y, width, height))
            self._cond.notify_all()

    # ---- screen
    def size(self, max_age: float | None = None) -> tuple[int, int]:
        """(width, height) of the screen (always current: the server announces changes)."""
        self.ensure_connected()
        with self._cond:
            assert self._pixels is not None
            return self._pixels.shape[1], self._pixels.shape[0]

    def frame(self) -> Frame:
        """A copy of the latest screen (RGB), with the time of its last update."""
        self.ensure_connected()
        with self._cond:
            assert self._pixels is not None
            bgrx, seq, t = self._pixels.copy(), self._seq, self._frame_time
        return Frame(bgrx[:, :, 2::-1].copy(), t, seq)

    def image(self) -> Image.Image:
        return self.frame().image()

    def screenshot(self, screen: int = 0) -> bytes:
        """The current screen as PNG bytes (as ``Screen.screenshot`` gives)."""
        if screen != 0:
            raise InvalidInput("SPICE: only the primary screen (0) is captured")
        return self.frame().png()

    @property
    def last_update_time(self) -> float:
        return self._frame_time

    @property
    def update_count(self) -> int:
        return self._seq

    def updates_since(self, after: float) -> list[Update]:
        with self._cond:
            return [u for u in self._updates if u.time > after]

    def inputs_since(self, after: float) -> list[SentInput]:
        """The input events handed to the SPICE inputs channel later than ``after``."""
        with self._cond:
            return [i for i in self._sent if i.time > after]

    def wait_update(
        self,
        after: float | None = None,
        region: tuple[int, int, int, int] | None = None,
        timeout: float = 5.0,
        cancel: CancelToken | None = None,
    ) -> Update:
        """The first update later than ``after`` (monotonic; default now) touching ``region``
        (x, y, w, h); ``OperationTimeout`` when none comes within ``timeout``."""
        cancel = cancel or NEVER
        after = time.monotonic() if after is None else after
        deadline = time.monotonic() + timeout
        self.ensure_connected()
        with self._cond:
            while True:
                for update in self._updates:
                    if update.time > after and update.intersects(region):
                        return update
                if self._error:
                    raise SpiceUnavailable(self._error)
                left = deadline - time.monotonic()
                if left <= 0:
                    where = f" in region {region}" if region else ""
                    raise OperationTimeout(f"SPICE: no display update{where} within {timeout}s")
                cancel.raise_if_cancelled()
                self._cond.wait(min(left, 0.1))

    # ---- input
    def _inputs(self):
        self.ensure_connected()
        conn = self._conn
        assert conn is not None
        return conn

    def _post_input(self, fn: Callable[[object], None], kind: str = "other") -> None:
        conn = self._inputs()

        def run():
            if not conn.closed and conn.inputs is not None:
                sent = SentInput(time.monotonic(), kind)  # stamped as it leaves, on the loop
                fn(conn.inputs)
                with self._cond:
                    self._sent.append(sent)

        self._loop.post(run)

    def _flush(self, timeout: float = 5.0) -> None:
        """Wait until the loop has sent every input posted so far."""
        self._loop.call(lambda: None, timeout, "send input")
        if self._error:
            raise SpiceUnavailable(self._error)

    def key_down(self, key: str) -> None:
        code = scancode(parse_key(key)[0])
        self._post_input(lambda i: i.key_press(code), "key_down")

    def key_up(self, key: str) -> None:
        code = scancode(parse_key(key)[0])
        self._post_input(lambda i: i.key_release(code), "key_up")

    def _chord(self, qcodes: list[str], hold: float) -> None:
        codes = [scancode(q) for q in qcodes]

        def press(inputs):
            for c in codes:
                inputs.key_press(c)

        def release(inputs):
            for c in reversed(codes):
                inputs.key_release(c)

        self._post_input(press, "key_down")
        if hold > 0:
            self._flush()
            time.sleep(hold)
        self._post_input(release, "key_up")

    def send_key(self, key: str | list[str], hold_ms: int | None = None) -> None:
        """Press one key or chord (``"ctrl+alt+del"``) and release it in reverse order."""
        qcodes = parse_key(key)
        with self._input_lock:
            self._chord(qcodes, (DEFAULT_HOLD_MS if hold_ms is None else hold_ms) / 1000)
            self._flush()

    def wait_idle(self, cancel: CancelToken | None = None) -> None:
        """Every key sent so far has left the client (SPICE keys are not queued in QEMU)."""
        self._flush()

    def send_keys(self, keys: list[str | list[str]], interval_ms: int | None = None) -> None:
        interval = (DEFAULT_TEXT_INTERVAL_MS if interval_ms is None else interval_ms) / 1000
        for i, key in enumerate(keys):
            if i:
                time.sleep(interval)
            self.send_key(key)

    def send_text(
        self,
        text: str,
        interval_ms: int | None = None,
        hold_ms: int | None = None,
        cancel: CancelToken | None = None,
    ) -> None:
        """Type ``text`` (US layout, Shift where needed; ``InvalidInput`` for a character it
        cannot type, before anything is sent).

        SPICE has no flow control for keys: QEMU hands them to the guest's keyboard, which
        drops what the guest has not fetched in time. For a client made by ``for_domain``
        whose guest types through a virtio keyboard, the keys go in batches as the guest takes
        them, watched through the monitor (``keyboard_flow.type_text``), and the call
        returns once QEMU has the last one; ``interval_ms`` > 0 then sends one character at a
        time, at least that far apart. Otherwise (or with ``hold_ms``) characters are paced
        ``interval_ms`` apart (default ``DEFAULT_TEXT_INTERVAL_MS``): the guest's PS/2
        keyboard buffers only 16 bytes."""
        cancel = cancel or NEVER
        chords = text_to_chords(text)
        flow = self._text_flow() if hold_ms is None and chords else None
        with self._input_lock:
            if flow is not None:
                settle = keyboard_flow.agent_settle(self._ref)
                try:
                    keyboard_flow.type_text(flow, chords, (interval_ms or 0) / 1000, cancel, settle)
                finally:
                    settle.close()
                return
            interval = (DEFAULT_TEXT_INTERVAL_MS if interval_ms is None else interval_ms) / 1000
            hold = (hold_ms or 0) / 1000
            for i, chord in enumerate(chords):
                if i:
                    cancel.wait(interval)
                    cancel.raise_if_cancelled()
                self._chord(chord, hold)
            self._flush()

    def _text_flow(self) -> keyboard_flow.VirtioFlow | None:
        if self._ref is None:
            return None
        self.ensure_connected()
        flow = keyboard_flow.detect(self._ref, sender=self._send_chords)
        return flow if isinstance(flow, keyboard_flow.VirtioFlow) else None

    def _send_chords(self, chords: list[list[str]]) -> None:
        """Press and release each chord in turn, in one go on the GLib loop, and wait until the
        loop has handed them to the inputs channel."""
        codes = [[scancode(q) for q in chord] for chord in chords]

        def send(inputs):
            for chord in codes:
                for c in chord:
                    inputs.key_press(c)
                for c in reversed(chord):
                    inputs.key_release(c)

        self._post_input(send, "key_down")  # one stamp per batch: when its keys left
        self._flush()

    def _check_mouse(self, x: int, y: int) -> tuple[int, int]:
        conn = self._inputs()
        width, height = self.size()
        if not (0 <= x < width and 0 <= y < height):
            raise InvalidInput(f"mouse position ({x}, {y}) is outside the {width}x{height} screen")
        if not conn.mouse_mode_is_client():
            self._loop.post(lambda: conn.main and conn.main.request_mouse_mode(_MOUSE_MODE_CLIENT))
            self._flush()
            deadline = time.monotonic() + 2
            while not conn.mouse_mode_is_client() and time.monotonic() < deadline:
                time.sleep(0.05)
            if not conn.mouse_mode_is_client():
                raise SpiceUnavailable(
                    f"SPICE {conn.address}: the server is in server mouse mode, so absolute "
                    "positions are ignored (the guest needs a USB tablet driver or spice-vdagent)"
                )
        return int(x), int(y)

    def move(self, x: int, y: int) -> None:
        """Move the pointer to screen pixel (x, y) (client mouse mode: USB tablet)."""
        x, y = self._check_mouse(x, y)
        buttons = self._buttons
        self._post_input(lambda i: i.position(x, y, 0, buttons), "move")
        self._flush()

    def move_relative(self, dx: int, dy: int) -> None:
        buttons = self._buttons
        self._post_input(lambda i: i.motion(int(dx), int(dy), buttons), "motion")
        self._flush()

    def _button(self, button: str, down: bool) -> None:
        if button not in _BUTTONS:
            raise InvalidInput(f"mouse button {button!r}: allowed {', '.join(BUTTON_NAMES)}")
        number, bit = _BUTTONS[button]
        self._buttons = (self._buttons | bit) if down else (self._buttons & ~bit)
        state = self._buttons
        if down:
            self._post_input(lambda i: i.button_press(number, state), "button_down")
        else:
            self._post_input(lambda i: i.button_release(number, state), "button_up")
        self._flush()


__all__ = [
    "Frame",
    "SentInput",
    "SpiceAddress",
    "SpiceClient",
    "SpiceUnavailable",
    "Update",
    "spice_address",
]
