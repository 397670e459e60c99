"""VM power through libvirt, with waits that honour a deadline and a cancel token."""

from __future__ import annotations

import time

import libvirt

from atp_core.cancel import NEVER, CancelToken
from atp_core.errors import AtpError, OperationTimeout
from atp_core.transport.inventory import state_name

from .domain import DomainRef
from .qga import GuestAgent


class Power:
    def __init__(self, domain: DomainRef, agent: GuestAgent) -> None:
        self.domain = domain
        self.agent = agent

    def state(self) -> str:
        return state_name(self.domain.call("state", lambda d: d.state()[0], running=False))

    def wait_for_state(
        self, expected: str, timeout: float, cancel: CancelToken | None = None
    ) -> str:
        cancel = cancel or NEVER
        deadline = time.monotonic() + timeout
        while True:
            current = self.state()
            if current == expected:
                return current
            if time.monotonic() >= deadline:
                raise OperationTimeout(
                    f"{self.domain.name}: state is {current!r}, "
                    f"not {expected!r} after {timeout:g} s"
                )
            cancel.wait(0.25)

    def wait_for_agent(self, timeout: float, cancel: CancelToken | None = None) -> None:
        cancel = cancel or NEVER
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            try:
                self.agent.ping(timeout=2)
                return
            except AtpError as exc:
                last = str(exc)
            cancel.wait(0.25)
        raise OperationTimeout(
            f"{self.domain.name}: guest agent did not answer within {timeout:g} s ({last})"
        )

    def start(self, wait: bool = True, timeout: float = 120, cancel: CancelToken | None = None):
        if self.state() != "running":
            self.domain.call("start", lambda d: d.create(), running=False)
        if wait:
            self.wait_for_agent(timeout, cancel)

    def shutdown(
        self,
        force: bool = False,
        wait: bool = True,
        timeout: float = 120,
        cancel: CancelToken | None = None,
    ) -> None:
        if force:
            self.destroy()
        else:
            flags = (
                libvirt.VIR_DOMAIN_SHUTDOWN_GUEST_AGENT | libvirt.VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN
            )
            self.domain.call("shutdown", lambda d: d.shutdownFlags(flags))
        if wait:
            self.wait_for_state("shutoff", timeout, cancel)

    def reboot(
        self, wait: bool = True, timeout: float = 120, cancel: CancelToken | None = None
    ) -> None:
        self.agent.reboot()
        if wait:
            time.sleep(1.0)  # let the old agent go away before waiting for the new one
            self.wait_for_agent(timeout, cancel)

    def reset(self, wait: bool = False, timeout: float = 120, cancel=None) -> None:
        self.domain.call("reset", lambda d: d.reset(0))
        if wait:
            time.sleep(1.0)
            self.wait_for_agent(timeout, cancel)

    def destroy(self) -> None:
        dom = self.domain.lookup()
        if dom.isActive():
            self.domain.call("destroy", lambda d: d.destroy(), running=False)

    def suspend(self) -> None:
        self.domain.call("suspend", lambda d: d.suspend())

    def resume(self) -> None:
        self.domain.call("resume", lambda d: d.resume())
