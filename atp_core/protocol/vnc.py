"""A VM's VNC console: where QEMU listens, and the client side of RFB read for a view-only proxy.

The web console (noVNC in the browser, a websocket proxy in the site) relays RFB bytes between
the browser and QEMU's VNC server. The proxy does the RFB handshake with QEMU itself
(``authenticate``: VNC authentication with the domain's password, read from its secure XML, or
security None) and offers the browser a password-less session, so a VNC password never reaches a
browser; a remote host's QEMU listens on the host's address with a password. An operator's
stream passes unchanged; a viewer's goes
through ``ClientStream(view_only=True)``, which parses the client's half of RFB (RFC 6143 plus
the QEMU and noVNC extensions noVNC sends) and drops key, pointer and clipboard messages, so a
view-only console cannot type even with a modified page. A message it does not know ends the
stream (``ProtocolError``) rather than guessing its length.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import urlsplit

from atp_core.errors import DomainNotRunning, ProtocolError, UnsupportedError

LOOPBACK = {"127.0.0.1", "::1", "localhost"}
ANY_ADDRESS = {"", "0.0.0.0", "::"}
SECURITY_NONE = 1
SECURITY_VNC_AUTH = 2

# client message types (RFC 6143 7.5 and the registered extensions)
SET_PIXEL_FORMAT = 0
SET_ENCODINGS = 2
FRAMEBUFFER_UPDATE_REQUEST = 3
KEY_EVENT = 4
POINTER_EVENT = 5
CLIENT_CUT_TEXT = 6
ENABLE_CONTINUOUS_UPDATES = 150
CLIENT_FENCE = 248
XVP = 250
SET_DESKTOP_SIZE = 251
QEMU_CLIENT = 255
QEMU_EXTENDED_KEY = 0
QEMU_AUDIO = 1

INPUT_MESSAGES = {KEY_EVENT, POINTER_EVENT, CLIENT_CUT_TEXT}
MAX_MESSAGE = 1 << 20  # a clipboard text or desktop-size list larger than this ends the stream


@dataclass(frozen=True)
class VncAddress:
    host: str
    port: int


def host_of_uri(uri: str) -> str:
    """The host name of a libvirt URI; ``""`` for a local one (``qemu:///system``)."""
    return urlsplit(uri).hostname or ""


def vnc_address(domain_xml: str, host_uri: str, domain_name: str = "") -> VncAddress:
    """Where to reach the VNC server of a running domain, from its live XML.

    Local hosts: the listen address (loopback when it listens on every address). Remote hosts:
    the listen address, or the URI's host when QEMU listens on every address; a loopback-only
    listener there is refused (the web server cannot reach it; libvirt's own graphics channel,
    virDomainOpenGraphicsFD, passes a file descriptor and works only over a local unix socket).
    """
    name = domain_name or "the domain"
    root = ET.fromstring(domain_xml)
    graphics = root.find("devices/graphics[@type='vnc']")
    if graphics is None:
        kinds = [g.get("type", "?") for g in root.findall("devices/graphics")] or ["none"]
        raise UnsupportedError(
            f"{name} has no VNC graphics device (it has: {', '.join(kinds)}); add "
            "<graphics type='vnc' listen='127.0.0.1' autoport='yes'/> to its domain XML"
        )
    port = graphics.get("port") or ""
    if not port.lstrip("-").isdigit() or int(port) <= 0:
        raise DomainNotRunning(f"{name} is not running (its VNC port is not allocated)")
    listen = graphics.get("listen") or ""
    element = graphics.find("listen[@type='address']")
    if element is not None and element.get("address"):
        listen = element.get("address") or listen
    remote = host_of_uri(host_uri)
    if not remote or remote in LOOPBACK:
        return VncAddress("127.0.0.1" if listen in ANY_ADDRESS else listen, int(port))
    if listen in LOOPBACK:
        raise UnsupportedError(
            f"{name}: QEMU's VNC listens on {listen} of {remote}; a remote host's console "
            "needs it on an address the web server reaches, with a password: <graphics "
            f"type='vnc' listen='<{remote}'s address>' passwd='...'/> (docs/console.md)"
        )
    return VncAddress(remote if listen in ANY_ADDRESS else listen, int(port))


def vnc_password(domain_xml: str) -> str:
    """The VNC password of a domain (``passwd`` of its VNC graphics), ``""`` when it has none.

    libvirt puts it only in the XML read with ``VIR_DOMAIN_XML_SECURE`` (a read-write
    connection): the proxy reads it there and answers QEMU's challenge itself, so the password
    never reaches a browser."""
    graphics = ET.fromstring(domain_xml).find("devices/graphics[@type='vnc']")
    return "" if graphics is None else graphics.get("passwd") or ""


def vnc_auth_response(password: str, challenge: bytes) -> bytes:
    """VNC authentication (RFC 6143 7.2.2): the 16-byte challenge DES-encrypted with the
    password (8 bytes, zero-padded, each byte's bits reversed, as VNC servers expect)."""
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

    if len(challenge) != 16:
        raise ProtocolError(f"VNC challenge of {len(challenge)} bytes (expected 16)")
    key = bytes(int(f"{b:08b}"[::-1], 2) for b in password.encode()[:8].ljust(8, b"\0"))
    encryptor = Cipher(TripleDES(key * 3), modes.ECB()).encryptor()  # 3 equal keys: DES
    return encryptor.update(challenge) + encryptor.finalize()


async def authenticate(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, password: str, timeout: float
) -> None:
    """The client's side of the RFB handshake with QEMU's VNC server, up to a successful
    SecurityResult: VNC authentication with ``password`` when it has one, else security None.
    The proxy then plays a password-less server to the browser
    (``ClientStream(answer_handshake=True)``). ProtocolError when the server refuses."""

    async def read(size: int) -> bytes:
        return await asyncio.wait_for(reader.readexactly(size), timeout)

    try:
        version = await read(12)
        if not version.startswith(b"RFB 003."):
            raise ProtocolError(f"not a VNC server (it said {version[:12]!r})")
        writer.write(b"RFB 003.008\n")
        count = (await read(1))[0]
        if count == 0:
            length = struct.unpack(">I", await read(4))[0]
            reason = (await read(min(length, 1024))).decode(errors="replace")
            raise ProtocolError(f"the VNC server refused the connection: {reason}")
        offered = await read(count)
        if SECURITY_VNC_AUTH in offered and password:
            writer.write(bytes([SECURITY_VNC_AUTH]))
            writer.write(vnc_auth_response(password, await read(16)))
        elif SECURITY_NONE in offered:
            writer.write(bytes([SECURITY_NONE]))
        elif SECURITY_VNC_AUTH in offered:
            raise ProtocolError(
                "QEMU asks for a VNC password and the domain's XML has none (a host-wide "
                "vnc_password in qemu.conf is not read): set passwd on its <graphics>"
            )
        else:
            raise ProtocolError(f"VNC security types {list(offered)}: none the proxy speaks")
        result = struct.unpack(">I", await read(4))[0]
        if result != 0:
            reason = ""
            with contextlib.suppress(asyncio.IncompleteReadError, TimeoutError):
                length = struct.unpack(">I", await read(4))[0]
                reason = (await read(min(length, 1024))).decode(errors="replace")
            raise ProtocolError(
                f"the VNC server refused the password{f': {reason}' if reason else ''}"
            )
    except asyncio.IncompleteReadError:
        raise ProtocolError("the VNC server closed the connection during the handshake") from None
    except TimeoutError:
        raise ProtocolError(
            f"the VNC server did not answer the handshake in {timeout:g} s"
        ) from None


class ClientStream:
    """The browser-to-QEMU half of an RFB connection, message by message.

    ``feed(data)`` returns the bytes to forward. Handshake: the 12-byte version, the chosen
    security type (1 byte; 16 more for VNC authentication), the 1-byte ClientInit, which is
    forced to *shared* so that a second console never disconnects the first. Then client
    messages; with ``view_only`` the input ones are dropped. ``input_messages`` counts the
    input messages seen (forwarded or not).
    """

    def __init__(self, view_only: bool = False, answer_handshake: bool = False) -> None:
        self.view_only = view_only
        self.answer_handshake = answer_handshake
        self.replies = bytearray()  # what the proxy answers the browser itself
        self.input_messages = 0
        self._buf = bytearray()
        self._state = "version"
        self._rfb33 = False
        self._rfb37 = False

    def take_replies(self) -> bytes:
        """The handshake bytes to send the browser (``answer_handshake``), once."""
        out = bytes(self.replies)
        self.replies.clear()
        return out

    def feed(self, data: bytes) -> bytes:
        self._buf += data
        out = bytearray()
        while True:
            size = self._next_size()
            if size is None or len(self._buf) < size:
                break
            message = bytes(self._buf[:size])
            del self._buf[:size]
            out += self._handle(message)
        if len(self._buf) > MAX_MESSAGE:
            raise ProtocolError("VNC client message larger than the console allows")
        return bytes(out)

    def _next_size(self) -> int | None:
        buf = self._buf
        if self._state == "version":
            return 12
        if self._state == "security":
            return 1
        if self._state == "vnc_auth":
            return 16
        if self._state == "init":
            return 1
        if not buf:
            return None
        kind = buf[0]
        fixed = {
            SET_PIXEL_FORMAT: 20,
            FRAMEBUFFER_UPDATE_REQUEST: 10,
            KEY_EVENT: 8,
            POINTER_EVENT: 6,
            ENABLE_CONTINUOUS_UPDATES: 10,
            XVP: 4,
        }
        if kind in fixed:
            return fixed[kind]
        if kind == SET_ENCODINGS:
            return None if len(buf) < 4 else 4 + 4 * struct.unpack(">H", buf[2:4])[0]
        if kind == CLIENT_CUT_TEXT:  # a negative length is noVNC's extended clipboard
            return None if len(buf) < 8 else 8 + abs(struct.unpack(">i", buf[4:8])[0])
        if kind == CLIENT_FENCE:
            return None if len(buf) < 9 else 9 + buf[8]
        if kind == SET_DESKTOP_SIZE:
            return None if len(buf) < 8 else 8 + 16 * buf[6]
        if kind == QEMU_CLIENT:
            if len(buf) < 2:
                return None
            if buf[1] == QEMU_EXTENDED_KEY:
                return 12
            if buf[1] == QEMU_AUDIO:
                if len(buf) < 4:
                    return None
                return 10 if struct.unpack(">H", buf[2:4])[0] == 2 else 4
            raise ProtocolError(f"unknown QEMU VNC client message {buf[1]}")
        raise ProtocolError(f"unknown VNC client message type {kind}")

    def _handle(self, message: bytes) -> bytes:
        state = self._state
        if state == "version":
            if not message.startswith(b"RFB "):
                raise ProtocolError("the VNC client did not start with an RFB version")
            self._rfb33 = message[4:11] == b"003.003"
            self._rfb37 = message[4:11] == b"003.007"
            self._state = "init" if self._rfb33 else "security"
            if self.answer_handshake:  # the proxy authenticated to QEMU already: no password
                self.replies += struct.pack(">I", SECURITY_NONE) if self._rfb33 else b"\x01\x01"
                return b""
            return message
        if state == "security":
            if self.answer_handshake:
                if message[0] != SECURITY_NONE:
                    raise ProtocolError(f"VNC security type {message[0]} was not offered")
                self._state = "init"
                if not self._rfb37:
                    self.replies += b"\x00\x00\x00\x00"  # SecurityResult OK (3.8)
                return b""
            if message[0] == SECURITY_VNC_AUTH:
                self._state = "vnc_auth"
            elif message[0] == SECURITY_NONE:
                self._state = "init"
            else:
                raise ProtocolError(f"VNC security type {message[0]} is not supported")
            return message
        if state == "vnc_auth":
            self._state = "init"
            return message
        if state == "init":
            self._state = "messages"
            return b"\x01"  # shared
        kind = message[0]
        is_input = kind in INPUT_MESSAGES or (
            kind == QEMU_CLIENT and message[1] == QEMU_EXTENDED_KEY
        )
        if is_input:
            self.input_messages += 1
            if self.view_only:
                return b""
        return message
