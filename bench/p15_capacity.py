"""Capacity of the local host (issue 14 section 3, the VSImax question): desktop guests (plain
VMs, the desktop guest image) started one step at a time; after each start every desk runs the
workload at once: at its login screen, ``--keys`` key presses into the greeter's name field
(a letter, then backspace, each one's input-to-display latency to the name field's redraw,
measured over SPICE by the engine like every input step). The run stops when the p95 is more
than 15 % above the one-desk baseline, or a desk fails (``atp_core/orchestrator/capacity.py``),
and prints "capacity: N desks on host X" with the latency-vs-desks curve and why it stopped.

Run: ``.venv/bin/python bench/p15_capacity.py [--max-desks 4] [--keys 10] [--runs 1]``. Desks
are named ``<ATP_RIG_PREFIX>cap-<n>`` and removed at the end. The short version in the suite
is tests/rig/test_capacity_short.py (2 desks).
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

from atp_core.orchestrator import Target, load_scenario, run_scenario  # noqa: E402
from atp_core.orchestrator.capacity import CapacityResult, run_capacity  # noqa: E402
from tests.vm_pool import LIBVIRT_URI, DesktopVm  # noqa: E402

RIG_PREFIX = os.environ.get("ATP_RIG_PREFIX", "atp-bench-")
SETTLE_TIMEOUT = 60.0  # a started desk waits at most this long to be idle before it measures


# xdm's name field on the desktop guest's 1024x768 login screen: the latency ends when it redraws
NAME_FIELD = "{x: 276, y: 270, width: 388, height: 48}"


def greeter_scenario(keys: int) -> str:
    """``keys`` measured key presses at the login screen: a letter, then backspace, in turns
    (the name field never grows), each followed by a pause as a user types; first a pause for
    the SPICE connection's first full-screen updates to pass."""
    steps = ["  - type: wait\n    duration: 2s"]
    for n in range(keys):
        key = "backspace" if n % 2 else "a"
        steps.append(
            f"  - type: send_key\n    key: {key}\n    area: {NAME_FIELD}\n    timeout: 20s"
        )
        steps.append("  - type: wait\n    duration: 300ms")
    return "name: capacity-workload\ndisplay: spice\nsteps:\n" + "\n".join(steps) + "\n"


class Desks:
    """Desktop guests started on demand on one libvirt connection, all removed at the end."""

    def __init__(self, uri: str = LIBVIRT_URI, prefix: str = RIG_PREFIX) -> None:
        self.uri, self.prefix = uri, prefix
        self.conn = libvirt.open(uri)
        self.started: list[DesktopVm] = []

    def start(self, n: int) -> DesktopVm:
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
    """The workload of one desk: the greeter scenario through the engine; its latencies."""
    scenario = load_scenario(greeter_scenario(keys))

    def workload(vm: DesktopVm, step: int) -> list[float]:
        report = run_scenario(
            scenario,
            [Target("desk", vm.uri, vm.name)],
            artifact_dir=artifacts / f"{vm.name}-{step}",
        )
        target = report.targets[0]
        if target.result != "passed":
            bad = [(s.id, s.status, s.error) for s in target.steps if s.status != "passed"]
            raise RuntimeError(f"{vm.name}: workload {target.result}: {bad[:2]}")
        values = [s.metrics.get("latency") for s in target.steps if s.type == "send_key"]
        missing = [n for n, v in enumerate(values, 1) if v is None]
        if missing:
            raise RuntimeError(
                f"{vm.name}: keys {missing} of {len(values)} drew nothing in the name field"
            )
        return [float(v) for v in values]

    return workload


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-desks", type=int, default=4)
    parser.add_argument("--keys", type=int, default=10, help="measured keys per desk and step")
    parser.add_argument("--runs", type=int, default=1, help="repeat the whole run")
    args = parser.parse_args()
    announce("P15 capacity")
    results: list[CapacityResult] = []
    for n in range(args.runs):
        print(f"run {n + 1}/{args.runs}:")
        result = capacity_run(max_desks=args.max_desks, keys=args.keys)
        results.append(result)
        print(result.summary())
        print("\n".join(result.curve()))
        print(json.dumps(result.to_dict()))
    if len(results) > 1:
        found = [r.capacity for r in results]
        print(f"capacity over {len(found)} runs: {found} (spread {max(found) - min(found)})")


if __name__ == "__main__":
    main()
