"""Fixtures of the distributed-execution tests: real Celery workers and beat as subprocesses,
two Host rows on the local libvirt, runnable scenarios, the broker cleaned between tests.

The broker is Redis unless a test asks for both: ``@pytest.mark.parametrize("broker", BROKERS,
indirect=True)`` runs it on Redis and on RabbitMQ (``ATP_TEST_AMQP_URL``, default the guest
account on 127.0.0.1:5672, vhost ``/``, or the session slot's own, tests/session_slot.py). The
RabbitMQ variants carry the marker ``amqp``; ``make test`` runs them in its PostgreSQL pass.

The processes run on the test database (PostgreSQL under ``make test-postgres``), with short
heartbeat/reaper periods so a lost worker is noticed in seconds (see DIST_ENV).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.fixtures.web import ARTIFACTS, ROOT, _child_env, channel_layers_on
from tests.prereq import free_port, require, tcp_port_open
from tests.session_slot import ensure_amqp_vhost
from tests.waiting import wait_for  # noqa: F401 - the dist tests import it from here

# Short periods for the tests; production defaults are in atp_site/settings.py.
DIST_ENV = {
    "ATP_HEARTBEAT_INTERVAL": "1",
    "ATP_HEARTBEAT_WINDOW": "6",
    "ATP_REAPER_INTERVAL": "2",
    "ATP_CANCEL_GRACE": "5",
    "ATP_QUEUED_LOST_AFTER": "60",
    "ATP_SLOT_RETRY_COUNTDOWN": "1",
    # The session's web worker (tests/fixtures/web.py) consumes "atp" with production periods;
    # the reaper, notifications and schedule launches of these tests get a queue of their own.
    "ATP_DEFAULT_QUEUE": "atp-dist",
}


class Proc:
    def __init__(self, name: str, popen: subprocess.Popen, log: Path):
        self.name = name
        self.popen = popen
        self.log = log

    @property
    def pid(self) -> int:
        return self.popen.pid

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill9(self) -> None:
        os.kill(self.popen.pid, signal.SIGKILL)
        self.popen.wait(10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)


AMQP_URL = os.environ.get("ATP_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
BROKERS = ["redis", pytest.param("amqp", marks=pytest.mark.amqp)]
# every queue the distributed tests use (RabbitMQ has no pattern delete)
DIST_QUEUES = ("atp", DIST_ENV["ATP_DEFAULT_QUEUE"], "host.hd-a", "host.hd-b", "host.local")


class Broker:
    """The broker of one test: its URL, and a look at / a purge of one of its queues through
    the AMQP-level API both transports share (message counts, purge)."""

    def __init__(self, kind: str, url: str):
        self.kind, self.url = kind, url

    def _channel_call(self, queue: str, what: str) -> int:
        from kombu import Connection

        with Connection(self.url, connect_timeout=10) as conn:
            channel = conn.channel()
            try:
                if what == "count":
                    return channel.queue_declare(queue=queue, passive=True).message_count
                return channel.queue_purge(queue) or 0
            except Exception:  # noqa: BLE001 - a queue nobody declared yet holds nothing
                return 0

    def waiting(self, queue: str) -> int:
        """Messages ready in ``queue`` (not those a worker holds)."""
        return self._channel_call(queue, "count")

    def purge(self, queue: str) -> int:
        """Drop the messages ready in ``queue`` (a broker that lost them); returns how many."""
        return self._channel_call(queue, "purge")

    def clean(self) -> None:
        if self.kind == "redis":
            clean_broker(self.url)
        else:
            for queue in DIST_QUEUES:
                self.purge(queue)


@pytest.fixture
def broker(request, _redis_for_web, settings):
    """The Celery broker of this test (Redis unless parametrized with BROKERS): this process
    sends to it and the workers and beat started by ``dist_processes`` use it."""
    from atp_site.celery import app

    kind = getattr(request, "param", "redis")
    if kind == "redis":
        yield Broker(kind, settings.CELERY_BROKER_URL)
        return
    require(tcp_port_open("127.0.0.1", 5672), "RabbitMQ on 127.0.0.1:5672 (ATP_TEST_AMQP_URL)")
    ensure_amqp_vhost(AMQP_URL)  # a session slot's own vhost (tests/session_slot.py)
    before = app.conf.broker_url
    settings.CELERY_BROKER_URL = AMQP_URL
    point_app_at(AMQP_URL)
    try:
        yield Broker(kind, AMQP_URL)
    finally:
        point_app_at(before)


def point_app_at(url: str) -> None:
    """This process's Celery app sends to ``url`` from its next send on."""
    from atp_site.celery import app

    app.conf.broker_url = url
    app._pool = None  # the next send opens a connection to ``url``
    app.amqp._producer_pool = None


