"""The test rig: a pool of booted test guests on the local libvirtd, shared by a test session.

Guests boot once per session (about 10 s each under TCG, in parallel) and are handed out one at
a time; a test that leaves its guest broken (off, agent gone) gets it rebooted on release.
Raw libvirt calls only: the rig must not depend on the code it tests.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import libvirt
import libvirt_qemu

from guest.domain import define_guest

LIBVIRT_URI = os.environ.get("ATP_LIBVIRT_URI", "qemu:///system")
BOOT_TIMEOUT = float(os.environ.get("ATP_RIG_BOOT_TIMEOUT", "120"))

libvirt.registerErrorHandler(lambda _ctx, _err: None, None)


@dataclass
class RigVm:
    """One booted test guest."""

    name: str
    uri: str
    conn: libvirt.virConnect

    @property
    def domain(self) -> libvirt.virDomain:
        return self.conn.lookupByName(self.name)

    def agent(self, command: str, arguments: dict | None = None, timeout: int = 10) -> object:
        """Raw guest-agent call (for test assertions), returning ``return``."""
        msg = {"execute": command}
        if arguments is not None:
            msg["arguments"] = arguments
        reply = libvirt_qemu.qemuAgentCommand(self.domain, json.dumps(msg), timeout, 0)
        return json.loads(reply)["return"]

    def shell(self, script: str, timeout: float = 20) -> tuple[int, str, str]:
        """Run ``/bin/sh -c script`` in the guest: (exit code, stdout, stderr)."""
        pid = self.agent(
            "guest-exec",
            {"path": "/bin/sh", "arg": ["-c", script], "capture-output": True},
        )["pid"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.agent("guest-exec-status", {"pid": pid})
            if status.get("exited"):
                out = base64.b64decode(status.get("out-data", "")).decode(errors="replace")
                err = base64.b64decode(status.get("err-data", "")).decode(errors="replace")
                return status.get("exitcode", -1), out, err
            time.sleep(0.05)
        raise TimeoutError(f"guest command did not finish in {timeout}s: {script}")

    def agent_answers(self) -> bool:
        try:
            self.agent("guest-ping", timeout=3)
            return True
        except libvirt.libvirtError:
            return False

    def wait_agent(self, timeout: float = BOOT_TIMEOUT) -> None:
        """Wait until the agent answers and the guest marked itself ready (/run/atp-ready)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.agent_answers() and self.shell("test -e /run/atp-ready")[0] == 0:
                return
            time.sleep(0.25)
        raise TimeoutError(f"guest {self.name} was not ready within {timeout}s")

    def ensure_running(self) -> None:
        """Boot the guest (again) if it is not running with a live agent."""
        try:
            dom = self.domain
        except libvirt.libvirtError:
            dom = define_guest(self.conn, self.name)
        if dom.isActive() and self.agent_answers():
            return
        if dom.isActive():
            dom.destroy()
        try:
            define_guest(self.conn, self.name)
        except libvirt.libvirtError:
            # defined with another UUID (a redefinition without one is refused): recreate it
            dom.undefine()
            define_guest(self.conn, self.name)
        self.domain.create()
        self.wait_agent()

    def remove(self) -> None:
        with contextlib.suppress(libvirt.libvirtError):
            dom = self.domain
            if dom.isActive():
                dom.destroy()
            dom.undefine()


class VmPool:
    """A fixed set of booted guests named ``<prefix><n>``, lent out one test at a time."""

    def __init__(self, size: int, prefix: str, uri: str = LIBVIRT_URI) -> None:
        self.uri = uri
        self.conn = libvirt.open(uri)
        self.vms = [RigVm(f"{prefix}{i}", uri, self.conn) for i in range(size)]
        self._free = list(self.vms)
        self._cond = threading.Condition()

    def boot(self) -> None:
        for vm in self.vms:
            vm.remove()
            define_guest(self.conn, vm.name).create()
        for vm in self.vms:
            vm.wait_agent()

    @contextlib.contextmanager
    def lend(self, count: int = 1) -> Iterator[list[RigVm]]:
        with self._cond:
            while len(self._free) < count:
                self._cond.wait()
            taken, self._free = self._free[:count], self._free[count:]
        try:
            for vm in taken:
                vm.ensure_running()
            yield taken
        finally:
            for vm in taken:
                with contextlib.suppress(Exception):
                    vm.ensure_running()
            with self._cond:
                self._free.extend(taken)
                self._cond.notify_all()

    def close(self) -> None:
        for vm in self.vms:
            vm.remove()
        self.conn.close()


def libvirtd_reachable(uri: str = LIBVIRT_URI) -> bool:
    try:
        libvirt.open(uri).close()
        return True
    except libvirt.libvirtError:
        return False


def guest_built() -> bool:
    guest_dir = os.environ.get("ATP_GUEST_DIR", "/var/tmp/atp/guest")
    return os.path.exists(os.path.join(guest_dir, "initramfs.cpio.gz"))
