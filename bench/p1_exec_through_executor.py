"""P1 through the executor: 100 ``exec_command`` steps run by ``run_scenario`` vs 100 raw
``virDomain`` guest-agent exec loops (``qemuAgentCommand`` guest-exec, then guest-exec-status
until exited), same guest, same process, alternating rounds, medians.

The executor side includes everything a real run does per step: variable rendering, the step's
cancel scope and deadline, events (``step_started``/``step_output``/``step_finished``) into a
sink, the report, the ``expect`` check. The raw side polls on the same schedule as
``GuestAgent.exec`` (5 ms doubling to 100 ms). Ratio = executor / raw (1.00 = no overhead).

Run: ``.venv/bin/python bench/p1_exec_through_executor.py [--steps 100] [--rounds 3]
[--domain NAME]`` (without ``--domain`` a test guest is booted for the run and removed after).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import libvirt
import libvirt_qemu

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from measured import announce, rig_prefix  # noqa: E402

from atp_core.orchestrator import Target, load_scenario, run_scenario  # noqa: E402
from tests.vm_pool import LIBVIRT_URI, RigVm, VmPool, guest_built  # noqa: E402


@contextlib.contextmanager
def bench_guest(domain: str | None, prefix: str) -> Iterator[RigVm]:
    """``domain`` if given (a running rig guest), else a fresh guest removed at the end."""
    if domain:
        conn = libvirt.open(LIBVIRT_URI)
        vm = RigVm(domain, LIBVIRT_URI, conn)
        vm.wait_agent()
        try:
            yield vm
        finally:
            conn.close()
        return
    if not guest_built():
        raise SystemExit("the test guest is not built: run bash guest/build.sh")
    pool = VmPool(1, prefix, LIBVIRT_URI)
    try:
        pool.boot()
        yield pool.vms[0]
    finally:
        pool.close()


def raw_exec(dom: libvirt.virDomain, script: str) -> tuple[int, str]:
    def agent(cmd: str, args: dict) -> dict:
        reply = libvirt_qemu.qemuAgentCommand(
            dom, json.dumps({"execute": cmd, "arguments": args}), 10, 0
        )
        return json.loads(reply)["return"]

    pid = agent("guest-exec", {"path": "/bin/sh", "arg": ["-c", script], "capture-output": True})
    delay = 0.005
    while True:
        status = agent("guest-exec-status", {"pid": pid["pid"]})
        if status.get("exited"):
            return status["exitcode"], base64.b64decode(status.get("out-data", "")).decode()
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


def scenario_text(steps: int) -> str:
    lines = ["name: p1-through-executor", "steps:"]
    for i in range(steps):
        lines += [
            "  - type: exec_command",
            f"    command: echo {i}",
            f"    expect: {{stdout_regex: '^{i}$'}}",
        ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--domain", help="a running rig guest to use (default: boot one)")
    parser.add_argument("--prefix", default=rig_prefix("p1x"), help="name prefix of a booted guest")
    args = parser.parse_args()
    announce("== P1x exec through the executor (bench/p1_exec_through_executor.py)")

    scenario = load_scenario(scenario_text(args.steps))
    with bench_guest(args.domain, args.prefix) as vm:
        raw_conn = libvirt.open(vm.uri)
        raw_dom = raw_conn.lookupByName(vm.name)
        target = Target(f"local/{vm.name}", vm.uri, vm.name)
        raw_times, exec_times, events = [], [], 0
        try:
            for _ in range(args.rounds):
                t0 = time.perf_counter()
                for i in range(args.steps):
                    code, out = raw_exec(raw_dom, f"echo {i}")
                    if (code, out) != (0, f"{i}\n"):
                        print(f"raw exec {i}: {code} {out!r}", file=sys.stderr)
                        return 1
                t1 = time.perf_counter()
                seen: list = []
                report = run_scenario(
                    scenario,
                    [target],
                    sink=seen.append,
                    artifact_dir=tempfile.mkdtemp(prefix="atp-bench-p1x-"),
                )
                t2 = time.perf_counter()
                if report.result != "passed" or report.totals["passed"] != args.steps:
                    print(f"executor run: {report.to_json()[:2000]}", file=sys.stderr)
                    return 1
                events = len(seen)
                raw_times.append(t1 - t0)
                exec_times.append(t2 - t1)
        finally:
            raw_conn.close()

    raw_s, exe_s = statistics.median(raw_times), statistics.median(exec_times)
    n = args.steps
    print(f"P1 through the executor: {n} exec_command steps x {args.rounds} rounds on {vm.name}")
    print(f"(executor run: {events} events, a fresh connection per run), median")
    print(f"{'':>10}  {'total s':>8}  {'ms/step':>8}")
    print(f"{'raw':>10}  {raw_s:>8.3f}  {1000 * raw_s / n:>8.1f}")
    print(f"{'executor':>10}  {exe_s:>8.3f}  {1000 * exe_s / n:>8.1f}")
    print(f"ratio executor/raw: {exe_s / raw_s:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
