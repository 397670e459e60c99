"""P5: history pages at 100,000 runs — queries per page and render time.

Builds a bench PostgreSQL database (``atp_bench_p5``, dropped afterwards unless ``--keep``)
with ``--runs`` finished runs spread over 90 days (50 scenarios, 4 hosts, 10 users, one target
and ``--steps`` step results each, one failing step in every fifth run), then requests each
page through Django's test client in this process (full middleware, templates, real
database): the number of SQL queries, and the median / max wall time of ``--rounds`` requests
(the first, cold request is reported apart), and the median CPU time this process spent per
request ("web CPU": Django, templates, the database driver; not PostgreSQL's own work), which a
busy machine inflates far less than the wall time.

    .venv/bin/python bench/p5_history_pages.py [--runs 100000] [--rounds 5] [--keep|--reuse]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from measured import announce, db_name  # noqa: E402

PG = "postgres://postgres@127.0.0.1:5432"
PAGES = [
    ("dashboard", "/"),
    ("runs list", "/runs/"),
    ("runs list, page 500", "/runs/?page=500"),
    ("runs list, filtered", "/runs/?scenario=scenario-7&result=failed&host=host-2"),
    ("scenario history (runs)", "/runs/?scenario=scenario-7"),
    ("scenario page", "/scenarios/scenario-7/"),
    ("trends (30 days)", "/runs/trends"),
    ("report of a run", "/runs/{run}/"),
    ("compare two runs", "/runs/compare?a={run}&b={other}"),
    ("API runs list", "/api/runs/"),
]


def _database(name: str, reuse: bool) -> str:
    import psycopg

    url = f"{PG}/{name}"
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and reuse:
            return url
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        check=True,
    )
    return url


def _populate(count: int, steps: int) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import transaction
    from django.utils import timezone

    from hosts.models import Host
    from runs.models import Run, RunTarget, StepResult
    from scenarios.models import Scenario, ScenarioRevision

    if Run.objects.count() >= count:
        return
    t0 = time.monotonic()
    viewer = Group.objects.get_or_create(name="viewer")[0]
    users = []
    for i in range(10):
        user = get_user_model().objects.create_user(f"user-{i}", password="x" * 12)
        user.groups.add(viewer)
        users.append(user)
    hosts = [Host.objects.create(name=f"host-{i}", uri="test:///default") for i in range(4)]
    scenarios = []
    for i in range(50):
        text = f"version: 1\nname: scenario-{i}\nsteps: []\n"
        sc = Scenario.objects.create(name=f"scenario-{i}", created_by=users[0])
        rev = ScenarioRevision.objects.create(
            scenario=sc,
            number=1,
            content=text,
            content_sha256=hashlib.sha256(text.encode()).hexdigest(),
            author=users[0],
        )
        sc.current_revision = rev
        sc.save()
        scenarios.append((sc, rev))
    now = timezone.now()
    span = 90 * 24 * 3600
    batch = 5000
    for start in range(0, count, batch):
        with transaction.atomic():
            runs = []
            for i in range(start, min(count, start + batch)):
                sc, rev = scenarios[i % 50]
                created = now - dt.timedelta(seconds=span * (count - i) / count)
                result = "failed" if i % 5 == 0 else "passed"
                runs.append(
                    Run(
                        scenario=sc,
                        revision=rev,
                        source=rev.content,
                        name=sc.name,
                        launched_by=users[i % 10],
                        state="finished",
                        result=result,
                        started=created,
                        finished=created + dt.timedelta(seconds=40),
                        totals={
                            "passed": steps - (result == "failed"),
                            "failed": int(result == "failed"),
                        },
                        last_seq=steps * 2 + 4,
                    )
                )
            runs = Run.objects.bulk_create(runs)
            # created is auto_now_add: spread it afterwards with one UPDATE per batch
            ids = [r.pk for r in runs]
            Run.objects.filter(pk__in=ids).update(created=models_f_started())
            targets = RunTarget.objects.bulk_create(
                [
                    RunTarget(
                        run=r,
                        name=f"host-{r.pk % 4}/vm-{r.pk % 7}",
                        host=hosts[r.pk % 4],
                        vm_name=f"vm-{r.pk % 7}",
                        state="finished",
                        result=r.result,
                        started=r.started,
                        finished=r.finished,
                    )
                    for r in runs
                ]
            )
            StepResult.objects.bulk_create(
                [
                    StepResult(
                        run_id=t.run_id,
                        target=t,
                        step_id=str(j + 1),
                        ordinal=j,
                        name=f"step {j + 1}",
                        type="exec_command",
                        status="failed" if (t.result == "failed" and j == 1) else "passed",
                        duration=1.0 + j,
                    )
                    for t in targets
                    for j in range(steps)
                ],
                batch_size=10000,
            )
        print(f"  {min(count, start + batch)} runs ({time.monotonic() - t0:.0f} s)", flush=True)
    from django.db import connection

    # what autovacuum does to a table after bulk inserts: statistics and the visibility map
    # (without it no index-only scan is possible yet)
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")


def models_f_started():
    from django.db.models import F

    return F("started")


def _measure(client, path: str, rounds: int) -> dict:
    from django.db import connection

    t = time.perf_counter()
    response = client.get(path)
    cold = time.perf_counter() - t
    assert response.status_code == 200, (path, response.status_code)
    sql_times: list[float] = []

    def count(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            sql_times.append(time.perf_counter() - start)

    with connection.execute_wrapper(count):
        client.get(path)
    times, cpu = [], []
    for _ in range(rounds):
        t, c = time.perf_counter(), time.process_time()
        client.get(path)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return {
        "queries": len(sql_times),
        "sql": sum(sql_times),
        "slowest_sql": max(sql_times, default=0.0),
        "cold": cold,
        "median": statistics.median(times),
        "cpu": statistics.median(cpu),
        "max": max(times),
        "bytes": len(response.content),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--db-name", default=db_name("atp_bench_p5"))
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument("--reuse", action="store_true", help="reuse a kept bench database")
    args = parser.parse_args()
    announce("== P5 history pages (bench/p5_history_pages.py)")

    url = _database(args.db_name, args.reuse)
    os.environ.update({"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "atp_site.settings"})
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    settings.ALLOWED_HOSTS = ["*"]
    try:
        print(f"P5 history pages: building {args.runs} runs × {args.steps} steps …", flush=True)
        _populate(args.runs, args.steps)
        from runs.models import Run, StepResult

        client = Client()
        client.force_login(get_user_model().objects.get(username="user-0"))
        run = Run.objects.order_by("-created").first()
        other = Run.objects.filter(scenario_id=run.scenario_id).order_by("-created")[1]
        print(f"database: {Run.objects.count()} runs, {StepResult.objects.count()} step results")
        print(
            f"{'page':26} {'queries':>7} {'SQL time':>9} {'slowest':>8} {'cold':>8}"
            f" {'median':>8} {'max':>8} {'web CPU':>8}"
        )
        for label, path in PAGES:
            m = _measure(client, path.format(run=run.pk, other=other.pk), args.rounds)
            ms = {k: m[k] * 1000 for k in ("sql", "slowest_sql", "cold", "median", "max", "cpu")}
            print(
                f"{label:26} {m['queries']:7d} {ms['sql']:6.0f} ms {ms['slowest_sql']:5.0f} ms"
                f" {ms['cold']:5.0f} ms {ms['median']:5.0f} ms {ms['max']:5.0f} ms"
                f" {ms['cpu']:5.0f} ms"
            )
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            import psycopg

            with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{args.db_name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
