"""Storing a batch of events costs a fixed number of statements: the run's next seqs are
reserved and the batch inserted (on PostgreSQL one ``WITH ... UPDATE ... INSERT`` statement,
run alone in autocommit when nothing is projected; elsewhere an ``UPDATE ... RETURNING`` and an
``INSERT`` in a transaction), and a step event adds the one ``UPDATE`` of its row; the writer
reads the run's targets once, not once per event. After the commit, the live view's fragments
of a batch with a step event cost two reads (the target's rows with the target, the step's
events: ``runs.live_updates``); a log line none once the writer knows the run (its targets and
the step's running iteration, read on first use). (Each statement is a round trip in the
worker's writer thread, the leg before the broadcast.)"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from runs.event_store import NewEvent, store_events
from runs.models import RunEvent, StepResult
from runs.projection import Targets
from runs.services import launch_run
from tests.web.runs_core_data import PLAN, inventory, revision

pytestmark = pytest.mark.django_db(transaction=True)

TARGET = "local/demo-1"


@pytest.fixture
def run(monkeypatch):
    monkeypatch.setattr("runs.services.send_run", lambda run: None)  # no worker here
    inventory()
    run = launch_run(revision(), [{"tag": "demo"}], {}, None)  # seq 1 "queued"
    store_events(run.pk, [NewEvent("run_started", {"plan": PLAN, "targets": []})])
    return run


POSTGRES = connection.vendor == "postgresql"
# reserving the seqs and inserting the batch
STORE = ["WITH"] if POSTGRES else ["UPDATE", "INSERT"]


def _statements(fn) -> list[str]:
    """The SQL statements ``fn`` ran, savepoints left out (Django logs no BEGIN; a COMMIT
    is listed)."""
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return [
        q["sql"].split()[0].upper()
        for q in ctx.captured_queries
        if q["sql"].split()[0].upper() in {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"}
        or q["sql"].upper().startswith("COMMIT")
    ]


def test_a_log_event_is_one_reservation_and_one_insert(run):
    targets = Targets(run.pk)
    log = [NewEvent("step_log", {"message": "hi"}, TARGET, "2")]
    # nothing to project: on PostgreSQL the one statement runs alone, no transaction around it
    alone = STORE if POSTGRES else [*STORE, "COMMIT"]
    # then, once per run and step, the live view: the targets' ids, the step's latest start
    assert _statements(lambda: store_events(run.pk, log, targets)) == [*alone, "SELECT", "SELECT"]
    batch = [NewEvent("step_log", {"message": f"line {i}"}, TARGET, "2") for i in range(20)]
    assert _statements(lambda: store_events(run.pk, batch, targets)) == alone
    stored = list(RunEvent.objects.filter(run=run).order_by("seq"))
    assert [ev.seq for ev in stored] == list(range(1, 24))  # 1 queued, 2 run_started
    assert [ev.payload for ev in stored[2:]] == [{"message": "hi"}] + [
        {"message": f"line {i}"} for i in range(20)
    ]
    assert {(ev.type, ev.target, ev.step_id) for ev in stored[2:]} == {("step_log", TARGET, "2")}


def test_a_step_event_adds_one_update_of_its_row_and_targets_are_read_once(run):
    targets = Targets(run.pk)
    started = [NewEvent("step_started", {"name": "echo hi", "attempt": 1}, TARGET, "2")]
    first = _statements(lambda: store_events(run.pk, started, targets))
    # SELECT: the run's targets; after the commit, the live view: the target's rows (the step's
    # events are kept from run_started's read of the whole run: none yet)
    assert first == [*STORE, "SELECT", "UPDATE", "COMMIT", "SELECT"]
    finished = [
        NewEvent(
            "step_finished", {"status": "passed", "duration": 0.5, "output": "hi"}, TARGET, "2"
        )
    ]
    # the live view reads the target's rows; the step's events are kept
    assert _statements(lambda: store_events(run.pk, finished, targets)) == [
        *STORE,
        "UPDATE",
        "COMMIT",
        "SELECT",
    ]
    row = StepResult.objects.get(run=run, target__name=TARGET, step_id="2")
    assert (row.status, row.attempt, row.duration, row.output, row.name) == (
        "passed",
        1,
        0.5,
        "hi",
        "echo hi",
    )
    assert row.started is not None and row.finished >= row.started


def test_a_step_the_plan_did_not_list_gets_its_row(run):
    targets = Targets(run.pk)
    looped = [
        NewEvent("step_started", {"attempt": 1, "iteration": 0}, TARGET, "2"),
        NewEvent(
            "step_finished", {"status": "failed", "error": "exit 1", "iteration": 0}, TARGET, "2"
        ),
    ]
    store_events(run.pk, looped, targets)
    row = StepResult.objects.get(run=run, target__name=TARGET, step_id="2", iteration=0)
    planned = StepResult.objects.get(run=run, target__name=TARGET, step_id="2", iteration=-1)
    assert (row.status, row.error, row.ordinal, row.name) == ("failed", "exit 1", 1, "echo hi")
    assert planned.status == "pending"
