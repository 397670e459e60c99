"""A live viewer on a real websocket through daphne, connected before Redis restarts and kept
through the restart (our own redis-server: broker, and channel layer of the worker, daphne and
this process): the run finishes, the viewer's socket stays open, and it gets every stored event
of the run once and in order, the ones stored during and after the restart included."""

import threading
import time

import pytest
from django.test import Client

from runs.models import Run
from runs.services import launch_run
from tests.dist.conftest import assert_full_event_sequence, make_scenario, wait_for
from tests.fixtures.web import _child_env, make_user, start_daphne, stop_process
from tests.ws_client import WsClient, WsClosed

pytestmark = [pytest.mark.rig, pytest.mark.redis]

STEPS = """\
  - type: guest_ping
  - {type: exec_command, command: echo before-restart}
  - {type: wait, duration: 8s}
  - {type: exec_command, command: echo after-restart}
  - {type: wait, duration: 4s}
  - {type: exec_command, command: echo done}
"""


class Viewer:
    """What the live page does: read events; when the socket closes, reconnect after the last
    seq (counted), trying again with a backoff while the server refuses."""

    def __init__(self, url: str, cookies: dict):
        self.url, self.cookies = url, cookies
        self.events: list[tuple[int, str]] = []
        self.reconnects = 0
        self.error: BaseException | None = None
        self.ws = WsClient(f"{url}?after=0", cookies=cookies)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        deadline = time.monotonic() + 300
        try:
            while time.monotonic() < deadline:
                try:
                    event = self.ws.recv_json(timeout=max(1.0, deadline - time.monotonic()))
                except WsClosed:
                    self.reconnects += 1
                    self.ws = self._reconnect(deadline)
                    continue
                self.events.append((event["seq"], event["type"]))
                if event["type"] == "run_finished":
                    return
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc
        finally:
            self.ws.close()

    def _reconnect(self, deadline: float) -> WsClient:
        last = self.events[-1][0] if self.events else 0
        pause = 0.5
        while True:
            try:
                return WsClient(f"{self.url}?after={last}", cookies=self.cookies)
            except (ConnectionError, OSError):
                if time.monotonic() + pause > deadline:
                    raise
                time.sleep(pause)
                pause = min(pause * 2, 5.0)

    def saw(self, type_: str) -> bool:
        return any(t == type_ for _, t in self.events)


def test_a_websocket_viewer_kept_through_a_redis_restart_sees_every_event_once(
    dist_processes, two_hosts, own_redis, layer_on, monkeypatch
):
    from atp_site.celery import app, run_task_options
    from runs.tasks import execute_run

    env = {"REDIS_URL": own_redis.url, "CELERY_BROKER_URL": own_redis.url}
    dist_processes.worker("hd-wv", "host.hd-a", env=env)
    layer_on(own_redis.url)
    daphne, base = start_daphne({**_child_env(), **env}, log_name="daphne-redis-restart")
    try:

        def send_run(run):  # launch_run's send, to our own broker
            with app.connection_for_write(own_redis.url) as conn:
                sent = execute_run.apply_async(
                    args=[run.pk], connection=conn, **run_task_options(run)
                )
            Run.objects.filter(pk=run.pk).update(task_id=sent.id)

        monkeypatch.setattr("runs.services.send_run", send_run)
        user = make_user("vera", "viewer")
        browser = Client()
        browser.force_login(user)
        cookies = {"sessionid": browser.cookies["sessionid"].value}
        rev = make_scenario("redis-restart-ws", STEPS)
        vm = two_hosts["hd-a"].vms.first().name
        run = launch_run(rev, [{"vm": vm, "host": "hd-a"}], {}, None)
        viewer = Viewer(f"{base.replace('http', 'ws')}/ws/runs/{run.pk}/", cookies)

        running = Run.objects.get(pk=run.pk).steps.filter(status="running")
        wait_for(lambda: "wait" in str(running.first()), 180, "the wait step")
        wait_for(lambda: viewer.saw("step_started"), 30, "the viewer to see the run going")
        before = len(viewer.events)
        own_redis.stop()
        time.sleep(3)  # worker, daphne and this process go on without Redis
        own_redis.start()

        wait_for(lambda: Run.objects.get(pk=run.pk).state == "finished", 90, "the run to finish")
        viewer.thread.join(60)
        assert viewer.error is None, f"the viewer failed: {viewer.error!r}"
        assert not viewer.thread.is_alive(), f"no run_finished for the viewer: {viewer.events}"
        run.refresh_from_db()
        assert run.result == "passed", run.reason
        events = assert_full_event_sequence(run.pk)
        assert viewer.events == events, "the live view missed or repeated events"
        assert len(events) > before, "events were stored after the restart"
        assert viewer.reconnects == 0, "the restart dropped the viewer's websocket"
    finally:
        stop_process(daphne)
