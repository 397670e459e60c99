"""Keys and text over SPICE arrive exactly: read back from the guest's key recorder (the
"keylog" xterm writes each line typed to /tmp/keys.log) and its evdev recordings."""

import string
import time

import pytest

from atp_core.errors import InvalidInput
from atp_core.protocol import VmSession
from tests.rig.protocol_helpers import poll
from tests.rig.spice_helpers import KEYLOG_TEXT_AREA, spice_client

pytestmark = pytest.mark.rig

PRINTABLE = string.ascii_letters + string.digits + string.punctuation + " "


def _key_log(vm) -> str:
    return vm.shell("cat /tmp/keys.log 2>/dev/null; true")[1]


def test_every_printable_character_typed_over_spice_arrives_exactly(desktop_session):
    vm = desktop_session
    vm.shell("rm -f /tmp/keys.log")
    text = PRINTABLE.strip() + " " + PRINTABLE[::-1].strip()
    import libvirt

    conn = libvirt.open(vm.uri)
    try:
        recorder = VmSession(conn, vm.name).input_log
        with spice_client(vm) as spice:
            spice.move(*KEYLOG_TEXT_AREA)  # twm: the keyboard follows the pointer
            time.sleep(1)  # twm moves the focus when X tells it the pointer entered
            spice.send_key("ctrl+u")  # drop what an earlier test left half-typed on the line
            mark = recorder.mark()
            spice.send_text(text + "\n")
            log = poll(lambda: _key_log(vm), lambda s: s.endswith("\n"), timeout=60)
        # where a key was lost: before the guest's kernel (its evdev recording misses it too)
        # or after it, in X
        kernel = "" if log == text + "\n" else recorder.typed_text_since(mark)
    finally:
        conn.close()
    assert log == text + "\n", f"the guest's kernel read {kernel!r}"


def test_chords_and_named_keys_reach_the_guest_keyboard(desktop_session):
    import libvirt

    vm = desktop_session
    conn = libvirt.open(vm.uri)
    try:
        session = VmSession(conn, vm.name)
        with spice_client(vm) as spice:
            spice.move(*KEYLOG_TEXT_AREA)
            mark = session.input_log.mark()
            spice.send_key("shift+f1")
            spice.send_key("ctrl+alt+delete")  # E0-prefixed Delete
            spice.send_key(["meta_l", "r"])  # a lone modifier is not listed, a chord is
            spice.send_key("pgdn")
            pressed = poll(
                lambda: session.input_log.pressed_keys_since(mark),
                lambda keys: len(keys) >= 4,
                timeout=30,
            )
    finally:
        conn.close()
    assert pressed == ["shift+f1", "ctrl+alt+delete", "meta_l+r", "pgdn"]


def test_untypable_text_is_refused_before_anything_is_sent(desktop_session):
    with spice_client(desktop_session) as spice, pytest.raises(InvalidInput, match="position 2"):
        spice.send_text("ab\u00e9cd")
