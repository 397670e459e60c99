"""The test rig: a pool of booted test guests on the local libvirtd, shared by a test session.

Guests boot once per session (about 10 s each under TCG, in parallel) and are handed out one at
a time; a test that leaves its guest broken (off, agent gone) gets it rebooted on release.
Besides the text pool there is one desktop guest per session (``DesktopVm``: Xorg, xdm, twm,
SPICE), booted on first use. Raw libvirt calls only: the rig must not depend on the code it tests.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import libvirt
import libvirt_qemu

from guest.domain import DESKTOP_USER, define_desktop, define_guest

LIBVIRT_URI = os.environ.get("ATP_LIBVIRT_URI", "qemu:///system")
BOOT_TIMEOUT = float(os.environ.get("ATP_RIG_BOOT_TIMEOUT", "120"))
# the desktop guest boots in ~15 s on an idle machine, minutes when 2 cores are shared by many
DESKTOP_BOOT_TIMEOUT = float(os.environ.get("ATP_RIG_DESKTOP_BOOT_TIMEOUT", "300"))
# ending a session and xdm's greeter coming back takes seconds, a minute on a crowded host
GREETER_TIMEOUT = 150.0
LOGIN_TIMEOUT = 90.0  # typed credentials to a session marker, on a busy machine

libvirt.registerErrorHandler(lambda _ctx, _err: None, None)


@dataclass
class RigVm:
    """One booted test guest."""

    name: str
    uri: str
    conn: libvirt.virConnect
    domain_options: dict = field(default_factory=dict)  # render_domain_xml's (VNC listen...)

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
            dom = define_guest(self.conn, self.name, **self.domain_options)
        if dom.isActive() and self.agent_answers():
            return
        if dom.isActive():
            dom.destroy()
        try:
            define_guest(self.conn, self.name, **self.domain_options)
        except libvirt.libvirtError:
            # defined with another UUID (a redefinition without one is refused): recreate it
            dom.undefine()
            define_guest(self.conn, self.name, **self.domain_options)
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

    def __init__(self, size: int, prefix: str, uri: str = LIBVIRT_URI, **domain_options) -> None:
        self.uri = uri
        self.conn = libvirt.open(uri)
        self.vms = [RigVm(f"{prefix}{i}", uri, self.conn, domain_options) for i in range(size)]
        self._free = list(self.vms)
        self._cond = threading.Condition()

    def boot(self) -> None:
        for vm in self.vms:
            vm.remove()
            define_guest(self.conn, vm.name, **vm.domain_options).create()
        for vm in self.vms:
            vm.wait_agent()

    @contextlib.contextmanager
    def lend(self, count: int = 1) -> Iterator[list[RigVm]]:
        with self._cond:
            while len(self._free) < count:
                self._cond.wait()
            taken, self._free = self._free[:count], self._free[count:]
        try:
            self._reopen_if_dead()
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

    def _reopen_if_dead(self) -> None:
        """A remote host's connection dies when a test pulls its link: dial it again."""
        try:
            if self.conn.isAlive():
                return
        except libvirt.libvirtError:
            pass
        self.conn = libvirt.open(self.uri)
        for vm in self.vms:
            vm.conn = self.conn

    def close(self) -> None:
        with contextlib.suppress(libvirt.libvirtError):
            self._reopen_if_dead()
        for vm in self.vms:
            vm.remove()
        with contextlib.suppress(libvirt.libvirtError):
            self.conn.close()


# Linux key codes for typing the desktop login with raw libvirt (the rig does not use atp_core)
_LINUX_KEYS = {"a": 30, "t": 20, "p": 25, "\n": 28}


