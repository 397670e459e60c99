"""Run every benchmark in one go (``make bench``) and write a dated summary.

Each benchmark runs as its own process, one after the other (they would disturb each other's
timings otherwise), with its output shown live and kept. The summary goes to
``bench/results/<YYYY-MM-DD>-<commit>.md``: the machine's load before and after, then per
benchmark the command, exit status, wall time and its whole output (which starts with its own
``measured at:`` line, see ``bench/measured.py``).

A new benchmark plugs in by being a ``bench/p<N>_<name>.py`` script: it runs with its default
arguments unless ``PLAN`` below gives it others (P7–P11 need nothing more).

    .venv/bin/python bench/run_all.py [--only P5,P6] [--out bench/results] [--timeout 3600]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from measured import ROOT, commit, load, measured_at

BENCH = ROOT / "bench"

# (id, script, arguments): the runs ``make bench`` does besides the scripts' defaults. P3 at the
# goal's rate (10 sink calls/s per run × 20 runs = 200 events/s) and at half of it.
PLAN: list[tuple[str, str, list[str]]] = [
    ("P1", "p1_guest_exec.py", []),
    ("P1", "p1_exec_through_executor.py", []),
    ("P2", "p2_typing.py", []),
    ("P3", "p3_event_latency.py", ["--rate", "10"]),
    ("P3", "p3_event_latency.py", ["--rate", "5"]),
    ("P4", "p4_parallel_efficiency.py", []),
    ("P5", "p5_history_pages.py", []),
    ("P6", "p6_vdi_listing.py", []),
]
SCRIPT = re.compile(r"^p(\d+)_\w+\.py$")


def plan() -> list[tuple[str, str, list[str]]]:
    """``PLAN`` plus every ``p<N>_*.py`` it does not name (default arguments), by number."""
    runs = list(PLAN)
    named = {script for _, script, _ in PLAN}
    for path in sorted(BENCH.glob("p*_*.py")):
        match = SCRIPT.match(path.name)
        if match and path.name not in named:
            runs.append((f"P{match.group(1)}", path.name, []))
    return sorted(runs, key=lambda r: int(r[0][1:]))  # stable: PLAN's order within one id


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated ids, e.g. P5,P6 (default: all)")
    parser.add_argument("--out", type=Path, default=BENCH / "results")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per benchmark")
    args = parser.parse_args()

    wanted = {x.strip().upper() for x in args.only.split(",")} if args.only else None
    runs = [r for r in plan() if wanted is None or r[0] in wanted]
    if not runs:
        print(f"no benchmark matches --only {args.only}", file=sys.stderr)
        return 2
    # a guest boots in about 10 s on an idle machine (TCG); on a shared, busy one it takes
    # minutes, and the rig's default patience (120 s) failed P1/P2 at load 12
    env = {**os.environ, "ATP_RIG_BOOT_TIMEOUT": os.environ.get("ATP_RIG_BOOT_TIMEOUT", "900")}
    started = measured_at()
    sections, failed = [], []
    for bench_id, script, extra in runs:
        command = [sys.executable, str(BENCH / script), *extra]
        shown = " ".join([".venv/bin/python", f"bench/{script}", *extra])
        print(f"\n### {bench_id}: {shown}", flush=True)
        t0 = time.monotonic()
        lines: list[str] = []
        try:
            with subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                bufsize=1,
            ) as proc:
                deadline = t0 + args.timeout
                for line in proc.stdout:
                    print(line, end="", flush=True)
                    lines.append(line)
                    if time.monotonic() > deadline:
                        proc.kill()
                        lines.append(f"(killed after {args.timeout:.0f} s)\n")
                        break
                code = proc.wait()
        except OSError as exc:
            code, lines = -1, [f"could not start: {exc}\n"]
        seconds = time.monotonic() - t0
        if code != 0:
            failed.append(f"{bench_id} {script}")
        sections.append(
            f"## {bench_id}: `{shown}`\n\nexit {code} · {seconds:.0f} s\n\n```\n"
            + "".join(lines).rstrip("\n")
            + "\n```\n"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    day = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    path = args.out / f"{day}-{commit()}.md"
    path.write_text(
        f"# Benchmarks {day} at {commit()}\n\n"
        f"- start: {started}\n- end: load {load()}\n"
        f"- failed: {', '.join(failed) if failed else 'none'}\n\n" + "\n".join(sections)
    )
    print(f"\nsummary: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
