"""VM power through libvirt: ``vm_start``, ``vm_shutdown``, ``vm_reboot``, ``vm_reset``,
``vm_destroy``."""

from __future__ import annotations

import time

from atp_core.errors import AtpError, OperationTimeout

from ..runtime import StepCall, require_vm


def _wait(call: StepCall) -> bool:
    return bool(call.args.get("wait"))


def _left(call: StepCall) -> float:
    return max(1.0, call.remaining() - 0.5)


def vm_start(call: StepCall) -> None:
    vm = require_vm(call)
    call.session().power.start(wait=_wait(call), timeout=_left(call), cancel=call.token)
    call.say(f"{vm} started" + (", the guest agent answers" if _wait(call) else ""))


def vm_shutdown(call: StepCall) -> None:
    vm = require_vm(call)
    call.session().power.shutdown(
        force=bool(call.args.get("force")), wait=_wait(call), timeout=_left(call), cancel=call.token
    )
    call.say(f"{vm} shut down" if _wait(call) else f"{vm}: shutdown requested")


BOOT_ID = "/proc/sys/kernel/random/boot_id"


def _boot_id(session) -> str | None:
    try:
        return session.agent.file_read(BOOT_ID).decode(errors="replace").strip() or None
    except AtpError:
        return None


def vm_reboot(call: StepCall) -> None:
    """Reboot; with ``wait`` until the agent answers from the *new* boot (a Linux guest's
    boot id changes), so a slow guest's old agent is never taken for the rebooted one."""
    vm = require_vm(call)
    session = call.session()
    power = session.power
    before = _boot_id(session) if _wait(call) else None
    if call.args.get("force"):
        power.reset(wait=False)
    else:
        power.reboot(wait=False)
    if not _wait(call):
        call.say(f"{vm}: reboot requested")
        return
    deadline = time.monotonic() + _left(call)
    while True:
        call.token.wait(0.5)
        left = deadline - time.monotonic()
        if left <= 0:
            raise OperationTimeout(f"{vm}: did not come back from the reboot in time")
        power.wait_for_agent(left, call.token)
        after = _boot_id(session)
        if before is None or (after is not None and after != before):
            break
    call.say(f"{vm} rebooted, the guest agent answers")


def vm_reset(call: StepCall) -> None:
    vm = require_vm(call)
    call.session().power.reset(wait=_wait(call), timeout=_left(call), cancel=call.token)
    call.say(f"{vm} reset")


def vm_destroy(call: StepCall) -> None:
    vm = require_vm(call)
    power = call.session().power
    power.destroy()
    if _wait(call):
        power.wait_for_state("shutoff", _left(call), call.token)
    call.say(f"{vm} destroyed")
