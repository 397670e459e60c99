"""The live view's screens: one display client per VM however many viewers ask; a SPICE VM's
screen comes from its SPICE client (streamed frames), a VM without SPICE from libvirt."""

import io
import threading

import libvirt
import pytest
from PIL import Image

from atp_core.protocol.live_screen import LiveScreens

pytestmark = pytest.mark.rig


def test_many_viewers_share_one_spice_client(desktop_vm, rig_vm):
    conn = libvirt.open(desktop_vm.uri)
    screens = LiveScreens()
    try:
        shots: list[bytes] = []

        def viewer():
            for _ in range(3):
                shots.append(screens.screenshot(conn, desktop_vm.name))

        threads = [threading.Thread(target=viewer) for _ in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(shots) == 15
        assert screens.watched() == [(id(conn), desktop_vm.name)]
        client = screens._clients[(id(conn), desktop_vm.name)][0]
        assert client.connects == 1 and client.update_count > 0
        with Image.open(io.BytesIO(shots[-1])) as img:
            assert img.size == (1024, 768)
        # the text guest has VNC only: libvirt screenshots, no SPICE client kept
        png = screens.screenshot(conn, rig_vm.name)
        assert png.startswith(b"\x89PNG")
        assert (id(conn), rig_vm.name) not in screens.watched()
    finally:
        screens.close()
        conn.close()
    assert screens.watched() == []
