"""libvirtd killed and restarted mid-session: the next call succeeds after reconnect, and the
guest (its QEMU process) lives through it.

The daemon killed here is a private one the test starts (tests/rig/private_libvirtd.py), not
the shared ``qemu:///system`` daemon other sessions on this machine depend on.
"""

import signal
import threading

import pytest

from atp_core.transport import ConnectionConfig, ConnectionState, HostConnection
from guest.domain import render_domain_xml
from tests.conftest import RIG_PREFIX
from tests.prereq import require
from tests.rig import private_libvirtd
from tests.rig.protocol_helpers import poll
from tests.waiting import wait_for

pytestmark = pytest.mark.rig

NAME = f"{RIG_PREFIX}lvd"
CONFIG = ConnectionConfig(
    heartbeat_interval=1.0, reconnect_base=0.2, reconnect_cap=2.0, reconnect_attempts=30
)


@pytest.fixture(scope="module")
def daemon(libvirt_uri):
    from tests.vm_pool import guest_built

    require(private_libvirtd.available(), "root, unshare and libvirtd for a private daemon")
    require(guest_built(), "the test guest (run guest/build.sh)")
    d = private_libvirtd.PrivateLibvirtd()
    try:
        d.start()
        yield d
    finally:
        d.close([NAME])


@pytest.fixture(scope="module")
def guest(daemon):
    """A test guest running under the private daemon, agent up."""
    from atp_core.protocol import VmSession

    conn = HostConnection(daemon.uri, CONFIG).connect()
    conn.get().defineXML(render_domain_xml(NAME)).create()
    VmSession(conn, NAME).power.wait_for_agent(120)
    conn.close()
    return NAME


@pytest.fixture
def session(daemon, guest):
    from atp_core.protocol import VmSession

    states: list[str] = []
    conn = HostConnection(
        daemon.uri, CONFIG, on_state_change=lambda _c, s: states.append(s.value)
    ).connect()
    yield VmSession(conn, guest), conn, states
    conn.close()
    daemon.start()  # whatever happened, the daemon runs again


def uptime(session) -> float:
    return float(session.agent.exec("cat /proc/uptime").stdout.split()[0])


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill", "term"])
def test_next_call_succeeds_after_restart(daemon, session, sig):
    vm, conn, states = session
    before = uptime(vm)
    qemu = daemon.qemu_pid(vm.name)
    assert qemu

    daemon.kill(sig)
    poll(lambda: conn.state, lambda s: s != ConnectionState.CONNECTED, timeout=10, every=0.05)
    assert conn.state != ConnectionState.CONNECTED  # the close callback/heartbeat noticed
    daemon.start()

    # the very next calls work: libvirt-level, QMP, and the guest agent
    assert vm.power.state() == "running"
    assert vm.qmp.execute("query-status")["status"] == "running"
    after = uptime(vm)
    assert after > before  # the same guest kept running: no reboot
    assert daemon.qemu_pid(vm.name) == qemu  # the same QEMU process
    assert conn.reconnects >= 1 and conn.state == ConnectionState.CONNECTED
    assert "disconnected" in states or "connecting" in states


def test_a_call_made_while_the_daemon_is_down_waits_for_it(daemon, session):
    """The call starts while libvirtd is gone; reconnect backoff carries it to the new daemon."""
    vm, conn, _ = session
    vm.agent.ping()
    failed_before = conn.failures
    daemon.kill()
    result: dict = {}

    def call():
        try:
            result["value"] = vm.agent.exec("echo still-here").stdout
        except Exception as exc:  # noqa: BLE001 - reported below
            result["error"] = exc

    worker = threading.Thread(target=call)
    worker.start()
    wait_for(lambda: conn.failures > failed_before, 60, "the call to retry against the dead daemon")
    assert worker.is_alive(), f"the call ended while the daemon was down: {result}"
    daemon.start()
    worker.join(60)
    assert result == {"value": "still-here\n"}
    assert conn.reconnects >= 1
