"""The run detail of the REST API lists the parts of a run on several hosts (host, queue,
state, attempt, the worker that claimed it, its times) and, for a part no worker took, since
when it waits for a worker of its host's queue and when it ends with error; a run on one host
has none. (The OpenAPI schema of ``parts`` is checked by test_api_fuzz_schemathesis.py.)"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token

from hosts.models import Host, VirtualMachine
from runs import lifecycle
from runs.services import launch_run
from tests.fixtures.web import make_user
from tests.web.runs_core_data import inventory, revision

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer():
    token = Token.objects.create(user=make_user("vera", "viewer"))
    return {"HTTP_AUTHORIZATION": f"Token {token.key}"}


@pytest.fixture
def unsent(monkeypatch):
    monkeypatch.setattr("runs.services.send_run", lambda run: None)


def test_run_detail_lists_its_parts_and_what_a_waiting_part_waits_for(
    client, viewer, unsent, settings
):
    settings.ATP_PART_WORKER_DEADLINE = 600
    inventory()
    other = Host.objects.create(name="lab-b", uri="qemu:///system")
    VirtualMachine.objects.create(host=other, name="desk-b")
    run = launch_run(
        revision(), [{"vm": "demo-1", "host": "local"}, {"vm": "desk-b", "host": "lab-b"}], {}, None
    )
    parts = {p.host_name: p for p in run.parts.all()}
    assert lifecycle.claim_part(parts["local"].pk, worker="wl@local", task_id="t1").ok

    body = client.get(f"/api/runs/{run.pk}/", **viewer).json()
    by_host = {p["host"]: p for p in body["parts"]}
    assert set(by_host) == {"local", "lab-b"}
    local, waiting = by_host["local"], by_host["lab-b"]
    assert (local["queue"], local["state"], local["worker"]) == (
        "host.local",
        "running",
        "wl@local",
    )
    assert local["started"] and local["heartbeat"] and local["attempt"] == 1
    assert local["waiting_for"] == "" and local["no_worker_deadline"] is None
    assert (waiting["queue"], waiting["state"], waiting["waiting_for"]) == (
        "host.lab-b",
        "queued",
        "worker",
    )
    assert waiting["worker"] == "" and waiting["started"] is None
    since = datetime.fromisoformat(waiting["waiting_since"])
    assert abs(since - run.created) < timedelta(seconds=1)
    deadline = datetime.fromisoformat(waiting["no_worker_deadline"])
    assert deadline - since == timedelta(seconds=600)
    assert waiting["last_worker_seen"] is None and waiting["last_worker_seen_at"] is None
    assert waiting["note"].startswith("waiting for a worker on host.lab-b since "), waiting
    assert deadline > timezone.now()


def test_a_run_on_one_host_has_no_parts(client, viewer, unsent):
    inventory()
    run = launch_run(revision(), [{"vm": "demo-1", "host": "local"}], {}, None)
    assert client.get(f"/api/runs/{run.pk}/", **viewer).json()["parts"] == []