class DesktopVm(RigVm):
    """The session's desktop guest: SPICE with a fresh ticket, at its login screen or logged in.

    Guest markers (see guest/build-desktop.sh): /run/atp-greeter (login screen up),
    /run/atp-session (a user logged in), /tmp/atp-desktop (the session's windows are mapped).
    """

    def __init__(self, name: str, uri: str, conn: libvirt.virConnect) -> None:
        super().__init__(name, uri, conn)
        self.ticket = secrets.token_hex(8)
        self.user, self.password = DESKTOP_USER

    def _define(self) -> libvirt.virDomain:
        return define_desktop(self.conn, self.name, ticket=self.ticket)

    def boot(self) -> None:
        self.remove()
        self._define().create()
        self.wait_agent(DESKTOP_BOOT_TIMEOUT)
        self.wait_marker("/run/atp-greeter")

    def ensure_running(self) -> None:
        try:
            dom = self.domain
        except libvirt.libvirtError:
            dom = None
        if dom is not None and dom.isActive() and self.agent_answers():
            return
        self.boot()

    def marker(self, path: str) -> bool:
        return self.shell(f"test -e {path}")[0] == 0

    def wait_marker(self, path: str, timeout: float = DESKTOP_BOOT_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not self.marker(path):
            if time.monotonic() > deadline:
                raise TimeoutError(f"desktop guest {self.name}: no {path} within {timeout}s")
            time.sleep(0.3)

    def spice_port(self) -> int:
        """The SPICE port libvirt allocated (live XML)."""
        import xml.etree.ElementTree as ET

        graphics = ET.fromstring(self.domain.XMLDesc(0)).find("devices/graphics[@type='spice']")
        return int(graphics.get("port"))

    def to_greeter(self) -> None:
        """End any session (twm is the session's last process) and wait for the login screen:
        no session marker and the greeter's (Xsetup writes it, Xstartup removes it at a
        login). A session or display manager that has not come back within GREETER_TIMEOUT
        (a wedged X server, an agent that stopped answering) is started over by a boot."""
        self.ensure_running()
        try:
            if self.marker("/run/atp-session"):
                self.shell("kill $(pidof twm) 2>/dev/null; true")
            deadline = time.monotonic() + GREETER_TIMEOUT
            while self.marker("/run/atp-session") or not self.marker("/run/atp-greeter"):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{self.name}: no login screen within {GREETER_TIMEOUT}s")
                time.sleep(0.3)
        except (TimeoutError, libvirt.libvirtError):
            self.boot()

    def restart_display(self) -> None:
        """Start the X server and its greeter over (xdm starts them again when Xorg exits): the
        way out of a greeter that stopped taking keys (seen after a refused password)."""
        self.shell("rm -f /run/atp-greeter; kill $(pidof Xorg) 2>/dev/null; true")
        self.wait_marker("/run/atp-greeter", GREETER_TIMEOUT)

    def log_in(self) -> None:
        """Log in as atp at the greeter (raw libvirt sendKey) and wait for the desktop. A
        greeter that starts no session within LOGIN_TIMEOUT is started over, then the guest is
        booted again: a wedged greeter costs one test a minute or two, not every later test."""
        self.ensure_running()
        if self.marker("/tmp/atp-desktop"):
            return
        for attempt in range(3):
            if attempt == 1:
                self.restart_display()
            elif attempt == 2:
                self.boot()
            self.to_greeter()
            time.sleep(1.0 + attempt)  # the greeter draws its prompt after the Xsetup marker
            for ch in f"{self.user}\n{self.password}\n":
                self.domain.sendKey(libvirt.VIR_KEYCODE_SET_LINUX, 20, [_LINUX_KEYS[ch]], 1, 0)
                time.sleep(0.08)
            try:
                self.wait_marker("/run/atp-session", LOGIN_TIMEOUT)
            except TimeoutError:
                continue
            self.wait_marker("/tmp/atp-desktop")
            return
        raise TimeoutError(f"desktop guest {self.name}: no session after 3 logins")


def libvirtd_reachable(uri: str = LIBVIRT_URI) -> bool:
    try:
        libvirt.open(uri).close()
        return True
    except libvirt.libvirtError:
        return False


def desktop_built() -> bool:
    guest_dir = os.environ.get("ATP_DESKTOP_DIR", "/var/tmp/atp/desktop")
    return os.path.exists(os.path.join(guest_dir, "initramfs.cpio.gz"))


def guest_built() -> bool:
    guest_dir = os.environ.get("ATP_GUEST_DIR", "/var/tmp/atp/guest")
    return os.path.exists(os.path.join(guest_dir, "initramfs.cpio.gz"))
