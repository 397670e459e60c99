"""The domain is destroyed under a session: every call fails fast with an error naming it."""

import threading
import time

import pytest

from atp_core.errors import (
    DomainNotFound,
    DomainNotRunning,
    InfrastructureError,
    OperationTimeout,
)

pytestmark = pytest.mark.rig


@pytest.fixture
def destroyed_later(rig_vm):
    """The borrowed guest, booted again through the pool whatever the test did to it."""
    yield rig_vm
    rig_vm.ensure_running()
    assert rig_vm.agent_answers()


def test_calls_on_a_destroyed_domain_fail_fast_naming_it(destroyed_later, vm_session):
    vm = destroyed_later
    vm.domain.destroy()
    calls = {
        "agent ping": lambda: vm_session.agent.ping(),
        "exec": lambda: vm_session.agent.exec("true"),
        "file read": lambda: vm_session.agent.file_read("/tmp/keys.log"),
        "send key": lambda: vm_session.keyboard.send_key("a"),
        "type text": lambda: vm_session.keyboard.send_text("abc"),
        "mouse move": lambda: vm_session.mouse.move_relative(1, 1),
        "screenshot": lambda: vm_session.screen.screenshot(),
        "qmp": lambda: vm_session.qmp.execute("query-status"),
        "channel": lambda: vm_session.channel("org.atp.echo.0"),
    }
    for what, call in calls.items():
        # fast means: told the domain is not running, not a wait for some call's timeout
        with pytest.raises(InfrastructureError) as info:
            call()
        assert not isinstance(info.value, OperationTimeout), (what, info.value)
        assert vm.name in str(info.value), (what, str(info.value))
        assert isinstance(info.value, DomainNotRunning) or what == "channel", (what, info.value)
    assert vm_session.power.state() == "shutoff"


def test_destroyed_during_a_long_exec(destroyed_later, vm_session):
    """A command waiting on the agent notices the domain went away; no wait until its timeout."""
    vm = destroyed_later
    threading.Timer(1.5, lambda: vm.domain.destroy()).start()
    started = time.monotonic()
    with pytest.raises(InfrastructureError) as info:
        vm_session.agent.exec("sleep 600", timeout=600)
    assert not isinstance(info.value, OperationTimeout), info.value
    assert time.monotonic() - started < 120, "the exec waited for its 600 s timeout"
    assert vm.name in str(info.value)


def test_undefined_domain_is_not_found(destroyed_later, vm_session):
    vm = destroyed_later
    vm.remove()
    with pytest.raises(DomainNotFound, match=rf"domain '{vm.name}' not found"):
        vm_session.agent.ping()
    with pytest.raises(DomainNotFound):
        vm_session.power.state()
