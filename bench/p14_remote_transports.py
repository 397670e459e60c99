"""P14: the same engine calls over each transport to one remote host, vs its local unix socket.

The rig's remote host ``atp-rh1`` (``rig/remote-hosts.sh``) runs one text guest; the engine
(``HostConnection`` + ``VmSession``) reaches that same daemon and guest over
``qemu+unix://`` (its socket file, no network: the baseline), ``qemu+tcp://``,
``qemu+tls://`` and ``qemu+ssh://``. Per transport: the connect, a no-op RPC
(``getLibVersion``), a guest-agent ``exec`` of ``echo`` and a screenshot; medians, and the
ratio to the unix socket. Alternating transports per round, so load drifts hit all alike.

Run: ``.venv/bin/python bench/p14_remote_transports.py [--rounds 3] [--calls 20]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from measured import announce, rig_prefix  # noqa: E402

from atp_core.protocol import VmSession  # noqa: E402
from atp_core.transport import HostConnection  # noqa: E402
from tests.remote_hosts import load_remote_hosts  # noqa: E402
from tests.vm_pool import VmPool, guest_built  # noqa: E402


def timed(fn, n: int) -> float:
    """Median seconds of ``n`` calls of ``fn``."""
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args()
    hosts = load_remote_hosts()
    if not hosts or not hosts[0].tls_uri:
        raise SystemExit("the remote hosts are not up: run bash rig/remote-hosts.sh")
    if not guest_built():
        raise SystemExit("the test guest is not built: run bash guest/build.sh")
    host = hosts[0]
    announce("P14 remote transports")
    uris = {
        "unix": f"qemu+unix:///system?socket={os.path.join(host.state_dir, 'run', 'libvirt-sock')}",
        "tcp": host.tcp_uri,
        "tls": host.tls_uri,
        "ssh": host.ssh_uri,
    }
    pool = VmPool(1, rig_prefix("p14"), host.tcp_uri)
    results: dict[str, dict[str, list[float]]] = {t: {} for t in uris}
    try:
        pool.boot()
        vm = pool.vms[0]
        for _ in range(args.rounds):
            for transport, uri in uris.items():
                row = results[transport]
                started = time.perf_counter()
                conn = HostConnection(uri).connect()
                row.setdefault("connect", []).append(time.perf_counter() - started)
                try:
                    session = VmSession(conn, vm.name)
                    row.setdefault("rpc", []).append(
                        timed(lambda c=conn: c.call(lambda v: v.getLibVersion()), args.calls)
                    )
                    row.setdefault("exec", []).append(
                        timed(lambda s=session: s.agent.exec("echo p14"), args.calls)
                    )
                    row.setdefault("screenshot", []).append(
                        timed(lambda s=session: s.screen.screenshot(), max(3, args.calls // 4))
                    )
                finally:
                    conn.close()
    finally:
        pool.close()
    base = {k: statistics.median(v) for k, v in results["unix"].items()}
    print(
        f"{'transport':10s} {'connect':>16s} {'no-op rpc':>16s} {'agent exec':>16s} "
        f"{'screenshot':>16s}"
    )
    for transport, row in results.items():
        cells = []
        for key in ("connect", "rpc", "exec", "screenshot"):
            median = statistics.median(row[key])
            cells.append(f"{median * 1000:8.2f} ms x{median / base[key]:4.1f}")
        print(f"{transport:10s} " + " ".join(f"{c:>16s}" for c in cells))
    print("(medians over rounds of per-round medians; xN = ratio to the unix socket)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
