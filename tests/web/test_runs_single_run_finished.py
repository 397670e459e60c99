"""A run finishes once: a late finish (a cut-off worker after the reaper ended the run) is
refused under the run's lock, so clients never see two run_finished, the first result stands and
the run's one notification is not sent again."""

import pytest

from atp_core.status import Result, RunState
from runs import lifecycle, notify
from runs.event_store import record_event
from runs.models import Run, RunEvent
from runs.reaper import mark_lost
from runs.services import launch_run
from tests.web.runs_core_data import inventory, revision

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def run(redis_url, monkeypatch, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr("runs.services.send_run", lambda run: None)
    inventory()
    return launch_run(revision(), [{"vm": "demo-1", "host": "local"}], {}, None)


@pytest.fixture
def notified(monkeypatch):
    sent: list[int] = []
    monkeypatch.setattr(notify, "on_run_finished", sent.append)
    return sent


def test_late_finish_after_the_reaper_is_refused(run, notified):
    record_event(run, "worker_started", {"worker": "w1@host", "attempt": 1})
    Run.objects.filter(pk=run.pk).update(
        state=RunState.RUNNING, worker="w1@host", started=run.created, heartbeat=run.created
    )
    assert mark_lost(run.pk, window=0.0)
    run.refresh_from_db()
    assert (run.state, run.result) == ("finished", "error")
    seq_after_reaper = run.last_seq
    finished_at = run.finished

    assert lifecycle.finish(run.pk, "passed", data={"totals": {"passed": 3}}) is False

    run.refresh_from_db()
    assert (run.result, run.last_seq, run.finished) == ("error", seq_after_reaper, finished_at)
    finished = list(RunEvent.objects.filter(run=run, type="run_finished"))
    assert len(finished) == 1 and finished[0].payload["result"] == "error"
    seqs = list(RunEvent.objects.filter(run=run).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, seq_after_reaper + 1))
    assert notified == [run.pk], "one notification, from the first finish"


def test_a_second_finish_is_refused_and_notifies_nothing(run, notified):
    assert lifecycle.finish(run.pk, Result.CANCELLED, "cancelled by olga")
    assert not lifecycle.finish(run.pk, Result.ERROR, "could not be queued")
    run.refresh_from_db()
    assert (run.state, run.result, run.reason) == ("finished", "cancelled", "cancelled by olga")
    types = list(run.events.order_by("seq").values_list("type", flat=True))
    assert types.count("run_finished") == 1 and types[-1] == "run_finished"
    assert notified == [run.pk]


def test_run_finished_is_not_recorded_around_the_lifecycle(run):
    with pytest.raises(ValueError, match="lifecycle"):
        record_event(run, "run_finished", {"result": "passed"})
    run.refresh_from_db()
    assert run.state == RunState.QUEUED
