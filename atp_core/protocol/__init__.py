"""Protocol: drive one VM — keyboard, mouse, screen, guest agent, power, channels, QMP."""

from .input_log import InputMark, KeyEvent, MouseEvents
from .keyboard import parse_key, validate_text
from .qga import ExecResult, ExecTimeout, GuestAgent
from .qmp import LibvirtQmp, SocketQmp
from .session import VmSession
from .spice import SpiceAddress, SpiceClient, spice_address
from .virtio_serial import VirtioSerialChannel

__all__ = [
    "ExecResult",
    "ExecTimeout",
    "GuestAgent",
    "InputMark",
    "KeyEvent",
    "LibvirtQmp",
    "MouseEvents",
    "SocketQmp",
    "SpiceAddress",
    "SpiceClient",
    "VirtioSerialChannel",
    "VmSession",
    "parse_key",
    "spice_address",
    "validate_text",
]
