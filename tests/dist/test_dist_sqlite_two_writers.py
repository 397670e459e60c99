"""SQLite with concurrent writers: two real Celery workers (one per host queue, two runs at once
each) write events, step results and output into the one SQLite file at the same time; every
run passes with its full event sequence and all its output, and no worker logged "database is
locked" (WAL, a 30 s busy timeout and IMMEDIATE transactions: atp_site/settings.py).

It runs in the SQLite pass of ``make test`` (marker ``long_once``; on PostgreSQL the same writes
are covered by the distributed tests of that pass)."""

import pytest
from django.db import connection

from runs.models import Run
from runs.services import launch_run
from tests.dist.conftest import assert_full_event_sequence, make_scenario, wait_for

pytestmark = [pytest.mark.rig, pytest.mark.redis, pytest.mark.long_once]

LINES = 300
STEPS = f"""\
  - type: guest_ping
  - {{type: exec_command, command: "i=1; while [ $i -le {LINES} ]; do echo line-$i; i=$((i+1)); done"}}
  - {{type: wait, duration: 2s}}
  - {{type: exec_command, command: echo second-writer-probe}}
"""
RUNS_PER_HOST = 4


def overlapping_pairs(runs) -> int:
    """Pairs of runs on different workers whose [started, finished] spans overlap."""
    pairs = 0
    for i, a in enumerate(runs):
        for b in runs[i + 1 :]:
            if a.worker.split("@")[0] != b.worker.split("@")[0]:
                pairs += a.started < b.finished and b.started < a.finished
    return pairs


def test_two_workers_write_to_sqlite_at_once_and_nothing_is_lost(dist_processes, two_hosts):
    workers = {
        "hd-a": dist_processes.worker("sq-wa", "host.hd-a", concurrency=2),
        "hd-b": dist_processes.worker("sq-wb", "host.hd-b", concurrency=2),
    }
    rev = make_scenario("sqlite-writers", STEPS)
    ids = []
    for i in range(RUNS_PER_HOST):
        for host in ("hd-a", "hd-b"):
            vms = list(two_hosts[host].vms.order_by("name"))
            vm = vms[i % len(vms)].name
            ids.append(launch_run(rev, [{"vm": vm, "host": host}], {}, None).pk)

    wait_for(
        lambda: Run.objects.filter(pk__in=ids, state="finished").count() == len(ids),
        600,
        f"{len(ids)} runs to finish",
        interval=1,
    )
    runs = list(Run.objects.filter(pk__in=ids).order_by("pk"))
    assert [r.result for r in runs] == ["passed"] * len(ids), [(r.pk, r.reason) for r in runs]
    assert {r.worker.split("@")[0] for r in runs} == {"sq-wa", "sq-wb"}
    assert overlapping_pairs(runs) >= 1, "the two workers never ran at the same time"
    expected = [f"line-{n}" for n in range(1, LINES + 1)]
    for run in runs:
        assert_full_event_sequence(run.pk)
        steps = list(run.steps.order_by("ordinal"))
        assert [s.status for s in steps] == ["passed"] * 4, (run.pk, steps)
        assert steps[1].output.splitlines() == expected, (run.pk, steps[1].output[-200:])
        assert steps[3].output.strip() == "second-writer-probe"
    for host, worker in workers.items():
        log = worker.text()
        assert "database is locked" not in log, f"{host}'s worker: {log[-3000:]}"
        assert worker.alive()
    print(f"database: {connection.vendor}; {len(ids)} runs on 2 workers")
