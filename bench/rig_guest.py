"""A test guest for the rig benchmarks: an existing running domain, or one booted for the run."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from measured import rig_prefix  # noqa: E402

from tests.vm_pool import (  # noqa: E402
    LIBVIRT_URI,
    DesktopVm,
    RigVm,
    VmPool,
    desktop_built,
    guest_built,
)


@contextlib.contextmanager
def bench_guest(domain: str | None, prefix: str | None = None) -> Iterator[RigVm]:
    """``domain`` if given (must be a running rig guest), else a fresh guest removed at the end
    (named after the session's ``ATP_RIG_PREFIX``: ``<prefix>bench-guest-0``)."""
    prefix = prefix or rig_prefix("guest")
    if domain:
        pool = VmPool(0, prefix, LIBVIRT_URI)
        vm = RigVm(domain, LIBVIRT_URI, pool.conn)
        vm.wait_agent()
        try:
            yield vm
        finally:
            pool.conn.close()
        return
    if not guest_built():
        raise SystemExit("the test guest is not built: run bash guest/build.sh")
    pool = VmPool(1, prefix, LIBVIRT_URI)
    try:
        pool.boot()
        yield pool.vms[0]
    finally:
        pool.close()


@contextlib.contextmanager
def bench_desktop(domain: str | None, prefix: str | None = None) -> Iterator[DesktopVm]:
    """The desktop guest logged in: ``domain`` if given (a running rig desktop guest, left
    running), else a fresh one removed at the end (``<ATP_RIG_PREFIX>bench-desktop-0``)."""
    import libvirt

    conn = libvirt.open(LIBVIRT_URI)
    vm = DesktopVm(domain or f"{prefix or rig_prefix('desktop')}0", LIBVIRT_URI, conn)
    if not domain:
        if not desktop_built():
            raise SystemExit("the desktop guest is not built: run bash guest/build-desktop.sh")
        vm.boot()
    try:
        vm.log_in()
        yield vm
    finally:
        if not domain:
            vm.remove()
        conn.close()
