"""SPICE: a named slot. Not supported yet; saying so clearly beats a silent stub."""

from __future__ import annotations

from atp_core.errors import UnsupportedError


class SpiceSession:
    def __init__(self, *_args, **_kwargs) -> None:
        raise UnsupportedError(
            "SPICE is not supported yet: use VNC/libvirt screenshots for the screen and "
            "QMP/libvirt for keyboard and mouse"
        )
