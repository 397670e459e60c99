"""Flow-controlled typing over the hypervisor path: the keys QEMU sends to the guest's active
keyboard (PS/2 on the text guest, virtio on the desktop guest) go in as the guest reads them,
and every character arrives exactly in the kernel's key events."""

import random
import string

import libvirt
import pytest

from atp_core.protocol import VmSession, keyboard_flow
from tests.rig.protocol_helpers import poll

pytestmark = pytest.mark.rig

PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F))
ALPHABET = string.ascii_letters + string.digits + string.punctuation + " "


def _text(seed: int) -> str:
    rng = random.Random(seed)
    return PRINTABLE + "".join(rng.choice(ALPHABET) for _ in range(400)) + PRINTABLE[::-1]


def test_the_text_guest_is_typed_into_through_its_ps2_keyboard(vm_session):
    flow = keyboard_flow.detect(vm_session.ref)
    assert isinstance(flow, keyboard_flow.Ps2Flow)
    text = _text(21)
    mark = vm_session.input_log.mark()
    vm_session.keyboard.send_text(text)
    typed = poll(lambda: vm_session.input_log.typed_text_since(mark), lambda t: t == text, 30)
    assert typed == text
    vm_session.keyboard.send_key("ctrl+u")


def test_the_desktop_guest_is_typed_into_through_its_virtio_keyboard(desktop_session):
    conn = libvirt.open(desktop_session.uri)
    try:
        session = VmSession(conn, desktop_session.name)
        flow = keyboard_flow.detect(session.ref)
        assert isinstance(flow, keyboard_flow.VirtioFlow)
        assert flow.capacity() > 0
        text = _text(22)
        mark = session.input_log.mark()
        session.keyboard.send_text(text)
        typed = poll(lambda: session.input_log.typed_text_since(mark), lambda t: t == text, 30)
        assert typed == text
        session.keyboard.send_key("ctrl+u")
    finally:
        conn.close()
