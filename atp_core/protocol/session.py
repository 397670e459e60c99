"""VmSession: everything the engine does to one VM, behind one object.

Two display paths share one interface (``session.keyboard``, ``session.mouse``,
``session.screen``): ``"hypervisor"`` (libvirt ``sendKey``, QMP ``input-send-event``, libvirt
screenshots: works on any domain) and ``"spice"`` (the VM's SPICE server, as a remote user sees
and drives it: ``atp_core.protocol.spice.SpiceClient``).
"""

from __future__ import annotations

import libvirt

from atp_core.errors import InvalidInput

from .domain import ConnectionLike, DomainRef
from .input_log import InputLog
from .keyboard import Keyboard
from .mouse import Mouse
from .power import Power
from .qga import GuestAgent
from .qmp import LibvirtQmp
from .screen import Screen
from .spice import SpiceClient
from .virtio_serial import VirtioSerialChannel

DISPLAY_PATHS = ("hypervisor", "spice")


class VmSession:
    """A VM on a host connection: keyboard, mouse, screen, agent, power, input log, channels.

    ``display`` picks the path of keyboard, mouse and screen (see the module docstring); the
    SPICE client connects on first use and reconnects by itself after a reboot or restart.
    """

    def __init__(
        self,
        connection: ConnectionLike,
        domain: str,
        *,
        agent_timeout: float = 10.0,
        display: str = "hypervisor",
    ) -> None:
        if display not in DISPLAY_PATHS:
            raise InvalidInput(f"display {display!r}: allowed {', '.join(DISPLAY_PATHS)}")
        self.ref = DomainRef(connection, domain)
        self.name = domain
        self.display = display
        self.qmp = LibvirtQmp(self.ref)
        self.agent = GuestAgent(self.ref, timeout=agent_timeout)
        self.spice: SpiceClient | None = None
        if display == "spice":
            self.spice = SpiceClient.for_domain(self.ref)
            self.keyboard: Keyboard | SpiceClient = self.spice
            self.screen: Screen | SpiceClient = self.spice
            self.mouse: Mouse | SpiceClient = self.spice
        else:
            self.keyboard = Keyboard(self.ref)
            self.screen = Screen(self.ref)
            self.mouse = Mouse(self.qmp, self.screen)
        self.power = Power(self.ref, self.agent)
        self.input_log = InputLog(self.agent)

    @property
    def domain(self) -> libvirt.virDomain:
        return self.ref.lookup()

    @property
    def uuid(self) -> str:
        return self.ref.call("uuid", lambda d: d.UUIDString(), running=False)

    def channel(self, name: str, timeout: float = 10.0) -> VirtioSerialChannel:
        return VirtioSerialChannel(self.ref, name, timeout)

    def close(self) -> None:
        """Close the SPICE connection, if any (the libvirt connection belongs to the caller)."""
        if self.spice is not None:
            self.spice.close()
