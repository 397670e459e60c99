"""A guest command that outlives its timeout is killed, reported in time, and really gone."""

import time

import pytest

from atp_core.errors import OperationTimeout
from atp_core.protocol import ExecTimeout

pytestmark = pytest.mark.rig


def running(vm, marker: str) -> list[str]:
    """Command lines of guest processes that mention ``marker`` (busybox has no pgrep)."""
    code, out, _ = vm.shell(
        "for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $f 2>/dev/null; echo; done"
    )
    assert code == 0
    return [line for line in out.splitlines() if marker in line and "/proc/" not in line]


@pytest.mark.parametrize(
    "command",
    [
        "sleep 301",  # the shell execs sleep itself
        "echo started; sleep 302; echo never",  # sleep is a child of the shell
        "sh -c 'sleep 303; true' & sh -c 'sleep 304; true'; wait",  # grandchildren
    ],
)
def test_killed_and_reported_within_timeout_plus_one_second(rig_vm, vm_session, command):
    marker = command.split("sleep ")[1][:3]
    started = time.monotonic()
    with pytest.raises(ExecTimeout) as info:
        vm_session.agent.exec(command, timeout=2)
    elapsed = time.monotonic() - started
    assert 2 <= elapsed <= 3, elapsed
    assert isinstance(info.value, OperationTimeout)  # a step reports it as `error`
    assert "still running after 2 s; killed" in str(info.value)
    assert rig_vm.name in str(info.value)
    assert running(rig_vm, f"sleep {marker}") == []


def test_partial_output_of_a_killed_command(vm_session):
    with pytest.raises(ExecTimeout) as info:
        vm_session.agent.exec("echo before-the-hang; sleep 305", timeout=2)
    partial = info.value.partial
    assert partial is not None and partial.timed_out
    assert partial.stdout == "before-the-hang\n"
    assert partial.exit_code < 0  # killed by a signal
