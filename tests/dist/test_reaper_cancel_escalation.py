"""Cancel escalation: a run still running ATP_CANCEL_GRACE s after the cancel request has its
task revoked (terminate) and ends `cancelled` with the reason; its events stay."""

from datetime import timedelta

import pytest
from django.utils import timezone

from runs import reaper
from runs.event_store import record_event
from runs.models import RunEvent
from runs.services import request_cancel
from tests.dist import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def revoked(monkeypatch):
    calls = []
    from atp_site.celery import app

    monkeypatch.setattr(app.control, "revoke", lambda *a, **kw: calls.append((a, kw)))
    return calls


def test_ignored_cancel_is_escalated(admin_user, revoked, settings):
    settings.ATP_CANCEL_GRACE = 20
    run = f.run(
        f.revision(), [f.vm(f.host("hd-a"), "vm1")], state="running", age=60, heartbeat_age=1
    )
    run.task_id = "task-123"
    run.save()
    record_event(run, "step_started", {"name": "ping"})
    request_cancel(run, admin_user)
    assert reaper.reap()["cancelled"] == []  # within the grace
    run.refresh_from_db()
    assert run.state == "running"

    RunEvent.objects.filter(run=run, type="cancel_requested").update(
        created=timezone.now() - timedelta(seconds=25)
    )
    assert reaper.reap()["cancelled"] == [run.pk]
    run.refresh_from_db()
    assert (run.state, run.result) == ("finished", "cancelled")
    assert "did not stop within 20 s" in run.reason and "terminated" in run.reason
    assert revoked == [(("task-123",), {"terminate": True, "signal": "SIGKILL"})]
    types = list(run.events.order_by("seq").values_list("type", flat=True))
    assert types == [
        "step_started",
        "cancel_requested",
        "cancel_escalated",
        "run_finished",
    ]


def test_run_without_cancel_request_is_not_escalated(revoked):
    f.run(f.revision(), [f.vm(f.host("hd-a"), "vm1")], state="running", age=300, heartbeat_age=1)
    assert reaper.reap()["cancelled"] == []
    assert revoked == []
