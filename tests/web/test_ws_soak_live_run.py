"""Soak: websocket viewers through the real daphne server stay connected for a run of more
than two minutes on the real Celery worker. The run viewer sees every event exactly once, in
order, with no reconnect; the inventory page's socket is still open at the end.

(The Channels Redis layer's 5 s blocking read used to hit redis-py 8's 5 s default socket
timeout: every websocket was dropped each 5-6 s and replay hid the lost events.)"""

from __future__ import annotations

import threading
import time

import pytest
from django.test import Client

from hosts.models import Host, VirtualMachine
from runs.models import Run, RunEvent
from runs.services import launch_run
from scenarios.services import create_scenario
from tests.fixtures.web import make_user
from tests.ws_client import WsClient, WsClosed

pytestmark = [pytest.mark.redis, pytest.mark.long_once]

SOAK_SECONDS = 130
WAIT = 5
SCENARIO = f"""version: 1
name: ws-soak
steps:
  - type: loop
    name: quiet waits
    count: {SOAK_SECONDS // WAIT}
    steps:
      - type: wait
        duration: {WAIT}s
"""


def test_viewers_stay_connected_through_a_two_minute_run(live_server, celery_worker_process):
    # wait steps never open the VM: libvirt's test driver is host enough
    host = Host.objects.create(name="local", uri="test:///default")
    VirtualMachine.objects.create(host=host, name="test", state="running")
    user = make_user("vera", "operator")
    scenario = create_scenario(SCENARIO, user)
    browser = Client()
    browser.force_login(user)
    cookies = {"sessionid": browser.cookies["sessionid"].value}
    ws_base = live_server.replace("http", "ws")

    inventory = WsClient(f"{ws_base}/ws/inventory/", cookies=cookies)
    inventory_closed = threading.Event()
    stop_reading = threading.Event()

    def read_inventory():  # a browser answers the server's pings; so does this reader
        while not stop_reading.is_set():
            try:
                inventory.recv(timeout=1.0)
            except TimeoutError:
                continue
            except (WsClosed, OSError):
                inventory_closed.set()
                return

    reader = threading.Thread(target=read_inventory, daemon=True)
    reader.start()
    run = launch_run(scenario.current_revision, [{"vm": "test", "host": "local"}], {}, user)
    received: list[dict] = []
    reconnects = 0
    viewer = WsClient(f"{ws_base}/ws/runs/{run.pk}/?after=0", cookies=cookies)
    deadline = time.monotonic() + SOAK_SECONDS + 240
    try:
        while time.monotonic() < deadline:
            try:
                event = viewer.recv_json(timeout=max(1.0, deadline - time.monotonic()))
            except WsClosed:
                reconnects += 1  # what the page would do: resume after the last seq
                last = received[-1]["seq"] if received else 0
                viewer = WsClient(f"{ws_base}/ws/runs/{run.pk}/?after={last}", cookies=cookies)
                continue
            received.append(event)
            if event["type"] == "run_finished":
                break
    finally:
        stop_reading.set()
        reader.join(5)
        viewer.close()
        inventory.close()
    assert not inventory_closed.is_set(), "the inventory page's socket was dropped"

    run.refresh_from_db()
    assert (run.state, run.result) == ("finished", "passed"), run.reason
    assert (run.finished - run.started).total_seconds() >= 120, "the soak lasted 2 minutes"
    assert reconnects == 0, f"the viewer was dropped {reconnects} times"
    seqs = [e["seq"] for e in received]
    assert seqs == list(range(1, run.last_seq + 1)), "every event once, in order"
    stored = RunEvent.objects.filter(run=run).order_by("seq").values_list("seq", "type")
    assert [(e["seq"], e["type"]) for e in received] == list(stored)
    waits = [e for e in received if e["type"] == "step_finished"]
    assert len(waits) >= SOAK_SECONDS // WAIT and {e["data"]["status"] for e in waits} == {"passed"}
    assert Run.objects.filter(pk=run.pk, state="finished").exists()
