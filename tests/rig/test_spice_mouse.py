"""The mouse over SPICE: absolute positions land (the USB tablet, client mouse mode), buttons
and the wheel reach the guest, and a click has its effect on the screen (twm's menu)."""

import pytest

from atp_core.errors import InvalidInput
from atp_core.protocol import VmSession
from tests.rig.protocol_helpers import poll
from tests.rig.spice_helpers import DESKTOP_BACKGROUND, share, spice_client

pytestmark = pytest.mark.rig

MENU_BOX = (470, 415, 60, 60)  # twm draws its menu around the pointer (below it)


def test_absolute_click_on_the_background_opens_twms_menu(desktop_session):
    import libvirt

    vm = desktop_session
    conn = libvirt.open(vm.uri)
    try:
        session = VmSession(conn, vm.name)
        with spice_client(vm) as spice:
            assert share(spice.frame(), DESKTOP_BACKGROUND, MENU_BOX) > 0.99
            mark = session.input_log.mark()
            spice.move(500, 400)
            spice.press("left")  # twm shows the menu while the button is held
            menu = poll(
                spice.frame, lambda f: share(f, DESKTOP_BACKGROUND, MENU_BOX) < 0.5, timeout=30
            )
            spice.release("left")
            assert share(menu, DESKTOP_BACKGROUND, MENU_BOX) < 0.5, "no menu where clicked"
            events = poll(
                lambda: session.input_log.mouse_events_since(mark),
                lambda e: e.button_releases,
                timeout=30,
            )
            poll(spice.frame, lambda f: share(f, DESKTOP_BACKGROUND, MENU_BOX) > 0.99, timeout=30)
    finally:
        conn.close()
    # the tablet reports 0..32767: pixel 500 of 1024 is 500 * 32767 / 1023 (+-1 rounding)
    x, y = events.abs_positions[-1]
    assert abs(x - 500 * 32767 / 1023) < 40 and abs(y - 400 * 32767 / 767) < 50
    assert events.button_presses == ["left"] and events.button_releases == ["left"]


def test_wheel_and_drag_reach_the_guest(desktop_session):
    import libvirt

    vm = desktop_session
    conn = libvirt.open(vm.uri)
    try:
        session = VmSession(conn, vm.name)
        with spice_client(vm) as spice:
            mark = session.input_log.mark()
            spice.scroll(2)
            spice.scroll(-1)
            events = poll(
                lambda: session.input_log.mouse_events_since(mark),
                lambda e: e.wheel == 1,
                timeout=30,
            )
            assert events.wheel == 1  # two notches up, one down
            mark = session.input_log.mark()
            spice.drag((900, 700), (950, 740), button="middle")
            events = poll(
                lambda: session.input_log.mouse_events_since(mark),
                lambda e: e.button_releases,
                timeout=30,
            )
    finally:
        conn.close()
    assert events.button_presses == ["middle"] and events.button_releases == ["middle"]
    last_x, last_y = events.abs_positions[-1]
    assert abs(last_x - 950 * 32767 / 1023) < 40 and abs(last_y - 740 * 32767 / 767) < 50


def test_position_outside_the_screen_is_refused(desktop_session):
    with spice_client(desktop_session) as spice, pytest.raises(InvalidInput, match="1024x768"):
        spice.move(1024, 10)
