"""What a benchmark figure was measured at: commit, date, machine load; names kept apart.

Every bench script calls ``announce("P6 VDI listing")`` first: it prints one line

    measured at: commit 1a2b3c4 · 2025-12-01 21:30 UTC · load 1.52 1.10 0.90 · nproc 2

and, when the script ends, the load again (``load at end: 1.80 1.20 0.95``). ``bench/README.md``
quotes these lines next to each figure; a figure whose commit is older than a change to the
code it measures is stale. ``commit`` gets ``+dirty`` when tracked files differ from it.

Names a bench run creates (guests, databases) carry the session's ``ATP_RIG_PREFIX`` /
``ATP_TEST_DB_SUFFIX`` so parallel sessions on one machine do not remove each other's.
"""

from __future__ import annotations

import atexit
import datetime as dt
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def commit() -> str:
    """Short hash of HEAD, ``+dirty`` if tracked files changed since ("unknown" outside git)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short=10", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def measured_at() -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"measured at: commit {commit()} · {now} · load {load()} · nproc {os.cpu_count()}"


def announce(title: str) -> None:
    """Print the title and the ``measured at`` line now, the load once more at exit."""
    print(title, flush=True)
    print(measured_at(), flush=True)
    atexit.register(lambda: print(f"load at end: {load()}", flush=True))


def rig_prefix(kind: str) -> str:
    """Name prefix of the guests a bench boots, e.g. ``atp-h17-bench-p4-``."""
    return f"{os.environ.get('ATP_RIG_PREFIX', 'atp-')}bench-{kind}-"


def db_name(base: str) -> str:
    """Name of a bench database, e.g. ``atp_bench_p5_h17``."""
    return base + os.environ.get("ATP_TEST_DB_SUFFIX", "")
