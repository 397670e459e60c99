"""Capacity of the local host (issue 14 section 3, the VSImax question): desktop guests (plain
VMs, the desktop guest image) started one step at a time; after each start every desk runs the
workload at once: at its login screen, ``--keys`` key presses into the greeter's name field
(a letter, then backspace, each one's input-to-display latency to the name field's redraw,
measured over SPICE by the engine like every input step). The run stops when the p95 is more
than 15 % above the one-desk baseline, or a desk fails (``atp_core/orchestrator/capacity.py``),
and prints "capacity: N desks on host X" with the latency-vs-desks curve and why it stopped.

Run: ``.venv/bin/python bench/p15_capacity.py [--max-desks 4] [--keys 10] [--runs 1]``.
``--controller-overhead ROUNDS`` measures instead whether the controller adds latency (issue 14
section 6): one desk, the same workload run directly and through ``run_capacity``,
interleaved. ``--vdi``: the desks are clones of the VDI simulator's desktop template (its
libvirt backend on the local libvirtd), created and started through the VDI API client. Desks
are named ``<ATP_RIG_PREFIX>cap-<n>`` (``<ATP_RIG_PREFIX>vdcap-d<nnn>`` with ``--vdi``) and
removed at the end. The short versions in the suite are tests/rig/test_capacity_short.py (2
desks) and tests/rig/test_capacity_vdi.py (2 desks through the platform).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import libvirt

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measured import announce  # noqa: E402
from rig_guest import ROOT  # noqa: E402

sys.path.insert(0, str(ROOT))

from atp_core.orchestrator.capacity import CapacityResult, run_capacity  # noqa: E402
from atp_core.orchestrator.capacity_desks import Desk, typing_workload  # noqa: E402
from atp_core.orchestrator.latency import percentile  # noqa: E402
from tests.vm_pool import LIBVIRT_URI, DesktopVm  # noqa: E402

RIG_PREFIX = os.environ.get("ATP_RIG_PREFIX", "atp-bench-")
SETTLE_TIMEOUT = 60.0  # a started desk waits at most this long to be idle before it measures


class Desks:
    """Desktop guests started on demand on one libvirt connection, all removed at the end."""

    def __init__(self, uri: str = LIBVIRT_URI, prefix: str = RIG_PREFIX) -> None:
        self.uri, self.prefix = uri, prefix
        self.conn = libvirt.open(uri)
        self.started: list[DesktopVm] = []

    def start(self, n: int) -> DesktopVm:
        """Boot desk ``n`` (a plain desktop guest VM) and wait until it is idle."""
        vm = DesktopVm(f"{self.prefix}cap-{n}", self.uri, self.conn)
        self.started.append(vm)
        vm.boot()  # defined, started, agent up, login screen up
        # xdm draws its prompt and takes keys a moment after the login-screen marker (a key
        # sent at once can be lost, as DesktopVm.log_in knows); and a desk that has just booted
        # is still busy: measured then, its own boot would be taken for the host's load
        time.sleep(3.0)
        self.settle(vm)
        return vm

    @staticmethod
    def settle(vm: DesktopVm, timeout: float = SETTLE_TIMEOUT) -> None:
        """Wait until the guest is idle: one runnable task (the agent's shell reading it) in
        three reads of /proc/loadavg in a row; at most ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        quiet = 0
        while quiet < 3 and time.monotonic() < deadline:
            code, out, _ = vm.shell("cat /proc/loadavg")
            running = int(out.split()[3].split("/")[0]) if code == 0 and out.split() else 99
            quiet = quiet + 1 if running <= 1 else 0
            time.sleep(0.5)

    def close(self) -> None:
        for vm in self.started:
            with contextlib.suppress(libvirt.libvirtError):
                vm.remove()
        self.conn.close()


def greeter_workload(keys: int, artifacts: Path):
    """The workload of one desk: ``keys`` keys at its login screen through the engine
    (``capacity_desks.typing_workload``, the one the web's capacity runs use); its latencies."""
    work = typing_workload(keys, artifacts)
    return lambda vm, step: work(Desk(vm.name, vm.uri), step)


def capacity_run(*, max_desks: int, keys: int, threshold: float = 0.15, echo=print):
    """One capacity run on the local host; the result (desks removed)."""
    desks = Desks()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            return run_capacity(
                desks.start,
                greeter_workload(keys, Path(tmp)),
                host=os.uname().nodename,
                max_desks=max_desks,
                threshold=threshold,
                on_step=lambda s: echo(
                    f"  {s.desks} desk(s): {len(s.samples)} inputs, p50 {s.p50 * 1000:.0f} ms, "
                    f"p95 {s.p95 * 1000:.0f} ms"
                ),
            )
    finally:
        desks.close()


def vdi_capacity_run(*, max_desks: int, keys: int, threshold: float = 0.15, echo=print):
    """One capacity run whose desks are created and started through the VDI platform: the
    simulator (``python -m vdisim --backend libvirt``) on the local libvirtd, a desk pool of
    ``max_desks`` clones of its desktop template (``capacity_desks.VdiDesks``); pool and
    simulator removed at the end."""
    import socket
    import subprocess
    import urllib.request

    from atp_core.orchestrator.capacity_desks import VdiDesks
    from atp_core.vdiplatform import VdiClient
    from vdisim.backends import DESKTOP_TEMPLATE

    prefix = f"{RIG_PREFIX}vdcap-"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sim = subprocess.Popen(
        [sys.executable, "-m", "vdisim", "--port", str(port), "--backend", "libvirt"]
        + ["--libvirt-uri", LIBVIRT_URI, "--prefix", prefix],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError):
                urllib.request.urlopen(base + "/_sim/health", timeout=1).close()
                break
            if time.monotonic() > deadline or sim.poll() is not None:
                raise RuntimeError("the VDI simulator did not answer within 30 s")
            time.sleep(0.2)
        client = VdiClient(base, "admin", "11111111", timeout=30)
        with tempfile.TemporaryDirectory() as tmp:
            desks = VdiDesks(
                client,
                LIBVIRT_URI,
                template=DESKTOP_TEMPLATE,
                pool="capacity",
                count=max_desks,
                domain_prefix=f"{prefix}d",
                artifacts=Path(tmp),
            )
            try:
                return run_capacity(
                    desks.start,
                    typing_workload(keys, Path(tmp)),
                    host=f"{os.uname().nodename} (VDI)",
                    max_desks=max_desks,
                    threshold=threshold,
                    on_step=lambda s: echo(
                        f"  {s.desks} desk(s): {len(s.samples)} inputs, "
                        f"p50 {s.p50 * 1000:.0f} ms, p95 {s.p95 * 1000:.0f} ms"
                    ),
                )
            finally:
                desks.close()
    finally:
        sim.terminate()
        sim.wait(15)


def controller_overhead(*, rounds: int, keys: int, echo=print) -> dict:
    """Issue 14 section 6: the same one-desk workload run directly and through
    ``run_capacity`` (max_desks 1, the desk already up), interleaved (A B, B A, ...) on one
    booted desk; p50/p95 of every key of each way and their ratio (controller / direct)."""
    desks = Desks()
    samples: dict[str, list[float]] = {"direct": [], "controller": []}
    per_round: dict[str, list[float]] = {"direct": [], "controller": []}
    try:
        vm = desks.start(1)
        with tempfile.TemporaryDirectory() as tmp:
            work = greeter_workload(keys, Path(tmp))

            def direct(n: int) -> list[float]:
                return work(vm, n)

            def controlled(n: int) -> list[float]:
                result = run_capacity(
                    lambda _n: vm, lambda d, _s: work(d, n), host="local", max_desks=1
                )
                if not result.steps or not result.steps[0].samples:
                    raise RuntimeError(f"round {n}: {result.reason}")
                return result.steps[0].samples

            for n in range(1, rounds + 1):
                order = [("direct", direct), ("controller", controlled)]
                for name, way in order if n % 2 else order[::-1]:
                    got = way(n)
                    samples[name] += got
                    per_round[name].append(percentile(got, 95))
                    p50, p95 = percentile(got, 50) * 1000, percentile(got, 95) * 1000
                    echo(
                        f"  round {n} {name:<10}: {len(got)} keys, p50 {p50:.0f}, p95 {p95:.0f} ms"
                    )
    finally:
        desks.close()
    out = {}
    for name, values in samples.items():
        out[name] = {
            "keys": len(values),
            "p50_ms": round(percentile(values, 50) * 1000, 1),
            "p95_ms": round(percentile(values, 95) * 1000, 1),
            "median_round_p95_ms": round(percentile(per_round[name], 50) * 1000, 1),
        }
    for stat in ("p50_ms", "p95_ms", "median_round_p95_ms"):
        out[f"ratio_{stat[:-3]}"] = round(out["controller"][stat] / out["direct"][stat], 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-desks", type=int, default=4)
    parser.add_argument("--keys", type=int, default=10, help="measured keys per desk and step")
    parser.add_argument("--runs", type=int, default=1, help="repeat the whole run")
    parser.add_argument(
        "--vdi",
        action="store_true",
        help="desks created and started through the VDI simulator's libvirt backend",
    )
    parser.add_argument(
        "--controller-overhead",
        type=int,
        metavar="ROUNDS",
        help="instead: one desk, its workload directly vs through run_capacity, ROUNDS rounds",
    )
    args = parser.parse_args()
    if args.controller_overhead:
        announce("P15b capacity controller overhead")
        out = controller_overhead(rounds=args.controller_overhead, keys=args.keys)
        d, c = out["direct"], out["controller"]
        print(
            f"direct: {d['keys']} keys p50 {d['p50_ms']} ms p95 {d['p95_ms']} ms; "
            f"through run_capacity: {c['keys']} keys p50 {c['p50_ms']} ms p95 {c['p95_ms']} ms"
        )
        print(
            f"ratio controller/direct: p50 {out['ratio_p50']}, p95 {out['ratio_p95']}, "
            f"median round p95 {out['ratio_median_round_p95']}"
        )
        print(json.dumps(out))
        return
    announce("P15 capacity" + (" (desks through the VDI platform)" if args.vdi else ""))
    results: list[CapacityResult] = []
    for n in range(args.runs):
        print(f"run {n + 1}/{args.runs}:")
        run = vdi_capacity_run if args.vdi else capacity_run
        result = run(max_desks=args.max_desks, keys=args.keys)
        results.append(result)
        print(result.summary())
        print("\n".join(result.curve()))
        print(json.dumps(result.to_dict()))
    if len(results) > 1:
        found = [r.capacity for r in results]
        print(f"capacity over {len(found)} runs: {found} (spread {max(found) - min(found)})")


if __name__ == "__main__":
    main()
