"""Sizes are bounded (issue 11 item 11): an API page holds at most ATP_API_MAX_LIMIT rows
whatever ``?limit=`` asks, and output events are cut to TEXT_CAP, the first of each interval
as well."""

from __future__ import annotations

import pytest

from hosts.models import VirtualMachine
from runs.event_sink import TEXT_CAP, RunEventSink
from runs.models import RunEvent
from tests.fixtures.web import make_user
from tests.web.runs_core_data import event, inventory, revision

pytestmark = pytest.mark.django_db(transaction=True)


def test_limit_has_a_maximum(client, settings):
    settings.ATP_API_MAX_LIMIT = 2
    host, _ = inventory()
    VirtualMachine.objects.create(host=host, name="extra-1")
    client.force_login(make_user("watcher", "viewer"))
    page = client.get("/api/vms/", {"limit": 10**9}).json()
    assert page["count"] == 4
    assert len(page["results"]) == 2
    assert page["next"]


def test_the_first_output_event_of_an_interval_is_capped_too(monkeypatch, redis_url):
    monkeypatch.setattr("runs.services.send_run", lambda run: None)
    from runs.services import launch_run

    inventory()
    run = launch_run(revision(), [{"vm": "demo-1", "host": "local"}], {}, None)
    huge = "x" * (4 * TEXT_CAP)
    with RunEventSink(run.pk, log_rate=1) as sink:
        sink(event("step_output", step_id="1", stream="stdout", text=huge))
        sink(event("step_log", step_id="1", message=huge, level="info"))
    stored = RunEvent.objects.filter(run=run, type__in=("step_output", "step_log"))
    assert stored.count() == 2
    for ev in stored:
        text = ev.payload.get("text") or ev.payload.get("message")
        assert len(text) <= TEXT_CAP + 100
        assert text.startswith("[... earlier output cut]")
