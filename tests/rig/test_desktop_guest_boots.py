"""The desktop guest: boots to xdm's login screen on QXL/SPICE, and a login reaches twm."""

import xml.etree.ElementTree as ET

import pytest

pytestmark = pytest.mark.rig


def test_desktop_domain_has_spice_qxl_tablet_and_agent(desktop_vm):
    xml = ET.fromstring(desktop_vm.domain.XMLDesc(0))
    graphics = xml.find("devices/graphics")
    assert graphics.get("type") == "spice"
    assert graphics.get("listen") == "127.0.0.1"
    assert int(graphics.get("port")) > 0
    assert xml.find("devices/video/model").get("type") == "qxl"
    assert xml.find("devices/input[@type='tablet']").get("bus") == "usb"
    targets = [t.get("name") for t in xml.findall("devices/channel/target")]
    assert "org.qemu.guest_agent.0" in targets
    # the ticket is set (libvirt shows it only in the secure XML)
    secure = ET.fromstring(desktop_vm.domain.XMLDesc(1)).find("devices/graphics")
    assert secure.get("passwd") == desktop_vm.ticket


def test_desktop_guest_runs_xorg_and_the_xdm_greeter(desktop_vm):
    code, out, _ = desktop_vm.shell("ps; cat /tmp/input-devices.txt; ls /run")
    assert code == 0
    assert "/usr/lib/xorg/Xorg :0" in out
    assert "/usr/bin/xdm" in out
    assert "QEMU QEMU USB Tablet" in out
    assert "QEMU Virtio Keyboard" in out
    assert "atp-greeter" in out.split()
    assert "atp-session" not in out.split()


def test_login_at_the_greeter_starts_the_twm_session(desktop_session):
    code, out, _ = desktop_session.shell(
        "cat /run/atp-session; ps; DISPLAY=:0 XAUTHORITY=$(ls /var/lib/xdm/authdir/authfiles/*)"
        " xwininfo -name keylog"
    )
    assert code == 0, out
    assert out.splitlines()[0] == "atp"
    assert "/usr/bin/twm" in out
    assert "IsViewable" in out