def clean_broker(url: str) -> None:
    """Drop this session's queues and unacknowledged messages (our own Redis database only)."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5)
    keys = ["atp", "unacked", "unacked_index", "unacked_mutex"]
    for pattern in ("host.*", "atp*", "_kombu.binding.*"):
        keys.extend(client.scan_iter(match=pattern))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def dist_processes(request, transactional_db, broker):
    """Start workers and beat: ``start_worker(name, queues, env=..)``, ``start_beat(env=..)``,
    on this test's broker. Everything started is stopped at the end of the test; logs in
    test-artifacts/."""
    broker.clean()
    started: list[Proc] = []
    ARTIFACTS.mkdir(exist_ok=True)
    test = request.node.name.replace("/", "_")

    def spawn(name: str, argv: list[str], env: dict | None, ready: str, timeout: float) -> Proc:
        log = ARTIFACTS / f"dist-{test}-{name}.log"
        log.write_bytes(b"")
        child_env = {**_child_env(), **DIST_ENV, "CELERY_BROKER_URL": broker.url, **(env or {})}
        popen = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=child_env,
            stdout=open(log, "ab"),  # noqa: SIM115 - handed to the child
            stderr=subprocess.STDOUT,
        )
        proc = Proc(name, popen, log)
        started.append(proc)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not proc.alive():
                pytest.fail(f"{name} exited with {popen.returncode}: {proc.text()[-3000:]}")
            if ready in proc.text():
                return proc
            time.sleep(0.2)
        pytest.fail(f"{name} not ready within {timeout:g} s: {proc.text()[-3000:]}")

    def start_worker(
        name: str,
        queues: str,
        env: dict | None = None,
        concurrency: int = 2,
        pool: str = "threads",
    ) -> Proc:
        """A worker on ``queues``; ``pool="prefork"`` runs tasks in child processes, the only
        pool where Celery can terminate a task (``revoke(terminate=True)``)."""
        argv = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "atp_site",
            "worker",
            "-l",
            "info",
            "-P",
            pool,
            "-c",
            str(concurrency),
            "-Q",
            queues,
            "-n",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
        ]
        return spawn(name, argv, env, " ready.", 90)

    def start_beat(env: dict | None = None) -> Proc:
        argv = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "atp_site",
            "beat",
            "-l",
            "info",
            "-s",
            str(ARTIFACTS / f"dist-{test}-beat-schedule"),
        ]
        return spawn("beat", argv, env, "beat: Starting", 60)

    class Starter:
        worker = staticmethod(start_worker)
        beat = staticmethod(start_beat)
        procs = started

    yield Starter
    for proc in reversed(started):
        proc.stop()
    broker.clean()


@pytest.fixture
def two_hosts(vm_pool, libvirt_uri, transactional_db):
    """Hosts ``hd-a`` and ``hd-b``, both the local libvirt, two inventory VMs each, drawn from
    the session's guests (the same guest appears under both hosts when the pool is small)."""
    from hosts.models import Host, VirtualMachine

    with vm_pool.lend(len(vm_pool.vms)) as guests:
        names = [g.name for g in guests]
        hosts = {}
        for i, host_name in enumerate(("hd-a", "hd-b")):
            host = Host.objects.create(name=host_name, uri=libvirt_uri, slots=2)
            picks = [names[(2 * i + k) % len(names)] for k in range(2)]
            for vm_name in dict.fromkeys(picks):
                VirtualMachine.objects.create(host=host, name=vm_name, state="running")
            hosts[host_name] = host
        yield hosts


def make_scenario(name: str, steps: str, timeout: str = "5m"):
    """A runnable revision of a validated scenario with ``steps`` (YAML list items)."""
    from scenarios.services import create_scenario

    text = f"version: 1\nname: {name}\ntimeout: {timeout}\nsteps:\n{steps}"
    scenario = create_scenario(text, None)
    scenario.refresh_from_db()
    return scenario.current_revision


def events_of(run_id: int) -> list[tuple[int, str]]:
    from runs.models import RunEvent

    return list(RunEvent.objects.filter(run_id=run_id).order_by("seq").values_list("seq", "type"))


def assert_full_event_sequence(run_id: int) -> list[tuple[int, str]]:
    """Events 1..last_seq, no gap, no duplicate, from ``queued`` to ``run_finished``."""
    from runs.models import Run

    events = events_of(run_id)
    seqs = [s for s, _ in events]
    assert seqs == list(range(1, len(seqs) + 1)), f"run {run_id}: seqs {seqs}"
    assert Run.objects.get(pk=run_id).last_seq == len(seqs)
    types = [t for _, t in events]
    assert types[0] == "queued", types
    assert types[-1] == "run_finished", types
    assert types.count("run_finished") == 1, types
    return events


# ------------------------------------------------------------------ a Redis of the test's own


