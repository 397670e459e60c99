"""VmSession: everything the engine does to one VM, behind one object."""

from __future__ import annotations

import libvirt

from .domain import ConnectionLike, DomainRef
from .input_log import InputLog
from .keyboard import Keyboard
from .mouse import Mouse
from .power import Power
from .qga import GuestAgent
from .qmp import LibvirtQmp
from .screen import Screen
from .virtio_serial import VirtioSerialChannel


class VmSession:
    """A VM on a host connection: keyboard, mouse, screen, agent, power, input log, channels."""

    def __init__(
        self, connection: ConnectionLike, domain: str, *, agent_timeout: float = 10.0
    ) -> None:
        self.ref = DomainRef(connection, domain)
        self.name = domain
        self.qmp = LibvirtQmp(self.ref)
        self.agent = GuestAgent(self.ref, timeout=agent_timeout)
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
