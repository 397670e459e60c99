"""Protocol: drive one VM — keyboard, mouse, screen, guest agent, power, channels, QMP.

The names below are imported on first use (PEP 562), so that a light user of one module
(``keyboard`` for the scenario schema, say) does not pay for the SPICE client's GLib and numpy
imports: ``python -m atp_core validate`` stays quick.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "InputMark": "input_log",
    "KeyEvent": "input_log",
    "MouseEvents": "input_log",
    "parse_key": "keyboard",
    "validate_text": "keyboard",
    "ExecResult": "qga",
    "ExecTimeout": "qga",
    "GuestAgent": "qga",
    "LibvirtQmp": "qmp",
    "SocketQmp": "qmp",
    "VmSession": "session",
    "SpiceAddress": "spice",
    "SpiceClient": "spice",
    "spice_address": "spice",
    "VirtioSerialChannel": "virtio_serial",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
