"""Webhook notifications: JSON POSTed to a real local HTTP server, retried on errors and
timeouts, final on 4xx, delivered once per run and address."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from runs import notify
from schedules.models import Notification, NotificationHook
from tests.dist import factories as f


class Hook:
    """A tiny HTTP server answering with the next status of ``statuses`` (then 200)."""

    def __init__(self, statuses=(), delay: float = 0.0, location: str = "", reply: bytes = b"ok"):
        self.statuses = list(statuses)
        self.delay = delay
        self.location = location
        self.reply = reply
        self.received: list[dict] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.received.append(
                    {
                        "body": json.loads(body),
                        "raw": body,
                        "type": self.headers["Content-Type"],
                        "headers": dict(self.headers),
                    }
                )
                if hook.delay:
                    threading.Event().wait(hook.delay)
                status = hook.statuses.pop(0) if hook.statuses else 200
                self.send_response(status)
                if hook.location:
                    self.send_header("Location", hook.location)
                self.send_header("Content-Length", str(len(hook.reply)))
                self.end_headers()
                self.wfile.write(hook.reply)

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # the client gave up (timeout test): nothing to report

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def _loopback_webhooks_allowed(settings):
    """The receivers here listen on 127.0.0.1, which webhooks may reach only when allowed."""
    settings.ATP_WEBHOOK_ALLOW_NETWORKS = ["127.0.0.1/32"]


@pytest.fixture
def hook():
    servers = []

    def make(*args, **kwargs):
        servers.append(Hook(*args, **kwargs))
        return servers[-1]

    yield make
    for s in servers:
        s.close()


@pytest.fixture
def finished_run(db):
    rev = f.revision("nightly-smoke")
    run = f.run(rev, [f.vm(f.host("hd-a"), "vm1")], state="finished", age=30, result="failed")
    run.totals = {"passed": 3, "failed": 1}
    run.schedule_name = "nightly"
    run.save()
    return run


def test_payload_reaches_the_webhook(hook, finished_run, settings):
    settings.ATP_SITE_URL = "https://atp.example"
    server = hook()
    settings.ATP_WEBHOOK_URLS = [server.url]
    outcome = notify.notify_run_finished(finished_run.pk)
    assert outcome == {server.url: True}
    (got,) = server.received
    assert got["type"] == "application/json"
    body = got["body"]
    assert body["run_id"] == finished_run.pk
    assert body["scenario"] == "nightly-smoke"
    assert body["result"] == "failed"
    assert body["totals"] == {"passed": 3, "failed": 1}
    assert body["url"] == f"https://atp.example/runs/{finished_run.pk}/"
    assert body["schedule"] == "nightly"
    assert body["targets"] == [{"name": "hd-a/vm1", "result": None, "totals": {}}]
    row = Notification.objects.get(run=finished_run)
    assert (row.channel, row.ok, row.status_code, row.attempts) == ("webhook", True, 200, 1)


def test_server_errors_are_retried(hook, finished_run, settings):
    server = hook(statuses=[500, 503])
    d = notify.post_webhook(server.url, {"x": 1}, timeout=5, retries=3, backoff=0.01)
    assert (d.ok, d.attempts, d.status_code) == (True, 3, 200)
    assert len(server.received) == 3


def test_client_error_is_final(hook, settings):
    server = hook(statuses=[404])
    d = notify.post_webhook(server.url, {"x": 1}, timeout=5, retries=3, backoff=0.01)
    assert (d.ok, d.attempts, d.status_code) == (False, 1, 404)
    assert d.detail == "The webhook answered HTTP 404 (Not Found)."


def test_timeout_is_retried_then_reported(hook):
    server = hook(delay=1.0)
    d = notify.post_webhook(server.url, {"x": 1}, timeout=0.2, retries=1, backoff=0.01)
    assert not d.ok and d.attempts == 2
    assert d.detail == f"127.0.0.1:{server.server.server_port} did not answer within 0.2 s."


def test_nobody_listening_is_reported():
    from tests.prereq import free_port

    url = f"http://127.0.0.1:{free_port()}/"
    d = notify.post_webhook(url, {}, timeout=1, retries=1, backoff=0.01)
    assert not d.ok
    assert d.detail == f"Could not connect to {url[7:-1]} (connection refused)."


def test_delivered_once_per_run_and_address(hook, finished_run, settings):
    server = hook()
    settings.ATP_WEBHOOK_URLS = [server.url]
    notify.notify_run_finished(finished_run.pk)
    assert notify.notify_run_finished(finished_run.pk) == {}
    assert len(server.received) == 1


def test_hooks_per_scenario_and_result(hook, finished_run, settings):
    settings.ATP_WEBHOOK_URLS = []
    mine, other, failures, passes = hook(), hook(), hook(), hook()
    NotificationHook.objects.create(name="mine", scenario=finished_run.scenario, url=mine.url)
    other_rev = f.revision("other")
    NotificationHook.objects.create(name="other", scenario=other_rev.scenario, url=other.url)
    NotificationHook.objects.create(name="fail", url=failures.url, results=["failed", "error"])
    NotificationHook.objects.create(name="pass", url=passes.url, results=["passed"])
    NotificationHook.objects.create(name="off", url=other.url, enabled=False)
    notify.notify_run_finished(finished_run.pk)
    assert len(mine.received) == 1 and len(failures.received) == 1
    assert other.received == [] and passes.received == []


def test_unfinished_run_sends_nothing(hook, db, settings):
    server = hook()
    settings.ATP_WEBHOOK_URLS = [server.url]
    run = f.run(f.revision(), [f.vm(f.host("hd-a"), "vm1")], state="running", heartbeat_age=1)
    assert notify.notify_run_finished(run.pk) == {}
    assert server.received == []


def test_only_the_end_of_a_run_queues_its_notification(db, monkeypatch):
    """runs.lifecycle.finish queues it, once; a stale task of the ended run and a second
    finish queue nothing."""
    from runs import lifecycle
    from runs.tasks import execute_run

    queued = []
    monkeypatch.setattr(notify, "on_run_finished", queued.append)
    run = f.run(f.revision(), [f.vm(f.host("hd-a"), "vm1")], state="running", heartbeat_age=1)
    assert lifecycle.finish(run.pk, "failed", "step 1 failed")
    assert execute_run.apply(args=[run.pk]).get() == "stale"
    assert not lifecycle.finish(run.pk, "passed")
    assert queued == [run.pk]
