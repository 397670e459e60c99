"""P1: 100 guest-exec calls through ``atp_core`` (``GuestAgent.exec``) vs raw libvirt calls.

The raw side is what a script with only ``libvirt_qemu`` would do: ``qemuAgentCommand``
``guest-exec`` (capture output), then ``guest-exec-status`` until ``exited``, decoding the
base64 output. Both sides poll on the same schedule (5 ms doubling to 100 ms), so the ratio is
the cost of the engine's layers (HostConnection, DomainRef lookup, error translation,
decoding), not of a different polling policy. Same guest, same process, alternating rounds.

Run: ``.venv/bin/python bench/p1_guest_exec.py [--calls 100] [--rounds 4] [--domain NAME]``
(without ``--domain`` a test guest ``<ATP_RIG_PREFIX>bench-guest-0`` is booted for the run and
removed after).
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
import time

import libvirt
import libvirt_qemu
from rig_guest import ROOT, bench_guest

sys.path.insert(0, str(ROOT))

from measured import announce  # noqa: E402

from atp_core.protocol import VmSession  # noqa: E402
from atp_core.transport import HostConnection  # noqa: E402


def raw_exec(dom: libvirt.virDomain, script: str) -> tuple[int, str]:
    def agent(cmd: str, args: dict) -> dict:
        reply = libvirt_qemu.qemuAgentCommand(
            dom, json.dumps({"execute": cmd, "arguments": args}), 10, 0
        )
        return json.loads(reply)["return"]

    pid = agent("guest-exec", {"path": "/bin/sh", "arg": ["-c", script], "capture-output": True})[
        "pid"
    ]
    delay = 0.005
    while True:
        status = agent("guest-exec-status", {"pid": pid})
        if status.get("exited"):
            out = base64.b64decode(status.get("out-data", "")).decode()
            return status["exitcode"], out
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--domain", help="a running rig guest to use (default: boot one)")
    args = parser.parse_args()
    announce("== P1 guest exec (bench/p1_guest_exec.py)")

    with bench_guest(args.domain) as vm:
        raw_conn = libvirt.open(vm.uri)
        raw_dom = raw_conn.lookupByName(vm.name)
        host = HostConnection(vm.uri).connect()
        session = VmSession(host, vm.name)
        raw_times, core_times = [], []
        try:
            for round_no in range(args.rounds):
                # alternate which side goes first, so warm-up favours neither
                sides = [("raw", raw_times), ("atp_core", core_times)]
                for side, times in sides if round_no % 2 == 0 else sides[::-1]:
                    t0 = time.perf_counter()
                    for i in range(args.calls):
                        if side == "raw":
                            got = raw_exec(raw_dom, f"echo {i}")
                        else:
                            result = session.agent.exec(f"echo {i}")
                            got = (result.exit_code, result.stdout)
                        if got != (0, f"{i}\n"):
                            print(f"{side} exec {i}: {got}", file=sys.stderr)
                            return 1
                    times.append(time.perf_counter() - t0)
        finally:
            host.close()
            raw_conn.close()

    raw_s, core_s = statistics.median(raw_times), statistics.median(core_times)
    print(f"P1 guest exec: {args.calls} calls x {args.rounds} rounds on {vm.name}, median")
    print(f"{'':>10}  {'total s':>8}  {'ms/call':>8}")
    print(f"{'raw':>10}  {raw_s:>8.3f}  {1000 * raw_s / args.calls:>8.1f}")
    print(f"{'atp_core':>10}  {core_s:>8.3f}  {1000 * core_s / args.calls:>8.1f}")
    print(f"ratio atp_core/raw: {core_s / raw_s:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
