"""A run finishes once: a late run_finished (a cut-off worker after the reaper ended the run)
is dropped under the run's lock, so clients never see two and the first result stands."""

import pytest

from atp_core.status import RunState
from runs.events import record_event
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


def test_late_run_finished_after_the_reaper_is_dropped(run):
    record_event(run, "worker_started", {"worker": "w1@host", "attempt": 1})
    Run.objects.filter(pk=run.pk).update(
        state=RunState.RUNNING, worker="w1@host", started=run.created, heartbeat=run.created
    )
    assert mark_lost(run.pk, window=0.0)
    run.refresh_from_db()
    assert (run.state, run.result) == ("finished", "error")
    seq_after_reaper = run.last_seq

    late = record_event(run, "run_finished", {"result": "passed"})

    run.refresh_from_db()
    assert (run.result, run.last_seq) == ("error", seq_after_reaper)
    finished = list(RunEvent.objects.filter(run=run, type="run_finished"))
    assert len(finished) == 1 and late.pk == finished[0].pk
    assert finished[0].payload["result"] == "error"
    seqs = list(RunEvent.objects.filter(run=run).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, seq_after_reaper + 1))
