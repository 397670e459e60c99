"""Over SPICE: the desktop guest shows xdm's login screen, and typing user + password at it
(through the SPICE inputs channel) logs in to the twm desktop."""

import time

import pytest

from tests.rig.protocol_helpers import poll
from tests.rig.spice_helpers import (
    DESKTOP_BACKGROUND,
    GREETER_BACKGROUND,
    GREETER_BOX,
    share,
    spice_client,
)

pytestmark = pytest.mark.rig


def _greeter_drawn(frame) -> bool:
    return (
        share(frame, GREETER_BACKGROUND, (0, 0, 1024, 100)) > 0.95
        and share(frame, GREETER_BOX, (60, 330, 700, 120)) > 0.5
    )


def test_login_screen_over_spice_then_logon_reaches_the_desktop(desktop_vm):
    with spice_client(desktop_vm) as spice:
        assert spice.size() == (1024, 768)
        frame = poll(spice.frame, _greeter_drawn, timeout=120)
        assert _greeter_drawn(frame), "the xdm login screen is not on the SPICE display"
        assert frame.time > 0 and frame.seq > 0

        time.sleep(1)  # the greeter's prompt takes keys once drawn
        spice.send_text(f"{desktop_vm.user}\n")
        time.sleep(0.5)  # the greeter moves to its password field; nothing shows when
        spice.send_text(f"{desktop_vm.password}\n")
        desktop = poll(
            spice.frame,
            lambda f: share(f, DESKTOP_BACKGROUND, (0, 300, 1024, 400)) > 0.95,
            timeout=180,
        )
        assert share(desktop, DESKTOP_BACKGROUND, (0, 300, 1024, 400)) > 0.95
    code, out, _ = desktop_vm.shell("cat /run/atp-session")
    assert (code, out.strip()) == (0, desktop_vm.user)


def test_wrong_password_is_refused_at_the_login_screen(desktop_vm):
    try:
        _refused(desktop_vm)
    finally:
        desktop_vm.restart_display()  # xdm's greeter can stop taking keys after a refusal


def _refused(desktop_vm):
    with spice_client(desktop_vm) as spice:
        poll(spice.frame, _greeter_drawn, timeout=120)
        time.sleep(1)  # the greeter's prompt takes keys once drawn
        spice.send_text(f"{desktop_vm.user}\n")
        time.sleep(0.5)  # the greeter moves to its password field; nothing shows when
        spice.send_text("not-the-password\n")
        time.sleep(5)  # PAM refuses after its delay; no session may start meanwhile
        assert desktop_vm.marker("/run/atp-greeter")
        assert not desktop_vm.marker("/run/atp-session")
