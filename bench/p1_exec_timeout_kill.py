"""P1b: how soon after its timeout ``GuestAgent.exec`` returns when it has to kill the command.

For each of three commands that outlive a 2 s timeout (``sleep`` exec'd by the shell, a child of
the shell, grandchildren under two ``sh -c``), ``exec(command, timeout=2)`` is timed until it
raises ``ExecTimeout``; the overrun is that time less the 2 s. The tree kill is a ``guest-exec``
of a small ``sh`` script and a poll until the root is reaped, so the overrun is set against the
raw call it is made of, measured in the same run: one ``guest-exec`` of ``true`` through
``qemuAgentCommand`` polled with ``guest-exec-status`` until it exited (median of as many).
The rig test (tests/rig/test_protocol_qga_timeout_kill.py) proves the whole tree is gone.

Run: ``.venv/bin/python bench/p1_exec_timeout_kill.py [--rounds 5] [--domain NAME]``
(without ``--domain`` a test guest ``<ATP_RIG_PREFIX>bench-guest-0`` is booted for the run).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import libvirt
from p1_guest_exec import raw_exec
from rig_guest import ROOT, bench_guest

sys.path.insert(0, str(ROOT))

from measured import announce  # noqa: E402

from atp_core.protocol import ExecTimeout, VmSession  # noqa: E402
from atp_core.transport import HostConnection  # noqa: E402

TIMEOUT = 2.0
COMMANDS = {
    "exec'd sleep": "sleep 311",
    "child": "echo started; sleep 312; echo never",
    "grandchildren": "sh -c 'sleep 313; true' & sh -c 'sleep 314; true'; wait",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--domain", help="a running rig guest to use (default: boot one)")
    args = parser.parse_args()
    announce("== P1b exec timeout kill (bench/p1_exec_timeout_kill.py)")

    with bench_guest(args.domain) as vm:
        raw_conn = libvirt.open(vm.uri)
        raw_dom = raw_conn.lookupByName(vm.name)
        host = HostConnection(vm.uri).connect()
        session = VmSession(host, vm.name)
        overrun: dict[str, list[float]] = {name: [] for name in COMMANDS}
        raw: list[float] = []
        try:
            for _ in range(args.rounds):
                for name, command in COMMANDS.items():
                    t0 = time.perf_counter()
                    try:
                        session.agent.exec(command, timeout=TIMEOUT)
                    except ExecTimeout:
                        overrun[name].append(time.perf_counter() - t0 - TIMEOUT)
                    else:
                        print(f"{name}: not timed out", file=sys.stderr)
                        return 1
                    t0 = time.perf_counter()
                    raw_exec(raw_dom, "true")
                    raw.append(time.perf_counter() - t0)
        finally:
            host.close()
            raw_conn.close()

    raw_s = statistics.median(raw)
    print(f"P1b exec timeout kill: timeout {TIMEOUT:g} s, {args.rounds} rounds on {vm.name}")
    print(f"{'':>14}  {'overrun median s':>16}  {'max s':>6}  {'x raw exec':>10}")
    for name, values in overrun.items():
        med = statistics.median(values)
        print(f"{name:>14}  {med:>16.3f}  {max(values):>6.3f}  {med / raw_s:>10.1f}")
    print(f"{'raw exec true':>14}  {raw_s:>16.3f}  {max(raw):>6.3f}  {1.0:>10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
