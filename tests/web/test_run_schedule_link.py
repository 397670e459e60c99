"""``Run.schedule`` is a foreign key to the schedule that launched it; the schedule's name at
launch stays with the run (``schedule_name``), so the history of a renamed or deleted schedule
stays readable. Runs stored before the key existed are linked by name by the migration."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from runs.models import Run
from schedules import services
from schedules.models import Schedule
from tests.fixtures.web import make_user
from tests.web.runs_core_data import inventory, revision

BEFORE = [("runs", "0009_run_facts"), ("schedules", "0003_schedule_build")]
AFTER = [("runs", "0010_run_schedule_fk")]


@pytest.fixture
def nightly(monkeypatch, db):
    monkeypatch.setattr("runs.services.send_run", lambda run: None)
    inventory()
    rev = revision("demo")
    schedule = Schedule(
        name="nightly",
        scenario=rev.scenario,
        targets=[{"vm": "demo-1", "host": "local"}],
        every_seconds=3600,
    )
    return services.save_schedule(schedule)


@pytest.fixture
def viewer_client(client, db):
    client.force_login(make_user("vera", "viewer"))
    return client


def test_a_scheduled_run_links_its_schedule_and_keeps_its_name(nightly, viewer_client):
    run = services.launch_schedule(nightly)
    run.refresh_from_db()
    assert run.schedule == nightly and run.schedule_name == "nightly"
    assert list(nightly.runs.all()) == [run]
    html = viewer_client.get(f"/runs/{run.pk}/").content.decode()
    assert f'<a href="/schedules/{nightly.pk}/edit">nightly</a>' in html
    api = viewer_client.get(f"/api/runs/{run.pk}/").json()
    assert api["schedule"] == "nightly" and api["schedule_id"] == nightly.pk


def test_history_of_a_deleted_schedule_stays_readable(nightly, viewer_client):
    run = services.launch_schedule(nightly)
    link = f'<a href="/schedules/{nightly.pk}/edit">'
    services.delete_schedule(nightly)
    run.refresh_from_db()
    assert run.schedule is None and run.schedule_name == "nightly"
    response = viewer_client.get(f"/runs/{run.pk}/")
    html = response.content.decode()
    assert response.status_code == 200 and "schedule nightly" in html
    assert link not in html
    listed = viewer_client.get("/runs/").content.decode()
    assert "nightly" in listed
    assert viewer_client.get(f"/api/runs/{run.pk}/").json()["schedule"] == "nightly"


@pytest.mark.django_db(transaction=True)
def test_the_migration_links_stored_runs_to_their_schedule_by_name():
    executor = MigrationExecutor(connection)
    before = [*BEFORE, *executor.loader.graph.leaf_nodes("scenarios")]
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    scenario = apps.get_model("scenarios", "Scenario").objects.create(name="old")
    rev = apps.get_model("scenarios", "ScenarioRevision").objects.create(
        scenario=scenario, number=1, content="x", content_sha256="0" * 64
    )
    schedule = apps.get_model("schedules", "Schedule").objects.create(
        name="nightly", scenario=scenario, every_seconds=3600
    )
    old_run = apps.get_model("runs", "Run")
    common = {"scenario": scenario, "revision": rev, "source": "x", "name": "old"}
    linked = old_run.objects.create(schedule="nightly", **common).pk
    orphan = old_run.objects.create(schedule="deleted-long-ago", **common).pk
    manual = old_run.objects.create(**common).pk

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    rows = {r.pk: r for r in Run.objects.filter(pk__in=[linked, orphan, manual])}
    assert (rows[linked].schedule_id, rows[linked].schedule_name) == (schedule.pk, "nightly")
    assert (rows[orphan].schedule_id, rows[orphan].schedule_name) == (None, "deleted-long-ago")
    assert (rows[manual].schedule_id, rows[manual].schedule_name) == (None, "")
