"""The typing settle waits for the programs woken by the keys, read from the guest itself: on
the desktop guest it reads ``/proc/loadavg`` through the agent, returns at once on an idle
guest, and while a guest program keeps a CPU busy it waits its bound, then takes that load as
the guest's floor (so a busy guest is not waited for at every settle)."""

import time

import libvirt
import pytest

from atp_core.protocol import VmSession, keyboard_flow

pytestmark = pytest.mark.rig


def test_the_settle_reads_the_guests_runnable_tasks_and_learns_a_busy_floor(desktop_session):
    conn = libvirt.open(desktop_session.uri)
    settle = None
    try:
        session = VmSession(conn, desktop_session.name)
        settle = keyboard_flow.agent_settle(session.ref)
        settle()
        assert settle.handle is not None, "the desktop guest's /proc/loadavg was not opened"
        assert settle.floor == 1
        desktop_session.shell("(timeout 20 sh -c 'while :; do :; done' >/dev/null 2>&1 &); true")
        deadline = time.monotonic() + 15
        while settle.floor == 1 and time.monotonic() < deadline:
            settle()  # waits up to IDLE_WAIT while the busy loop stays runnable
        assert settle.floor >= 2, "a guest busy loop never raised the settle's floor"
    finally:
        if settle is not None:
            settle.close()
        desktop_session.shell("pkill -f 'while :; do :; done'; true")
        conn.close()
