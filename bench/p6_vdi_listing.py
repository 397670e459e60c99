"""P6: listing 10,000 simulated VMs through ``VdiClient.domains.list`` vs a raw ``requests`` loop.

Both sides run in the same process against the same simulator (``python -m vdisim --seed empty
--vms 10000`` in a subprocess), with the same page size, alternating rounds; the ratio is
client time / raw time (1.00 = no overhead). Run: ``.venv/bin/python bench/p6_vdi_listing.py``.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from measured import announce  # noqa: E402

from atp_core.vdiplatform import VdiClient  # noqa: E402
from tests.prereq import free_port  # noqa: E402


def raw_listing(base_url: str, page_size: int) -> int:
    """The baseline: what a script with plain ``requests`` would do (login, then page loop)."""
    session = requests.Session()
    password = hashlib.md5(b"11111111").hexdigest()
    login = session.post(
        base_url + "/ocloud/v1/login",
        json={"username": "admin", "password": password, "client": ""},
        timeout=30,
    ).json()
    headers = {"Token": login["data"]["token"]}
    rows, page = [], 1
    while True:
        data = session.get(
            base_url + "/ocloud/v1/domain",
            params={"pageNum": page, "pageSize": page_size},
            headers=headers,
            timeout=30,
        ).json()["data"]
        rows.extend(data["list"])
        if page >= data["pages"]:
            break
        page += 1
    session.close()
    return len(rows)


def client_listing(base_url: str, page_size: int) -> int:
    with VdiClient(base_url, "admin", "11111111", timeout=30) as client:
        return sum(1 for _ in client.domains.list(page_size=page_size))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--page-sizes", default="100,1000")
    args = parser.parse_args()
    announce("== P6 VDI listing (bench/p6_vdi_listing.py)")

    port = free_port()
    sim = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vdisim",
            "--port",
            str(port),
            "--seed",
            "empty",
            "--vms",
            str(args.vms),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(base_url + "/_sim/health", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or sim.poll() is not None:
                print("the simulator did not start", file=sys.stderr)
                return 2
            time.sleep(0.1)

        print(f"P6 VDI listing: {args.vms} VMs, {args.rounds} rounds, median seconds")
        print(f"{'page size':>9}  {'raw requests':>12}  {'VdiClient':>10}  {'ratio':>6}")
        for page_size in (int(p) for p in args.page_sizes.split(",")):
            raw_times, client_times = [], []
            for _ in range(args.rounds):
                t0 = time.perf_counter()
                n_raw = raw_listing(base_url, page_size)
                t1 = time.perf_counter()
                n_client = client_listing(base_url, page_size)
                t2 = time.perf_counter()
                raw_times.append(t1 - t0)
                client_times.append(t2 - t1)
                expected = args.vms + 0  # the template is not a VM
                if n_raw != expected or n_client != expected:
                    print(f"row count mismatch: raw {n_raw}, client {n_client}", file=sys.stderr)
                    return 1
            raw_s, client_s = statistics.median(raw_times), statistics.median(client_times)
            print(f"{page_size:>9}  {raw_s:>12.3f}  {client_s:>10.3f}  {client_s / raw_s:>6.2f}")
    finally:
        sim.terminate()
        sim.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
