"""P4: the same scenario on 1 VM, then on 4 VMs in parallel (one executor branch per VM).

    t1 = wall time of the run on 1 VM
    t4 = wall time of the run on 4 VMs at once (max_parallel=4)
    efficiency = (4 * t1) / (4 * t4) = t1 / t4

i.e. the work of 4 serial runs (4 * t1) against 4 VMs' worth of time spent in parallel; 1.00 =
four VMs cost no more wall time than one (perfect scaling), 0.25 = no gain over running them one
after the other. The scenario mixes guest commands, files, typing with read-back and a
screenshot (what a typical test does). All 4 guests run on this host, so on a small machine the
guests themselves compete for CPU: the figure is the rig's, not only the engine's.

Run: ``.venv/bin/python bench/p4_parallel_efficiency.py [--rounds 3] [--vms 4]``
(boots ``--vms`` test guests named ``<prefix>N`` and removes them after).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from measured import announce, rig_prefix  # noqa: E402

from atp_core.orchestrator import Target, load_scenario, run_scenario  # noqa: E402
from tests.vm_pool import LIBVIRT_URI, VmPool, guest_built  # noqa: E402

SCENARIO = """
name: p4-workload
steps:
  - type: guest_ping
  - type: loop
    count: 20
    steps:
      - type: exec_command
        command: echo step ${loop.index} on ${vm.name}
        expect: {stdout_contains: "step ${loop.index}"}
  - type: file_write
    path: /tmp/p4.txt
    content: "${vm.name}"
  - type: file_read
    path: /tmp/p4.txt
    capture: content
  - type: verify_command
    command: test "${content}" = "${vm.name}"
  - type: send_text
    text: "p4 ${vm.name}\\n"
  - type: verify_input
    text: "p4 ${vm.name}\\n"
    timeout: 60s
  - type: screenshot
    label: p4
"""


def timed_run(scenario, targets) -> float:
    start = time.perf_counter()
    report = run_scenario(
        scenario,
        targets,
        sink=None,
        artifact_dir=tempfile.mkdtemp(prefix="atp-bench-p4-"),
        max_parallel=len(targets),
    )
    elapsed = time.perf_counter() - start
    if report.result != "passed":
        bad = [(t.name, s.id, s.error) for t in report.targets for s in t.steps if s.error]
        raise SystemExit(f"run failed: {report.result} {bad[:5]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--vms", type=int, default=4)
    parser.add_argument("--prefix", default=rig_prefix("p4"))
    args = parser.parse_args()
    announce("== P4 parallel efficiency (bench/p4_parallel_efficiency.py)")
    if not guest_built():
        raise SystemExit("the test guest is not built: run bash guest/build.sh")
    scenario = load_scenario(SCENARIO)
    pool = VmPool(args.vms, args.prefix, LIBVIRT_URI)
    try:
        pool.boot()
        targets = [Target(f"local/{vm.name}", vm.uri, vm.name) for vm in pool.vms]
        timed_run(scenario, targets[:1])  # warm-up: connections, guest caches
        t1s, tns = [], []
        for _ in range(args.rounds):
            t1s.append(timed_run(scenario, targets[:1]))
            tns.append(timed_run(scenario, targets))
    finally:
        pool.close()
    t1, tn = statistics.median(t1s), statistics.median(tns)
    n = args.vms
    print(f"P4 parallel efficiency: {n} VMs, {args.rounds} rounds, median wall time")
    print(f"  t1 (1 VM)          {t1:7.2f} s")
    print(f"  t{n} ({n} VMs at once) {tn:7.2f} s")
    print(f"  efficiency = ({n} * t1) / ({n} * t{n}) = t1 / t{n} = {t1 / tn:.2f}")
    print(f"  speed-up over serial = {n} * t1 / t{n} = {n * t1 / tn:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
