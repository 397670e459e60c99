"""A guest command that outlives its timeout is killed with every process it started (children
and grandchildren gone from the guest's /proc when ``exec`` returns) and reported as a timeout.

How soon after the timeout ``exec`` returns is measured in bench/p1_exec_timeout_kill.py."""

import re
import threading
import time

import pytest

from atp_core.errors import OperationTimeout
from atp_core.protocol import ExecTimeout
from tests.waiting import wait_for

pytestmark = pytest.mark.rig

TIMEOUT = 10  # s: long enough to see every process of the command running first


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
def test_killed_with_its_children_and_grandchildren_and_reported(rig_vm, vm_session, command):
    markers = [f"sleep {n}" for n in re.findall(r"sleep (\d+)", command)]
    outcome: dict = {}

    def run():
        started = time.monotonic()
        try:
            vm_session.agent.exec(command, timeout=TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - asserted below
            outcome["error"] = exc
        outcome["after"] = time.monotonic() - started

    caller = threading.Thread(target=run)
    caller.start()
    # every process the command starts is there before the timeout (else "gone" proves nothing)
    wait_for(
        lambda: all(running(rig_vm, m) for m in markers) or "after" in outcome,
        60,
        f"the command's processes ({markers}) in the guest",
        interval=0.5,
    )
    assert "after" not in outcome, f"the command ended before its processes were seen: {outcome}"
    caller.join(TIMEOUT + 120)  # a generous deadline: it only catches a hang
    assert not caller.is_alive(), "exec did not return after the command's timeout"

    error = outcome.get("error")
    assert isinstance(error, ExecTimeout), error
    assert isinstance(error, OperationTimeout)  # a step reports it as `error`
    assert outcome["after"] >= TIMEOUT, "returned before the timeout"
    assert f"still running after {TIMEOUT} s; killed" in str(error)
    assert rig_vm.name in str(error)
    # the moment exec returns, the command and every child and grandchild are gone
    assert {m: running(rig_vm, m) for m in markers} == {m: [] for m in markers}


def test_partial_output_of_a_killed_command(vm_session):
    with pytest.raises(ExecTimeout) as info:
        vm_session.agent.exec("echo before-the-hang; sleep 305", timeout=2)
    partial = info.value.partial
    assert partial is not None and partial.timed_out
    assert partial.stdout == "before-the-hang\n"
    assert partial.exit_code < 0  # killed by a signal
