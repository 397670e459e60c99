"""P3: event latency from the worker's sink call to a websocket client, 20 runs, 50 viewers.

Everything on the real path: ``runs.event_sink.RunEventSink`` (one per run, fed engine ``Event``s
from 20 threads, as the engine does) → PostgreSQL (a bench database made by this script) →
Redis channel layer → daphne (``ws/runs/<id>/``) → 50 websocket viewers in another process
(viewer ``i`` watches run ``i % runs``). Each event carries the wall-clock time of its sink
call; the viewer notes when it arrives. Coalesced log/output events carry the time of the
first line merged into them, so their latency includes the sink's deliberate coalescing delay
(``ATP_EVENT_LOG_RATE``); step/state events are reported apart for that reason.

The step/state events' latency is also split per stage, from timestamps taken along the way
(probes patched in by this script and by ``bench/p3_daphne.py``, the daphne it starts):
sink queue (sink call → the writer picks it up), batch wait (→ ``store_events`` called),
transaction (→ committed), publish wait (→ its broadcast begins), publish (the ``PUBLISH``),
layer→consumer (→ the run consumer in daphne has it), consumer→socket (→ written to the
websocket), socket→viewer (→ the viewer process read it). ``ATP_BENCH_P3_TRACE=<file>`` also
makes daphne write every live arrival and send per consumer (for hunting a lost event).

    .venv/bin/python bench/p3_event_latency.py [--runs 20] [--viewers 50] [--steps 12]
        [--rate 10] [--redis-url redis://127.0.0.1:6379/13] [--keep]

Prints p50/p90/p99/max latency per class, events sent/received, and whether every viewer got
every event of its run once and in order.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from measured import announce, db_name  # noqa: E402

PG = "postgres://postgres@127.0.0.1:5432"
STATE_TYPES = {
    "run_started",
    "target_started",
    "step_started",
    "step_finished",
    "target_finished",
    "run_finished",
}


# ------------------------------------------------------------------------------ viewer side


def viewer_main(args) -> int:
    """The viewer process: ``--viewers`` websocket clients; results as JSON on ``--out``."""
    from tests.ws_client import WsClient

    run_ids = [int(x) for x in args.run_ids.split(",")]
    cookies = {"sessionid": args.session}
    results: list[list] = [[] for _ in range(args.viewers)]
    errors: list[str] = []
    ready = threading.Barrier(args.viewers + 1)

    def watch(i: int) -> None:
        run_id = run_ids[i % len(run_ids)]
        # 50 handshakes at once overflow a busy daphne's accept queue (connection reset):
        # each viewer tries a few times, a second apart, before it reports
        for attempt in range(5):
            try:
                ws = WsClient(f"{args.ws}/ws/runs/{run_id}/?after=0", cookies=cookies, timeout=120)
                break
            except OSError as exc:
                if attempt == 4:
                    errors.append(f"viewer {i}: connect: {exc}")
                    ready.abort()
                    return
                time.sleep(1.0)
            except Exception as exc:  # noqa: BLE001 - reported, not hidden
                errors.append(f"viewer {i}: connect: {exc}")
                ready.abort()
                return
        try:
            ready.wait()
        except threading.BrokenBarrierError:  # another viewer failed or time ran out: reported
            ws.close()
            return
        try:
            while True:
                ev = ws.recv_json(timeout=args.timeout)
                now = time.time()
                results[i].append(
                    [run_id, ev["seq"], ev["type"], (ev.get("data") or {}).get("bench_t0"), now]
                )
                if ev["type"] == "run_finished":
                    break
        except Exception as exc:  # noqa: BLE001
            errors.append(f"viewer {i} (run {run_id}): {exc}")
        finally:
            ws.close()

    threads = [threading.Thread(target=watch, args=(i,), daemon=True) for i in range(args.viewers)]
    for t in threads:
        t.start()
    try:
        ready.wait(timeout=args.connect_timeout)
        print("READY", flush=True)
    except threading.BrokenBarrierError:
        print("FAILED", flush=True)
    for t in threads:
        t.join()
    Path(args.out).write_text(json.dumps({"results": results, "errors": errors}))
    return 0


# ------------------------------------------------------------------------------ sender side


def _setup_database(name: str) -> str:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG}/{name}"
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        check=True,
    )
    return url


def _drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _fixtures(runs: int):
    """A viewer user with a session, a scenario, ``runs`` queued runs with one target each."""
    import hashlib

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.test import Client

    from hosts.models import Host
    from runs.models import Run, RunTarget
    from scenarios.models import Scenario, ScenarioRevision

    user = get_user_model().objects.create_user("bench-viewer", password="x" * 12)
    user.groups.add(Group.objects.get_or_create(name="viewer")[0])
    client = Client()
    client.force_login(user)
    host = Host.objects.create(name="local", uri="test:///default")
    text = "version: 1\nname: bench\nsteps: []\n"
    sc = Scenario.objects.create(name="bench")
    rev = ScenarioRevision.objects.create(
        scenario=sc,
        number=1,
        content=text,
        content_sha256=hashlib.sha256(text.encode()).hexdigest(),
    )
    ids = []
    for i in range(runs):
        run = Run.objects.create(
            scenario=sc, revision=rev, source=text, name="bench", launched_by=user, state="running"
        )
        RunTarget.objects.create(run=run, name=f"local/vm-{i}", host=host, vm_name=f"vm-{i}")
        ids.append(run.pk)
    return ids, client.cookies["sessionid"].value


def _feed(run_id: int, steps: int, rate: float, counts: dict) -> None:
    """One run's events at ``rate`` per second through a real RunEventSink."""
    from atp_core.orchestrator import Event
    from runs.event_sink import RunEventSink

    target = f"local/vm-{run_id}"
    sink = RunEventSink(run_id)
    seq = 0
    plan = [
        {
            "id": str(i + 1),
            "name": f"step {i + 1}",
            "type": "exec_command",
            "depth": 0,
            "phase": "main",
            "parent": None,
        }
        for i in range(steps)
    ]

    def send(type_, data, step_id=None, tgt=target):
        nonlocal seq
        seq += 1
        t0 = time.time()
        sink(
            Event(
                type=type_,
                seq=seq,
                ts=t0,
                target=tgt,
                step_id=step_id,
                data={**data, "bench_t0": t0},
            )
        )
        time.sleep(1.0 / rate)

    send(
        "run_started",
        {"run_id": str(run_id), "scenario": "bench", "targets": [target], "plan": plan},
        tgt=None,
    )
    send("target_started", {})
    for i in range(steps):
        sid = str(i + 1)
        send(
            "step_started",
            {"name": f"step {sid}", "type": "exec_command", "attempt": 1, "iteration": None},
            sid,
        )
        for n in range(3):
            send("step_log", {"level": "info", "message": f"line {n}"}, sid)
        send("step_output", {"stream": "stdout", "text": "x" * 80}, sid)
        send(
            "step_finished",
            {
                "name": f"step {sid}",
                "type": "exec_command",
                "status": "passed",
                "duration": 0.5,
                "error": "",
                "output": "",
                "iteration": None,
            },
            sid,
        )
    send("target_finished", {"result": "passed", "duration": 1.0, "totals": {}})
    send("run_finished", {"result": "passed", "duration": 1.0, "totals": {}}, tgt=None)
    sink.close()
    counts[run_id] = (seq, sink.stored, getattr(sink, "batches", sink.stored))


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--steps", type=int, default=12, help="steps per run")
    parser.add_argument("--rate", type=float, default=5.0, help="sink calls per second per run")
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13")
    )
    parser.add_argument("--db-name", default=db_name("atp_bench_p3"))
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    # viewer mode (internal)
    parser.add_argument("--viewer", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--ws", help=argparse.SUPPRESS)
    parser.add_argument("--session", help=argparse.SUPPRESS)
    parser.add_argument("--run-ids", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--timeout", type=float, default=120.0, help=argparse.SUPPRESS)
    # 50 websocket handshakes take seconds on an idle machine, minutes on a busy shared one
    parser.add_argument("--connect-timeout", type=float, default=300.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.viewer:
        return viewer_main(args)
    announce("== P3 event latency (bench/p3_event_latency.py)")

    from tests.prereq import free_port

    db_url = _setup_database(args.db_name)
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": args.redis_url,
        "PYTHONUNBUFFERED": "1",
    }
    os.environ.update(
        {
            "DATABASE_URL": db_url,
            "REDIS_URL": args.redis_url,
            "DJANGO_SETTINGS_MODULE": "atp_site.settings",
        }
    )
    import django

    django.setup()
    daphne = viewer = None
    out = Path(tempfile.mkstemp(prefix="p3-", suffix=".json")[1])
    stages_file = Path(tempfile.mkstemp(prefix="p3-stages-", suffix=".txt")[1])
    try:
        run_ids, session = _fixtures(args.runs)
        port = free_port()
        daphne = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "bench" / "p3_daphne.py"),
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "atp_site.asgi:application",
            ],
            cwd=ROOT,
            env={**env, "ATP_BENCH_P3_STAGES": str(stages_file)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("daphne did not start") from None
                time.sleep(0.2)
        viewer = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--viewer",
                "--ws",
                f"ws://127.0.0.1:{port}",
                "--session",
                session,
                "--run-ids",
                ",".join(map(str, run_ids)),
                "--viewers",
                str(args.viewers),
                "--out",
                str(out),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = viewer.stdout.readline().strip()
        if line != "READY":
            viewer.wait(60)
            text = out.read_text() if out.exists() else ""
            errors = json.loads(text)["errors"] if text.strip() else []
            raise SystemExit(f"viewers did not connect ({line!r}): {'; '.join(errors[:5])}")

        # split the latency: sink call → broadcast (queue, coalescing, DB commit) and
        # broadcast → viewer (channel layer, daphne, websocket)
        import runs.event_sink as run_sink
        import runs.event_store as run_events

        # per-stage probes, keyed by (run, bench_t0) until the event has a seq
        picked_at: dict[tuple[int, float], float] = {}
        store_at: dict[tuple[int, float], float] = {}
        committed_at: dict[tuple[int, int], float] = {}
        broadcast_at: dict[tuple[int, int], float] = {}
        published_at: dict[tuple[int, int], float] = {}
        original_handle = run_sink.RunEventSink._handle
        original_store = run_sink.store_events
        original_all = run_events._broadcast_all
        original = run_events.broadcast

        def timed_handle(self, event) -> None:
            picked_at[(self.run_id, event.data.get("bench_t0"))] = time.time()
            original_handle(self, event)

        def timed_store(run_id, events, targets=None):
            now = time.time()
            for e in events:
                store_at.setdefault((run_id, e.data.get("bench_t0")), now)
            return original_store(run_id, events, targets)

        def timed_all(run_id: int, payloads: list[dict]) -> None:
            now = time.time()
            for p in payloads:
                committed_at[(run_id, p["seq"])] = now
            original_all(run_id, payloads)

        def timed_broadcast(run_id: int, event: dict) -> None:
            broadcast_at[(run_id, event["seq"])] = time.time()
            original(run_id, event)
            published_at[(run_id, event["seq"])] = time.time()

        run_sink.RunEventSink._handle = timed_handle
        run_sink.store_events = timed_store
        run_events._broadcast_all = timed_all
        run_events.broadcast = timed_broadcast

        counts: dict[int, tuple[int, int, int]] = {}
        cpu_before = time.process_time()
        started = time.monotonic()
        feeders = [
            threading.Thread(target=_feed, args=(rid, args.steps, args.rate, counts))
            for rid in run_ids
        ]
        for t in feeders:
            t.start()
        for t in feeders:
            t.join()
        send_seconds = time.monotonic() - started
        sender_cpu = time.process_time() - cpu_before
        viewer.wait(timeout=180)
        report = json.loads(out.read_text())

        from runs.models import RunEvent

        stored = {
            rid: list(
                RunEvent.objects.filter(run_id=rid).order_by("seq").values_list("seq", flat=True)
            )
            for rid in run_ids
        }
    finally:
        for proc in (viewer, daphne):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        from django.db import connections

        connections.close_all()
        out.unlink(missing_ok=True)
        stage_lines = stages_file.read_text().splitlines() if stages_file.exists() else []
        stages_file.unlink(missing_ok=True)
        if not args.keep:
            _drop_database(args.db_name)

    in_daphne: dict[tuple[int, int], tuple[float, float]] = {}
    for line in stage_lines:
        parts = line.split()
        if len(parts) == 4 and parts[1] != "None":
            # several viewers per run: the first arrival from the layer, the last write out
            key, t_layer, t_sent = (int(parts[0]), int(parts[1])), float(parts[2]), float(parts[3])
            old = in_daphne.get(key)
            in_daphne[key] = (
                (min(old[0], t_layer), max(old[1], t_sent)) if old else (t_layer, t_sent)
            )
    lat_state, lat_log, complete = [], [], 0
    to_broadcast, from_broadcast = [], []
    stages: dict[str, list[float]] = {
        "sink queue": [],
        "batch wait": [],
        "transaction": [],
        "publish wait": [],
        "publish": [],
        "layer→consumer": [],
        "consumer→socket": [],
        "socket→viewer": [],
    }
    received = 0
    for i, rows in enumerate(report["results"]):
        run_id = run_ids[i % len(run_ids)]
        seqs = [r[1] for r in rows]
        if seqs == stored[run_id]:
            complete += 1
        else:
            missing = sorted(set(stored[run_id]) - set(seqs))
            extra = len(seqs) - len(set(seqs))
            out_of_order = sum(1 for a, b in zip(seqs, seqs[1:], strict=False) if b <= a)
            report["errors"].append(
                f"viewer {i} (run {run_id}): {len(seqs)} of {len(stored[run_id])} events, "
                f"missing {missing[:8]}, {extra} twice, {out_of_order} out of order, "
                f"last {rows[-1][2] if rows else None}"
            )
        received += len(rows)
        for run, seq, type_, t0, t_recv in rows:
            if t0 is None:
                continue
            (lat_state if type_ in STATE_TYPES else lat_log).append((t_recv - t0) * 1000)
            sent_at = broadcast_at.get((run, seq))
            if sent_at is not None and type_ in STATE_TYPES:
                to_broadcast.append((sent_at - t0) * 1000)
                from_broadcast.append((t_recv - sent_at) * 1000)
                marks = (
                    t0,
                    picked_at.get((run, t0)),
                    store_at.get((run, t0)),
                    committed_at.get((run, seq)),
                    sent_at,
                    published_at.get((run, seq)),
                    *in_daphne.get((run, seq), (None, None)),
                    t_recv,
                )
                if None not in marks:
                    for name, a, b in zip(stages, marks, marks[1:], strict=False):
                        stages[name].append((b - a) * 1000)
    sent = sum(c[0] for c in counts.values())
    transactions = sum(c[2] for c in counts.values())
    stored_n = sum(len(s) for s in stored.values())
    print(
        f"P3 event latency: {args.runs} runs × {args.steps} steps, {args.viewers} viewers, "
        f"{args.rate:g} sink calls/s per run"
    )
    print(
        f"  sink calls {sent}, events stored {stored_n} (logs coalesced) in {transactions} "
        f"transactions, received {received} by viewers in {send_seconds:.1f} s of sending"
    )
    print(f"  sender process CPU while sending: {sender_cpu:.1f} s in {send_seconds:.1f} s")
    print(f"  viewers with every event of their run once and in order: {complete}/{args.viewers}")
    for label, values in (
        ("step/state events", lat_state),
        ("log/output events", lat_log),
        ("all events", lat_state + lat_log),
        ("state: sink→bcast", to_broadcast),
        ("state: bcast→view", from_broadcast),
        *((f"  {name}", values) for name, values in stages.items()),
    ):
        if values:
            print(
                f"  {label:18} n={len(values):6d}  p50 {_pct(values, 0.5):7.1f} ms  "
                f"p90 {_pct(values, 0.9):7.1f} ms  p99 {_pct(values, 0.99):7.1f} ms  "
                f"max {max(values):7.1f} ms  mean {statistics.fmean(values):6.1f} ms"
            )
    for err in report["errors"][:10]:
        print("  error:", err)
    return 0 if complete == args.viewers and not report["errors"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
