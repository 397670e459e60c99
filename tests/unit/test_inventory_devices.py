"""``inventory.devices_of`` reads the display and whether every disk is read-only from a
domain's XML, here the project's own test guests' XML: the text guest (VNC, no disk) and the
desktop guest (SPICE, no disk), and a writable disk added to one."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from atp_core.transport.inventory import devices_of
from guest.domain import render_desktop_xml, render_domain_xml


def _with_disk(xml: str, read_only: bool) -> str:
    root = ET.fromstring(xml)
    disk = ET.SubElement(root.find("devices"), "disk", type="file", device="disk")
    ET.SubElement(disk, "source", file="/var/tmp/atp/desk.qcow2")
    ET.SubElement(disk, "target", dev="vda", bus="virtio")
    if read_only:
        ET.SubElement(disk, "readonly")
    cdrom = ET.SubElement(root.find("devices"), "disk", type="file", device="cdrom")
    ET.SubElement(cdrom, "target", dev="hdc", bus="ide")  # a CD-ROM never counts
    return ET.tostring(root, encoding="unicode")


def test_the_test_guests_displays_and_disks():
    text, desktop = render_domain_xml("t"), render_desktop_xml("d", ticket="x1")
    assert devices_of(text) == ("vnc", True)
    assert devices_of(desktop) == ("spice", True)
    assert devices_of(_with_disk(desktop, read_only=False)) == ("spice", False)
    assert devices_of(_with_disk(desktop, read_only=True)) == ("spice", True)


def test_a_domain_without_devices():
    assert devices_of("<domain><name>bare</name></domain>") == ("", True)
