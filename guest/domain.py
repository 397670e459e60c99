"""Render and define the test guest's libvirt domain."""

from __future__ import annotations

import os
from pathlib import Path
from string import Template

TEMPLATE = Path(__file__).with_name("domain.xml.tmpl")
DEFAULT_GUEST_DIR = os.environ.get("ATP_GUEST_DIR", "/var/tmp/atp/guest")


def render_domain_xml(
    name: str,
    *,
    memory_mib: int = 192,
    tb_cache_mib: int = 64,
    guest_dir: str = DEFAULT_GUEST_DIR,
) -> str:
    """Return the domain XML of one test guest called ``name``."""
    return Template(TEMPLATE.read_text()).substitute(
        name=name, memory_mib=memory_mib, tb_cache_mib=tb_cache_mib, guest_dir=guest_dir
    )


def define_guest(conn, name: str, **kwargs):
    """Define (or redefine, when shut off) the test guest ``name`` on a libvirt connection."""
    return conn.defineXML(render_domain_xml(name, **kwargs))
