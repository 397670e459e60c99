"""VM power through libvirt, with waits that honour a deadline and a cancel token."""

from __future__ import annotations

import time

import libvirt

from atp_core.cancel import NEVER, CancelToken
from atp_core.errors import AtpError, OperationTimeout
from atp_core.transport.inventory import state_name

from .domain import DomainRef
from .qga import GuestAgent

BOOT_ID_PATH = "/proc/sys/kernel/random/boot_id"


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

    def boot_id(self) -> str | None:
        """The guest kernel's boot id (Linux guests; None when it cannot be read)."""
        try:
            raw = self.agent.file_read(BOOT_ID_PATH)
        except AtpError:
            return None
        return raw.decode(errors="replace").strip() or None

    def wait_for_new_boot(
        self, before: str | None, timeout: float, cancel: CancelToken | None = None
    ) -> None:
        """Wait until the guest agent answers from a boot other than ``before``.

        Right after a reboot request the *old* agent may still answer; comparing boot ids
        keeps a slow guest's old agent from being taken for the rebooted one. Without a
        ``before`` (no boot id readable, e.g. Windows) the first answer counts.
        """
        cancel = cancel or NEVER
        deadline = time.monotonic() + timeout
        while True:
            cancel.wait(0.5)
            left = deadline - time.monotonic()
            if left <= 0:
                raise OperationTimeout(
                    f"{self.domain.name}: did not come back from the reboot in {timeout:g} s"
                )
            self.wait_for_agent(left, cancel)
            if before is None:
                return
            after = self.boot_id()
            if after is not None and after != before:
                return

    def reboot(
        self, wait: bool = True, timeout: float = 120, cancel: CancelToken | None = None
    ) -> None:
        """Reboot through the guest agent; with ``wait``, until the new boot's agent answers."""
        before = self.boot_id() if wait else None
        self.agent.reboot()
        if wait:
            self.wait_for_new_boot(before, timeout, cancel)

    def reset(self, wait: bool = False, timeout: float = 120, cancel=None) -> None:
        """Hard reset through libvirt; with ``wait``, until the new boot's agent answers."""
        before = self.boot_id() if wait else None
        self.domain.call("reset", lambda d: d.reset(0))
        if wait:
            self.wait_for_new_boot(before, timeout, cancel)

    def destroy(self) -> None:
        dom = self.domain.lookup()
        if dom.isActive():
            self.domain.call("destroy", lambda d: d.destroy(), running=False)

    def suspend(self) -> None:
        self.domain.call("suspend", lambda d: d.suspend())

    def resume(self) -> None:
        self.domain.call("resume", lambda d: d.resume())
