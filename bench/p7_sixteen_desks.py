"""P7 (issue 16): 16 desks in one run, spread over three libvirt hosts, on the real stack.

The VDI simulator's libvirt backend stands for a platform of three hosts (the local libvirtd and
the rig's two remote hosts, ``rig/remote-hosts.sh``, over qemu+tcp); a desk pool of ``--desks``
test guests is created through the platform API (the simulator puts each desk on the host with
the fewest), the endpoint is synced (each desk mapped to its registered Host), and ONE run of
``bench/p7_sixteen_desks.yaml`` on ``[{desk_pool: <pool>}]`` goes out as one part per host, each
to a Celery worker of that host's queue (``host.<name>``), with daphne serving the dashboard
and the run's websocket. Per desk the run starts it through the platform, waits for the guest,
types a line, checks it arrived and runs a command; then the pool is deleted.

Measured meanwhile:

- lost events: the run's stored events (``RunEvent``: seqs 1..last_seq, no gap), against what
  a websocket viewer (``ws/runs/<id>/?after=0``, connected at launch) received: missing,
  duplicated or out-of-order seqs;
- the dashboard's page time: ``GET /`` (and the run's live page ``/runs/<id>/``) through
  daphne, one request every ``--page-interval`` seconds from launch to the end of the run:
  p50/p95/max;
- each guest's memory: configured size, and the RSS of its QEMU process (libvirt's
  ``memoryStats()['rss']``, the largest seen, sampled every 10 s while the run goes);
- the wall time of each phase (pool create, sync, run, pool delete) and in all;
- the load average at each phase's end.

Run (the rig up: ``make rig``; remote hosts answering):

    ATP_RIG_PREFIX=atp-h6- ATP_VDI_PREFIX=atp-h6-vd- REDIS_URL=redis://127.0.0.1:6379/11 \\
        .venv/bin/python bench/p7_sixteen_desks.py [--desks 16] [--write-readme]

Names: desks ``<ATP_VDI_PREFIX>p7-NNN`` (removed at the end, on every host, also on failure);
the bench database ``atp_bench_p7<ATP_TEST_DB_SUFFIX>`` (dropped unless ``--keep``).
The short version in the suite: tests/dist/test_dist_vdi_desks_on_hosts.py (4 desks).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from measured import announce, db_name, load, measured_at  # noqa: E402

PG = "postgres://postgres@127.0.0.1:5432"
SCENARIO = ROOT / "bench" / "p7_sixteen_desks.yaml"
README = ROOT / "bench" / "README.md"
SECTION = "## P7 — 16 desks in one run (issue 16)"
VDI_PREFIX = os.environ.get("ATP_VDI_PREFIX", "atp-bench-vd-") + "p7-"
POOL = "atp-p7-pool"


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


# ------------------------------------------------------------------------------ processes


class Procs:
    """Child processes (daphne, vdisim, workers), logs in a temp dir, all stopped at the end."""

    def __init__(self, env: dict) -> None:
        self.env = env
        self.dir = Path(tempfile.mkdtemp(prefix="p7-logs-"))
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, argv: list[str], ready: str, timeout: float = 120) -> None:
        log = self.dir / f"{name}.log"
        popen = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=self.env,
            stdout=open(log, "wb"),  # noqa: SIM115 - the child's
            stderr=subprocess.STDOUT,
        )
        self.procs.append((name, popen))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if popen.poll() is not None:
                raise SystemExit(f"{name} exited: {log.read_text()[-2000:]}")
            if ready in log.read_text(errors="replace"):
                return
            time.sleep(0.3)
        raise SystemExit(f"{name} not ready in {timeout:g} s: {log.read_text()[-2000:]}")

    def stop(self) -> None:
        for _name, popen in reversed(self.procs):
            if popen.poll() is None:
                popen.terminate()
        for _name, popen in reversed(self.procs):
            try:
                popen.wait(30)
            except subprocess.TimeoutExpired:
                popen.kill()
                popen.wait(5)


def setup_database(name: str) -> str:
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


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def remove_desks(uris: list[str]) -> list[str]:
    """Destroy and undefine every domain named ``VDI_PREFIX...`` on each host; their names."""
    import libvirt

    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    removed = []
    for uri in uris:
        conn = libvirt.open(uri)
        try:
            for dom in conn.listAllDomains(0):
                if dom.name().startswith(VDI_PREFIX):
                    with contextlib.suppress(libvirt.libvirtError):
                        if dom.isActive():
                            dom.destroy()
                    with contextlib.suppress(libvirt.libvirtError):
                        dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
                    removed.append(dom.name())
        finally:
            conn.close()
    return removed


# ------------------------------------------------------------------------------ samplers


class PageSampler(threading.Thread):
    """GET the dashboard and the run's page through daphne, one request per interval."""

    def __init__(self, base: str, session: str, run_id: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.base, self.session, self.run_id, self.interval = base, session, run_id, interval
        self.times: dict[str, list[float]] = {"dashboard": [], "run page": []}
        self.errors: list[str] = []
        self.stop = threading.Event()

    def get(self, label: str, path: str) -> None:
        request = urllib.request.Request(
            self.base + path, headers={"Cookie": f"sessionid={self.session}"}
        )
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
                status = response.status
        except Exception as exc:  # noqa: BLE001 - counted, reported
            self.errors.append(f"{path}: {exc}")
            return
        elapsed = (time.perf_counter() - started) * 1000
        if status != 200:
            self.errors.append(f"{path}: HTTP {status}")
        self.times[label].append(elapsed)

    def run(self) -> None:
        turn = 0
        while not self.stop.is_set():
            if turn % 2 == 0:
                self.get("dashboard", "/")
            else:
                self.get("run page", f"/runs/{self.run_id}/")
            turn += 1
            self.stop.wait(self.interval)


class Viewer(threading.Thread):
    """One websocket viewer of the run from seq 0: every event it receives, in order."""

    def __init__(self, ws_base: str, session: str, run_id: int) -> None:
        super().__init__(daemon=True)
        self.url = f"{ws_base}/ws/runs/{run_id}/?after=0"
        self.session = session
        self.seqs: list[int] = []
        self.error = ""
        self.connected = threading.Event()

    def run(self) -> None:
        from tests.ws_client import WsClient

        try:
            ws = WsClient(self.url, cookies={"sessionid": self.session}, timeout=60)
        except Exception as exc:  # noqa: BLE001
            self.error = f"connect: {exc}"
            self.connected.set()
            return
        self.connected.set()
        try:
            while True:
                event = ws.recv_json(timeout=600)
                self.seqs.append(int(event["seq"]))
                if event["type"] == "run_finished":
                    break
        except Exception as exc:  # noqa: BLE001
            self.error = str(exc)
        finally:
            ws.close()


class MemorySampler(threading.Thread):
    """Each desk's QEMU RSS as its host's libvirt reports it, the largest seen (KiB)."""

    def __init__(self, uris: dict[str, str], interval: float = 10.0) -> None:
        super().__init__(daemon=True)
        self.uris, self.interval = uris, interval
        self.rss: dict[str, int] = {}
        self.configured: dict[str, int] = {}
        self.host_of: dict[str, str] = {}
        self.stop = threading.Event()

    def sample(self) -> None:
        import libvirt

        for host, uri in self.uris.items():
            try:
                conn = libvirt.open(uri)
            except libvirt.libvirtError:
                continue
            try:
                for dom in conn.listAllDomains(0):
                    name = dom.name()
                    if not name.startswith(VDI_PREFIX):
                        continue
                    self.host_of[name] = host
                    with contextlib.suppress(libvirt.libvirtError):
                        self.configured[name] = dom.info()[1]
                        if dom.isActive():
                            rss = dom.memoryStats().get("rss", 0)
                            self.rss[name] = max(self.rss.get(name, 0), rss)
            finally:
                conn.close()

    def run(self) -> None:
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(self.interval)


# ------------------------------------------------------------------------------ main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--desks", type=int, default=16)
    parser.add_argument("--page-interval", type=float, default=1.0)
    parser.add_argument(
        "--baseline", type=int, default=30, help="dashboard requests with no run, before it"
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13")
    )
    parser.add_argument("--db-name", default=db_name("atp_bench_p7"))
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument("--write-readme", action="store_true", help="write the bench/README.md")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    announce("== P7 16 desks in one run (bench/p7_sixteen_desks.py, issue 16)")
    header = measured_at()

    from tests.prereq import free_port
    from tests.remote_hosts import answers, load_remote_hosts

    remotes = load_remote_hosts()[:2]
    if len(remotes) < 2 or not all(answers(h.tcp_uri) for h in remotes):
        raise SystemExit("the rig's two remote libvirt hosts must answer (make rig)")
    hosts = {"local": "qemu:///system", **{h.name: h.tcp_uri for h in remotes}}
    uris = list(hosts.values())
    leftover = remove_desks(uris)
    if leftover:
        print(f"removed {len(leftover)} desks left by an earlier run")

    db_url = setup_database(args.db_name)
    media = tempfile.mkdtemp(prefix="p7-media-")
    secret = os.environ.get("SECRET_KEY") or secrets.token_urlsafe(40)
    queue = "atp-p7-" + secrets.token_hex(3)
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": args.redis_url,
        "CELERY_BROKER_URL": args.redis_url,
        "SECRET_KEY": secret,
        "ATP_MEDIA_ROOT": media,
        "ATP_DEFAULT_QUEUE": queue,
        "ATP_RUN_MAX_PARALLEL": str(args.desks),
        "DJANGO_SETTINGS_MODULE": "atp_site.settings",
        "PYTHONUNBUFFERED": "1",
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    from atp_core.vdiplatform import VdiClient
    from hosts import vdi as vdi_endpoints
    from hosts.models import VirtualMachine
    from hosts.services import add_host
    from runs.models import Run, RunEvent
    from runs.services import launch_run
    from scenarios.services import create_scenario

    procs = Procs(env)
    figures: dict = {"header": header, "desks": args.desks, "hosts": list(hosts)}
    loads: dict[str, str] = {"start": load()}
    t_all = time.monotonic()
    try:
        user = get_user_model().objects.create_superuser("p7-bench", password="x" * 16)
        web = Client()
        web.force_login(user)
        session = web.cookies["sessionid"].value
        for name, uri in hosts.items():
            add_host(name, uri, slots=2)

        sim_port, web_port = free_port(), free_port()
        sim_args = ["--backend", "libvirt", "--prefix", VDI_PREFIX, "--port", str(sim_port)]
        for name, uri in hosts.items():
            sim_args += ["--libvirt-uri", f"{name}={uri}"]
        procs.start("vdisim", [sys.executable, "-m", "vdisim", *sim_args], "listening on")
        sim_url = f"http://127.0.0.1:{sim_port}"
        endpoint = vdi_endpoints.add_endpoint(
            "p7-sim", sim_url, "admin", "11111111", name_prefix=VDI_PREFIX
        )
        procs.start(
            "daphne",
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(web_port)]
            + ["atp_site.asgi:application"],
            "Listening on",
        )
        celery = [sys.executable, "-m", "celery", "-A", "atp_site", "worker", "-l", "info"]
        for name in [queue, *(f"host.{h}" for h in hosts)]:
            procs.start(
                f"worker-{name}",
                [*celery, "-P", "threads", "-c", "2", "-Q", name, "-n", f"p7-{name}@%h"]
                + ["--without-gossip", "--without-mingle"],
                " ready.",
            )
        loads["stack up"] = load()
        # the raw figure of the same sitting: the dashboard with no run going (after warm-up)
        idle = PageSampler(f"http://127.0.0.1:{web_port}", session, 0, 0)
        for _ in range(3):
            idle.get("dashboard", "/")
        idle.times["dashboard"].clear()
        for _ in range(args.baseline):
            idle.get("dashboard", "/")
            time.sleep(args.page_interval)
        figures["baseline"] = {
            "n": len(idle.times["dashboard"]),
            "p50_ms": pct(idle.times["dashboard"], 50),
            "p95_ms": pct(idle.times["dashboard"], 95),
        }
        loads["idle dashboard measured"] = load()

        # ---- the pool, through the platform
        client = VdiClient(sim_url, "admin", "11111111", timeout=60)
        template = client.models.find("atp-test-guest")
        t0 = time.monotonic()
        event = client.desk_pools.create(POOL, args.desks, template.id, domain_prefix=VDI_PREFIX)
        client.events.wait(event, timeout=600)
        pool = client.desk_pools.find(POOL)
        desks = client.desk_pools.domains(pool.id)
        figures["pool_create_s"] = time.monotonic() - t0
        loads["pool created"] = load()
        platform_hosts = {h.id: h.name for h in client.hosts.all()}
        figures["placement"] = {
            name: sum(1 for d in desks if platform_hosts.get(d.host_id) == name) for name in hosts
        }
        t0 = time.monotonic()
        synced = vdi_endpoints.sync_endpoint(endpoint)
        figures["sync_s"] = time.monotonic() - t0
        if synced.get("on_hosts") != args.desks:
            raise SystemExit(f"the sync mapped {synced} of {args.desks} desks to hosts")
        on_host = dict(
            VirtualMachine.objects.filter(desk_pool=POOL).values_list("name", "host__name")
        )

        # ---- one run, a part per host
        scenario = create_scenario(SCENARIO.read_text(), user)
        scenario.refresh_from_db()
        revision = scenario.current_revision
        memory = MemorySampler(hosts)
        memory.start()
        t_run = time.monotonic()
        run = launch_run(revision, [{"desk_pool": POOL}], {}, user, vdi_endpoint=endpoint.name)
        viewer = Viewer(f"ws://127.0.0.1:{web_port}", session, run.pk)
        viewer.start()
        pages = PageSampler(f"http://127.0.0.1:{web_port}", session, run.pk, args.page_interval)
        pages.start()
        figures["parts"] = sorted(run.parts.values_list("host_name", flat=True))
        deadline = time.monotonic() + 45 * 60
        while Run.objects.get(pk=run.pk).state != "finished":
            if time.monotonic() > deadline:
                raise SystemExit(f"run {run.pk} did not finish in 45 min")
            time.sleep(2)
        figures["run_s"] = time.monotonic() - t_run
        loads["run finished"] = load()
        viewer.join(120)
        pages.stop.set()
        memory.stop.set()
        pages.join(60)
        memory.join(60)
        run.refresh_from_db()
        figures["result"] = run.result
        figures["reason"] = run.reason
        figures["targets"] = {
            t.vm_name: (t.host.name, t.result)
            for t in run.run_targets.select_related("host").order_by("ordinal")
        }
        figures["parts_detail"] = {
            p.host_name: {
                "result": p.result,
                "worker": p.worker,
                "seconds": (p.finished - p.started).total_seconds()
                if p.finished and p.started
                else None,
            }
            for p in run.parts.all()
        }
        figures["mismatched_hosts"] = [
            t for t, (h, _r) in figures["targets"].items() if on_host.get(t) != h
        ]
        figures["verified"] = run.steps.filter(type="verify_input", status="passed").count()
        stored = list(
            RunEvent.objects.filter(run=run).order_by("seq").values_list("seq", flat=True)
        )
        expected = list(range(1, run.last_seq + 1))
        received = viewer.seqs
        figures["events"] = {
            "last_seq": run.last_seq,
            "stored": len(stored),
            "stored_gaps": len(set(expected) - set(stored)),
            "received": len(received),
            "received_unique": len(set(received)),
            "lost": len(set(expected) - set(received)),
            "duplicates": len(received) - len(set(received)),
            "out_of_order": sum(1 for a, b in zip(received, received[1:], strict=False) if b < a),
            "viewer_error": viewer.error,
        }
        figures["pages"] = {
            label: {
                "n": len(v),
                "p50_ms": pct(v, 50),
                "p95_ms": pct(v, 95),
                "max_ms": max(v) if v else float("nan"),
            }
            for label, v in pages.times.items()
        }
        figures["page_errors"] = pages.errors[:10]
        figures["memory"] = {
            name: {
                "host": memory.host_of.get(name),
                "configured_mib": memory.configured.get(name, 0) // 1024,
                "rss_mib": round(memory.rss.get(name, 0) / 1024, 1),
            }
            for name in sorted(memory.configured)
        }
        # ---- the pool goes
        t0 = time.monotonic()
        client.desk_pools.delete(pool.id)
        figures["pool_delete_s"] = time.monotonic() - t0
        figures["left_after_delete"] = remove_desks(uris)
        loads["pool deleted"] = load()
        figures["wall_s"] = time.monotonic() - t_all
        client.close()
    finally:
        procs.stop()
        remove_desks(uris)
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(args.db_name)
    loads["end"] = load()
    figures["loads"] = loads
    print(json.dumps(figures, indent=2, default=str))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2, default=str))
    text = render(figures)
    print(text)
    if args.write_readme:
        write_readme(text)
    return 0 if figures["result"] == "passed" and figures["events"]["lost"] == 0 else 1


