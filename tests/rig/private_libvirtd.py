"""A libvirtd of the test's own, in a private mount namespace, to kill and restart freely.

The shared daemon (``rig/start-daemons.sh``) serves everybody on the machine and is not ours to
kill; this one is started by the test, so the test may end it (by its pid) and start it again.
Its ``/run/libvirt``, ``/var/lib/libvirt``, ``/var/log/libvirt``, ``/var/cache/libvirt`` and
``/etc/libvirt`` are bind mounts of directories under ``root``, so it sees none of the shared
daemon's domains and they see none of its. QEMU keeps running when the daemon dies, as on a
real host; the restarted daemon reattaches to it through the same state directories.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time

import libvirt

BINDS = {
    "run": "/run/libvirt",
    "lib": "/var/lib/libvirt",
    "log": "/var/log/libvirt",
    "cache": "/var/cache/libvirt",
    "etc": "/etc/libvirt",
}


def available() -> bool:
    return os.geteuid() == 0 and bool(shutil.which("unshare")) and bool(shutil.which("libvirtd"))


class PrivateLibvirtd:
    def __init__(self) -> None:
        self.root = tempfile.mkdtemp(prefix="atp-libvirtd-")
        for sub in BINDS:
            os.makedirs(os.path.join(self.root, sub), exist_ok=True)
        with open(os.path.join(self.root, "etc", "qemu.conf"), "w") as f:
            f.write('stdio_handler = "file"\nnamespaces = []\n')  # no virtlogd needed
        with open(os.path.join(self.root, "etc", "libvirtd.conf"), "w") as f:
            f.write('unix_sock_group = "root"\n')
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def socket(self) -> str:
        return os.path.join(self.root, "run", "libvirt-sock")

    @property
    def uri(self) -> str:
        return f"qemu+unix:///system?socket={self.socket}"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc and self.proc.poll() is None else None

    def start(self, timeout: float = 30) -> None:
        if self.pid:
            return
        mounts = "\n".join(
            f"mount --bind {os.path.join(self.root, sub)} {target}" for sub, target in BINDS.items()
        )
        script = f"{mounts}\nmkdir -p /var/lib/libvirt/qemu /var/log/libvirt/qemu\n"
        # its own pid file: the default /run/libvirtd.pid belongs to the shared daemon
        pidfile = os.path.join(self.root, "libvirtd.pid")
        script += f"exec libvirtd -f /etc/libvirt/libvirtd.conf --pid-file {pidfile}"
        self.starts += 1
        log = open(os.path.join(self.root, f"libvirtd-{self.starts}.log"), "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            ["unshare", "-m", "--propagation", "private", "bash", "-c", script],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"private libvirtd exited ({self.proc.returncode}): see {log.name}"
                )
            with contextlib.suppress(libvirt.libvirtError):
                libvirt.open(self.uri).close()
                return
            time.sleep(0.1)
        raise RuntimeError(f"private libvirtd did not answer within {timeout} s")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """End the daemon (only the daemon: its QEMU processes live on)."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            self.proc.wait(30)

    def qemu_pid(self, domain: str) -> int | None:
        path = os.path.join(self.root, "run", "qemu", f"{domain}.pid")
        with contextlib.suppress(OSError, ValueError), open(path) as f:
            pid = int(f.read().strip())
            return pid if os.path.exists(f"/proc/{pid}") else None
        return None

    def close(self, domains: list[str]) -> None:
        """Destroy our domains (restarting the daemon if needed), stop it, remove its files."""
        with contextlib.suppress(Exception):
            self.start()
            conn = libvirt.open(self.uri)
            for name in domains:
                with contextlib.suppress(libvirt.libvirtError):
                    dom = conn.lookupByName(name)
                    if dom.isActive():
                        dom.destroy()
                    dom.undefine()
            conn.close()
        for name in domains:  # a QEMU the daemon could not stop: ours, by its pid
            pid = self.qemu_pid(name)
            if pid:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        self.kill(signal.SIGTERM)
        shutil.rmtree(self.root, ignore_errors=True)
