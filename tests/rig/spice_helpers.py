"""Helpers for the SPICE rig tests: a client on the desktop guest, screen colours."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import libvirt

from atp_core.protocol import SpiceClient, VmSession

GREETER_BACKGROUND = (0x3A, 0x6E, 0xA5)  # xsetroot in the desktop guest's Xsetup
GREETER_BOX = (190, 190, 190)  # xlogin*background: grey
DESKTOP_BACKGROUND = (0x2E, 0x8B, 0x57)  # xsetroot in the session
KEYLOG_TEXT_AREA = (200, 110)  # a point inside the "keylog" xterm (60x6+8+8, 10x20 font)


@contextlib.contextmanager
def spice_client(desktop) -> Iterator[SpiceClient]:
    """A connected SpiceClient on the rig's desktop guest (address and ticket from its XML)."""
    conn = libvirt.open(desktop.uri)
    try:
        session = VmSession(conn, desktop.name)
        client = SpiceClient.for_domain(session.ref).connect()
        try:
            yield client
        finally:
            client.close()
    finally:
        conn.close()


def share(frame, colour: tuple[int, int, int], box: tuple[int, int, int, int]) -> float:
    """The share of pixels of ``colour`` in ``box`` (x, y, w, h) of a Frame."""
    x, y, w, h = box
    area = frame.pixels[y : y + h, x : x + w]
    return float((area == colour).all(axis=2).mean())
