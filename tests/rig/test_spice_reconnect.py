"""The SPICE client survives a guest reboot and a QEMU restart (new process, maybe a new port):
the next call reconnects from the domain's live XML and frames flow again."""

import time

import libvirt
import pytest

from tests.rig.protocol_helpers import poll
from tests.rig.spice_helpers import spice_client

pytestmark = pytest.mark.rig


def test_reconnect_after_guest_reboot_and_qemu_restart(desktop_vm):
    vm = desktop_vm
    with spice_client(vm) as spice:
        before = spice.update_count
        vm.domain.reset()  # guest reboot: same QEMU, the primary surface is recreated
        update = spice.wait_update(time.monotonic(), timeout=120)
        assert update.seq > before
        vm.domain.destroy()  # QEMU goes away: the channels close
        poll(lambda: spice.connected, lambda c: not c, timeout=30)
        assert not spice.connected
        for attempt in range(5):  # libvirt may still be tearing the old QEMU down
            try:
                vm.domain.create()
                break
            except libvirt.libvirtError:
                if attempt == 4:
                    raise
                time.sleep(2)
        # the next call reconnects (QEMU may be slow to listen under load: retry a few times)
        frame = None
        for _ in range(30):
            try:
                frame = spice.frame()
                break
            except Exception:
                time.sleep(1)
        assert frame is not None and spice.connected
        assert spice.connects >= 2
        assert spice.wait_update(timeout=120).time > frame.time - 1
    vm.wait_agent(300)
    vm.wait_marker("/run/atp-greeter")