class OwnRedis:
    """A private redis-server with an append-only file, restartable on the same port."""

    def __init__(self):
        require(shutil.which("redis-server") is not None, "redis-server binary")
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="atp-hd-redis-")
        self.proc = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "yes", "--dir", self.dir],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: tcp_port_open("127.0.0.1", self.port), 10, "redis-server to listen")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def own_redis():
    r = OwnRedis()
    r.start()
    yield r
    r.close()


@pytest.fixture
def layer_on(settings):
    """Point this process's channel layer at another Redis."""
    from channels.layers import channel_layers

    def use(url):
        settings.CHANNEL_LAYERS = channel_layers_on(url)
        channel_layers.backends = {}

    yield use
    channel_layers.backends = {}


# ------------------------------------------------------------ a RabbitMQ node of the test's own

RABBITMQ_BIN = Path("/usr/lib/rabbitmq/bin")  # Debian's rabbitmq-server scripts, run as is


class OwnRabbitMQ:
    """A private RabbitMQ node (its own node name, AMQP and distribution ports, data, logs and
    Erlang cookie in a temporary directory), restartable on the same port with its data: a
    clean stop (SIGTERM, as ``rabbitmqctl stop``) or a ``kill -9`` of the whole node. The
    machine's shared node on 5672 is never touched."""

    def __init__(self):
        require((RABBITMQ_BIN / "rabbitmq-server").exists(), "rabbitmq-server (rig/install.sh)")
        self.port = free_port()
        self.node = f"atptest{self.port}@localhost"
        self.dir = Path(tempfile.mkdtemp(prefix="atp-own-rabbitmq-"))
        (self.dir / "home").mkdir()
        (self.dir / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.port}\nloopback_users = none\n"
        )
        (self.dir / "enabled_plugins").write_text("[].\n")  # no management listener
        (self.dir / "rabbitmq-env.conf").write_text("")  # not /etc/rabbitmq's node name
        self.env = {
            **os.environ,
            "HOME": str(self.dir / "home"),  # its own .erlang.cookie
            "RABBITMQ_CONF_ENV_FILE": str(self.dir / "rabbitmq-env.conf"),
            "RABBITMQ_CONFIG_FILE": str(self.dir / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.dir / "enabled_plugins"),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(free_port()),
            "RABBITMQ_MNESIA_BASE": str(self.dir / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.dir / "log"),
            "RABBITMQ_PID_FILE": str(self.dir / "node.pid"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}//"
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self, timeout: float = 120) -> None:
        self.starts += 1
        out = open(self.dir / f"start-{self.starts}.out", "wb")  # noqa: SIM115 - the node's
        self.proc = subprocess.Popen(
            [str(RABBITMQ_BIN / "rabbitmq-server")],
            cwd=self.dir,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill9 reaches every process
        )
        wait_for(self._answers, timeout, f"RabbitMQ node {self.node} to accept AMQP")

    def _answers(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            pytest.fail(f"rabbitmq-server exited with {self.proc.returncode}: {self.log()}")
        if not tcp_port_open("127.0.0.1", self.port):
            return False
        from kombu import Connection

        try:
            with Connection(self.url, connect_timeout=5) as conn:
                conn.connect()
            return True
        except Exception:  # noqa: BLE001 - still booting
            return False

    def log(self) -> str:
        logs = sorted((self.dir / "log").glob("*.log")) + sorted(self.dir.glob("start-*.out"))
        return "\n".join(p.read_text(errors="replace")[-2000:] for p in logs)

    def _beam_pid(self) -> int:
        return int((self.dir / "node.pid").read_text().strip())

    def stop(self) -> None:
        """A clean stop: SIGTERM to the Erlang VM, which closes connections and writes its
        queues to disk before it exits."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.kill(self._beam_pid(), signal.SIGTERM)
        self.proc.wait(60)
        wait_for(lambda: not tcp_port_open("127.0.0.1", self.port), 10, "the port to close")

    def kill9(self) -> None:
        """``kill -9`` of every process of the node: no goodbye to clients, nothing flushed."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(20)
        wait_for(lambda: not tcp_port_open("127.0.0.1", self.port), 10, "the port to close")

    def queues(self) -> dict[str, tuple[int, int]]:
        """``{queue: (ready, unacknowledged)}`` of the node's default vhost (rabbitmqctl)."""
        out = subprocess.run(
            [str(RABBITMQ_BIN / "rabbitmqctl"), "-n", self.node, "-q", "list_queues"]
            + ["name", "messages_ready", "messages_unacknowledged"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
        rows = [line.split() for line in out.splitlines()]
        return {r[0]: (int(r[1]), int(r[2])) for r in rows if len(r) == 3 and r[1].isdigit()}

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(20)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def own_rabbitmq():
    node = OwnRabbitMQ()
    node.start()
    yield node
    node.close()
