"""Desktop guest boot: seconds from ``virDomainCreate`` to xdm's login screen drawn, seen over
SPICE (the greeter's grey box on its blue background), and the guest's own phase marks from the
serial log (kernel uptime at rc.sysinit, devices ready, Xsetup).

Run: ``.venv/bin/python bench/p13_desktop_boot.py [--rounds 2]`` (boots and removes its own guest,
named with ``ATP_RIG_PREFIX``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import statistics
import sys
import time
from pathlib import Path

import libvirt

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measured import announce  # noqa: E402
from rig_guest import ROOT  # noqa: E402

sys.path.insert(0, str(ROOT))

from atp_core.errors import InfrastructureError  # noqa: E402
from atp_core.protocol import SpiceClient, VmSession  # noqa: E402
from guest.domain import define_desktop  # noqa: E402

GREETER_BACKGROUND = (0x3A, 0x6E, 0xA5)
GREETER_BOX = (190, 190, 190)


def greeter_drawn(frame) -> bool:
    px = frame.pixels
    if px.shape[:2] != (768, 1024):
        return False
    top = (px[0:100] == GREETER_BACKGROUND).all(axis=2).mean()
    box = (px[330:450, 60:760] == GREETER_BOX).all(axis=2).mean()
    return top > 0.95 and box > 0.5


def boot_once(conn, name: str, timeout: float) -> dict:
    with contextlib.suppress(libvirt.libvirtError):
        dom = conn.lookupByName(name)
        if dom.isActive():
            dom.destroy()
        dom.undefine()
    dom = define_desktop(conn, name, ticket="bench0ticket")
    t0 = time.monotonic()
    dom.create()
    session = VmSession(conn, name)
    client = SpiceClient.for_domain(session.ref, connect_timeout=30)
    seen = None
    try:
        while time.monotonic() - t0 < timeout:
            try:
                frame = client.frame()
            except InfrastructureError:
                time.sleep(0.5)
                continue
            if greeter_drawn(frame):
                seen = frame.time - t0
                break
            time.sleep(0.2)
    finally:
        client.close()
    log = Path(f"/var/log/libvirt/qemu/{name}-serial.log").read_text(errors="replace")
    marks = {
        key: float(m.group(1))
        for key, pattern in (
            ("uptime at sysinit", r"atp desktop sysinit ([\d.]+)"),
            ("uptime devices ready", r"atp desktop up ([\d.]+)"),
            ("uptime greeter setup", r"atp xdm greeter ([\d.]+)"),
        )
        if (m := re.search(pattern, log))
    }
    dom.destroy()
    dom.undefine()
    return {"greeter on screen s": seen, **marks}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    announce("== desktop guest boot (bench/p13_desktop_boot.py)")
    name = os.environ.get("ATP_RIG_PREFIX", "atp-bench-") + "bootbench"
    conn = libvirt.open(os.environ.get("ATP_LIBVIRT_URI", "qemu:///system"))
    results = [boot_once(conn, name, args.timeout) for _ in range(args.rounds)]
    conn.close()
    for i, r in enumerate(results):
        print(f"round {i + 1}: " + ", ".join(f"{k} {v}" for k, v in r.items()))
    seen = [r["greeter on screen s"] for r in results if r["greeter on screen s"] is not None]
    if not seen:
        print("the login screen never appeared")
        return 1
    print(f"create -> login screen on SPICE: median {statistics.median(seen):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
