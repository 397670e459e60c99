"""End to end on the real stack: a live ASGI server (daphne), a real Celery worker on queue
host.local, the rig guest. A run launched through the API runs guest_ping, exec_command and
screenshot on the guest, finishes ``passed``, and every event is stored in order and reaches a
websocket client exactly once."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from hosts.models import Host, VirtualMachine
from runs.models import Run, RunEvent
from scenarios.services import create_scenario
from tests.fixtures.web import make_user
from tests.ws_client import WsClient

pytestmark = pytest.mark.rig

SCENARIO = """version: 1
name: e2e-small
steps:
  - type: guest_ping
  - type: exec_command
    name: say hello
    command: echo hello-from-run
    expect: {stdout_contains: hello-from-run}
  - type: screenshot
    label: console
"""


def _api(base: str, path: str, token: str, body: dict | None = None):
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        method="POST" if body is not None else "GET",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read())


def test_launch_run_watch_and_report(live_server, celery_worker_process, rig_vm, libvirt_uri):
    host = Host.objects.create(name="local", uri=libvirt_uri)
    VirtualMachine.objects.create(host=host, name=rig_vm.name)
    user = make_user("olga", "operator")
    create_scenario(SCENARIO, user)
    token = Token.objects.create(user=user).key
    browser = Client()
    browser.force_login(user)
    cookies = {"sessionid": browser.cookies["sessionid"].value}

    status, data = _api(
        live_server,
        "/api/runs/",
        token,
        {"scenario": "e2e-small", "targets": [{"vm": rig_vm.name, "host": "local"}]},
    )
    assert status == 201 and data["queue"] == "host.local"
    run_id = data["id"]

    ws = WsClient(f"{live_server.replace('http', 'ws')}/ws/runs/{run_id}/?after=0", cookies=cookies)
    received = []
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline:
            event = ws.recv_json(timeout=max(1.0, deadline - time.monotonic()))
            received.append(event)
            if event["type"] == "run_finished":
                break
    finally:
        ws.close()
    assert received and received[-1]["type"] == "run_finished", [e["type"] for e in received]

    run = Run.objects.get(pk=run_id)
    assert (run.state, run.result) == ("finished", "passed"), run.reason
    assert run.worker.startswith("test-") and run.heartbeat and run.started < run.finished

    seqs = [e["seq"] for e in received]
    assert seqs == list(range(1, len(seqs) + 1)), "every event once, in order, from 1"
    stored = [ev.to_client() for ev in RunEvent.objects.filter(run_id=run_id).order_by("seq")]
    assert [(e["seq"], e["type"]) for e in stored] == [(e["seq"], e["type"]) for e in received]
    assert run.last_seq == len(stored)

    types = [e["type"] for e in received]
    assert types[0] == "queued" and "worker_started" in types and "run_started" in types
    finished = [e for e in received if e["type"] == "step_finished"]
    assert [(e["step_id"], e["data"]["status"]) for e in finished] == [
        ("1", "passed"),
        ("2", "passed"),
        ("3", "passed"),
    ]
    output = "".join(
        e["data"].get("text", "") for e in received if e["type"] == "step_output"
    ) or next(e["data"].get("output") for e in finished if e["step_id"] == "2")
    assert "hello-from-run" in str(output)
    shots = [e for e in received if e["type"] == "artifact" and e["data"]["kind"] == "screenshot"]
    assert len(shots) == 1 and shots[0]["step_id"] == "3"

    steps = list(run.steps.order_by("ordinal"))
    assert [(s.step_id, s.status) for s in steps] == [
        ("1", "passed"),
        ("2", "passed"),
        ("3", "passed"),
    ]
    assert all(s.duration is not None and s.duration >= 0 for s in steps)
    target = run.run_targets.get()
    assert (target.state, target.result) == ("finished", "passed")
    artifacts = {a.kind: a for a in run.artifacts.all()}
    with artifacts["screenshot"].file.open("rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    assert {a.name for a in run.artifacts.filter(kind="report")} == {"report.json", "junit.xml"}

    # the polling endpoint serves the same events; a late client resumes after any seq
    status, page = _api(live_server, f"/api/runs/{run_id}/events/?after=0", token)
    assert [e["seq"] for e in page["events"]] == seqs and page["state"] == "finished"
    status, report = _api(live_server, f"/api/runs/{run_id}/report/", token)
    assert report["result"] == "passed" and report["totals"]["passed"] == 3
    assert {"report.json", "junit.xml"} <= {a["name"] for a in report["artifacts"]}
    late = WsClient(
        f"{live_server.replace('http', 'ws')}/ws/runs/{run_id}/?after=5", cookies=cookies
    )
    try:
        rest = [late.recv_json(timeout=10)["seq"] for _ in range(len(seqs) - 5)]
    finally:
        late.close()
    assert rest == seqs[5:]
