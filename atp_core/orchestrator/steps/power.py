"""VM power through libvirt: ``vm_start``, ``vm_shutdown``, ``vm_reboot``, ``vm_reset``,
``vm_destroy``."""

from __future__ import annotations

from .. import schema
from ..runtime import StepCall, require_vm
from .registry import handles


def _wait(call: StepCall) -> bool:
    return bool(call.args.get("wait"))


def _left(call: StepCall) -> float:
    return max(1.0, call.remaining() - 0.5)


@handles(schema.VmStart)
def vm_start(call: StepCall) -> None:
    vm = require_vm(call)
    call.session().power.start(wait=_wait(call), timeout=_left(call), cancel=call.token)
    call.say(f"{vm} started" + (", the guest agent answers" if _wait(call) else ""))


@handles(schema.VmShutdown)
def vm_shutdown(call: StepCall) -> None:
    vm = require_vm(call)
    call.session().power.shutdown(
        force=bool(call.args.get("force")), wait=_wait(call), timeout=_left(call), cancel=call.token
    )
    call.say(f"{vm} shut down" if _wait(call) else f"{vm}: shutdown requested")


@handles(schema.VmReboot)
def vm_reboot(call: StepCall) -> None:
    """Reboot (``force``: hard reset); with ``wait`` until the agent answers from the *new*
    boot (``Power`` compares boot ids, so a slow guest's old agent never counts)."""
    vm = require_vm(call)
    power = call.session().power
    reboot = power.reset if call.args.get("force") else power.reboot
    reboot(wait=_wait(call), timeout=_left(call), cancel=call.token)
    if _wait(call):
        call.say(f"{vm} rebooted, the guest agent answers")
    else:
        call.say(f"{vm}: reboot requested")


@handles(schema.VmReset)
def vm_reset(call: StepCall) -> None:
    vm = require_vm(call)
    call.session().power.reset(wait=_wait(call), timeout=_left(call), cancel=call.token)
    call.say(f"{vm} reset")


@handles(schema.VmDestroy)
def vm_destroy(call: StepCall) -> None:
    vm = require_vm(call)
    power = call.session().power
    power.destroy()
    if _wait(call):
        power.wait_for_state("shutoff", _left(call), call.token)
    call.say(f"{vm} destroyed")
