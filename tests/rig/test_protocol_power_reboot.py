"""Reboot and reset with ``wait`` return only once the agent answers from the *new* boot."""

from atp_core.cancel import CancelToken


def test_reboot_waits_for_the_new_boot(vm_session, rig_vm):
    power = vm_session.power
    before = power.boot_id()
    assert before and len(before) == 36, before
    vm_session.agent.file_write("/tmp/atp-reboot-marker", b"1")

    power.reboot(wait=True, timeout=180, cancel=CancelToken())

    after = power.boot_id()
    assert after and after != before
    code, _, _ = rig_vm.shell("test -e /tmp/atp-reboot-marker")
    assert code == 1, "the marker in RAM survived: the guest did not reboot"
    rig_vm.wait_agent(60)  # the pool's own readiness check (input recorders up)


def test_reset_with_wait_waits_for_the_new_boot(vm_session, rig_vm):
    power = vm_session.power
    before = power.boot_id()
    power.reset(wait=True, timeout=180)
    assert power.boot_id() not in (None, before)
    rig_vm.wait_agent(60)
