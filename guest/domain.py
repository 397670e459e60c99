"""Render and define the test guests' libvirt domains: the text guest and the desktop guest."""

from __future__ import annotations

import os
from pathlib import Path
from string import Template

HERE = Path(__file__).parent
TEMPLATE = HERE / "domain.xml.tmpl"
DESKTOP_TEMPLATE = HERE / "desktop.xml.tmpl"
DEFAULT_GUEST_DIR = os.environ.get("ATP_GUEST_DIR", "/var/tmp/atp/guest")
DEFAULT_DESKTOP_DIR = os.environ.get("ATP_DESKTOP_DIR", "/var/tmp/atp/desktop")
DESKTOP_USER = ("atp", "atp")  # the desktop guest's login (user, password)


def render_domain_xml(
    name: str,
    *,
    memory_mib: int = 192,
    tb_cache_mib: int = 64,
    guest_dir: str = DEFAULT_GUEST_DIR,
    vnc_listen: str = "127.0.0.1",
    vnc_password: str = "",
) -> str:
    """Return the domain XML of one text guest called ``name``: VNC on ``vnc_listen``
    (loopback unless a remote host's console must reach it), with ``vnc_password`` if given."""
    if vnc_password and (not vnc_password.isalnum() or len(vnc_password) > 8):
        raise ValueError("the VNC password must be 1-8 letters or digits (VNC uses 8 bytes)")
    if not all(part.isdigit() for part in vnc_listen.split(".")):
        raise ValueError(f"the VNC listen address must be an IPv4 address: {vnc_listen!r}")
    passwd = f" passwd='{vnc_password}'" if vnc_password else ""
    graphics = f"<graphics type='vnc' listen='{vnc_listen}' autoport='yes'{passwd}/>"
    return Template(TEMPLATE.read_text()).substitute(
        name=name,
        memory_mib=memory_mib,
        tb_cache_mib=tb_cache_mib,
        guest_dir=guest_dir,
        graphics=graphics,
    )


def render_desktop_xml(
    name: str,
    *,
    ticket: str,
    memory_mib: int = 256,
    tb_cache_mib: int = 128,
    guest_dir: str = DEFAULT_DESKTOP_DIR,
) -> str:
    """Return the domain XML of one desktop guest: SPICE on 127.0.0.1 with ``ticket``, QXL."""
    if not ticket or not ticket.isalnum():
        raise ValueError("the SPICE ticket must be a non-empty alphanumeric string")
    return Template(DESKTOP_TEMPLATE.read_text()).substitute(
        name=name,
        ticket=ticket,
        memory_mib=memory_mib,
        tb_cache_mib=tb_cache_mib,
        guest_dir=guest_dir,
    )


def define_guest(conn, name: str, **kwargs):
    """Define (or redefine, when shut off) the text guest ``name`` on a libvirt connection."""
    return conn.defineXML(render_domain_xml(name, **kwargs))


def define_desktop(conn, name: str, **kwargs):
    """Define (or redefine, when shut off) the desktop guest ``name`` on a libvirt connection."""
    return conn.defineXML(render_desktop_xml(name, **kwargs))
