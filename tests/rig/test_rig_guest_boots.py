"""The rig itself: a pooled guest runs, its agent answers, it has the devices we need."""

import pytest

pytestmark = pytest.mark.rig


def test_guest_has_keyboard_mouse_and_tablet(rig_vm):
    code, out, _ = rig_vm.shell("cat /tmp/input-devices.txt")
    assert code == 0
    assert "AT Translated Set 2 keyboard" in out
    assert "QEMU Virtio Tablet" in out
    assert "PS/2 Generic Explorer Mouse" in out


def test_guest_has_agent_and_echo_channels(rig_vm):
    code, out, _ = rig_vm.shell("ls /dev/virtio-ports")
    assert code == 0
    assert "org.qemu.guest_agent.0" in out.split()
    assert "org.atp.echo.0" in out.split()