def render(f: dict) -> str:
    rss = [m["rss_mib"] for m in f["memory"].values() if m["rss_mib"]]
    configured = sorted({m["configured_mib"] for m in f["memory"].values()})
    dash, page = f["pages"]["dashboard"], f["pages"]["run page"]
    ev = f["events"]
    parts = ", ".join(
        f"{h}: {f['placement'][h]} desks, {d['result']}, {d['seconds']:.0f} s"
        for h, d in sorted(f["parts_detail"].items())
    )
    loads = " · ".join(f"{k} {v}" for k, v in f["loads"].items())
    intro = (
        "`bench/p7_sixteen_desks.py` (scenario `bench/p7_sixteen_desks.yaml`): a desk pool of "
        f"{f['desks']} test guests made through the VDI simulator's libvirt backend over three "
        "libvirt hosts (the local libvirtd and the rig's two remote hosts, qemu+tcp), synced into "
        "the inventory (each desk mapped to its host), then ONE run on `{desk_pool: ...}`: one "
        "part per host, each on a Celery worker of its host's queue, daphne serving the "
        "dashboard and the run's websocket, PostgreSQL, Redis. Per desk: started through the "
        "platform, guest ready, a line typed and checked (`verify_input`), a command; then the "
        "pool deleted. TCG guests, all on this 2-core machine (the remote hosts are namespaces "
        "of it). Short version in the suite: `tests/dist/test_dist_vdi_desks_on_hosts.py` "
        "(4 desks over the same 3 hosts)."
    )
    per_guest = (
        "Per guest (host, QEMU RSS MiB): "
        + ", ".join(
            f"{n.removeprefix(VDI_PREFIX)} {m['host']} {m['rss_mib']:.0f}"
            for n, m in f["memory"].items()
        )
        + "."
    )
    lines = [
        SECTION,
        "",
        textwrap.fill(intro, 96),
        "",
        f"    {f['header']}",
        *textwrap.wrap(f"load: {loads}", 92, initial_indent="    ", subsequent_indent="      "),
        "",
        "| figure | value |",
        "|---|---|",
        f"| run result | {f['result']} ({f['verified']} of {f['desks']} desks typed into and "
        f"verified{'; ' + f['reason'] if f['reason'] else ''}) |",
        f"| parts | {parts} |",
        f"| desks on a host other than the inventory's | {len(f['mismatched_hosts'])} |",
        f"| events | {ev['last_seq']} in the run; stored {ev['stored']} (gaps "
        f"{ev['stored_gaps']}); received by the websocket viewer {ev['received_unique']} "
        f"(lost {ev['lost']}, duplicated {ev['duplicates']}, out of order "
        f"{ev['out_of_order']}) |",
        f"| dashboard `GET /` while the run went | p50 {dash['p50_ms']:.0f} ms · **p95 "
        f"{dash['p95_ms']:.0f} ms** · max {dash['max_ms']:.0f} ms ({dash['n']} requests"
        f"{', ' + str(len(f['page_errors'])) + ' errors' if f['page_errors'] else ''}) |",
        f"| dashboard `GET /` with no run, same sitting, before it | p50 "
        f"{f['baseline']['p50_ms']:.0f} ms · p95 {f['baseline']['p95_ms']:.0f} ms "
        f"({f['baseline']['n']} requests); p95 ratio during/idle "
        f"{dash['p95_ms'] / f['baseline']['p95_ms']:.1f} |",
        f"| the run's live page `/runs/<id>/` | p50 {page['p50_ms']:.0f} ms · p95 "
        f"{page['p95_ms']:.0f} ms · max {page['max_ms']:.0f} ms ({page['n']} requests) |",
        f"| guest memory | configured {', '.join(map(str, configured))} MiB each; QEMU RSS "
        f"(largest seen per guest) min {min(rss, default=0):.0f} · median "
        f"{pct(rss, 50):.0f} · max {max(rss, default=0):.0f} MiB; sum "
        f"{sum(rss) / 1024:.2f} GiB for {len(rss)} guests |",
        f"| wall time | pool create {f['pool_create_s']:.1f} s · sync {f['sync_s']:.1f} s · "
        f"run {f['run_s']:.0f} s · pool delete {f['pool_delete_s']:.1f} s · **all "
        f"{f['wall_s']:.0f} s** (including the stack's start) |",
        "",
        textwrap.fill(per_guest, 96),
        "",
    ]
    return "\n".join(lines)


def write_readme(text: str) -> None:
    body = README.read_text()
    pattern = re.compile(re.escape(SECTION) + r".*?(?=\n## |\Z)", re.S)
    if pattern.search(body):
        body = pattern.sub(lambda _m: text.rstrip("\n") + "\n", body)
    else:
        body = body.rstrip("\n") + "\n\n" + text
    README.write_text(body)


if __name__ == "__main__":
    sys.exit(main())
