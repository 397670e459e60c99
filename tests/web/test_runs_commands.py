"""manage.py atp_run: launch (targets, variables, clear errors), show, cancel, and --wait with
an exit status from the result."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from runs.models import Run
from tests.fixtures.web import make_user
from tests.web.runs_core_data import PLAN, inventory, revision

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr("runs.services.send_run", calls.append)
    return calls


def _call(*args) -> str:
    out = StringIO()
    call_command("atp_run", *args, stdout=out)
    return out.getvalue()


def test_launch_show_cancel(sent, django_capture_on_commit_callbacks):
    inventory()
    revision()
    make_user("olga", "operator")
    with django_capture_on_commit_callbacks(execute=True):
        out = _call("launch", "demo", "--vm", "demo-1", "--host", "local", "--var", "who=me",
                    "--var", "n=2", "--user", "olga", "--retries", "1")  # fmt: skip
    run = Run.objects.get()
    assert out.strip() == f"run {run.pk} queued on host.local"
    assert run.variables == {"who": "me", "n": "2"} and run.launched_by.username == "olga"
    assert run.max_attempts == 2 and [r.pk for r in sent] == [run.pk]

    from runs.event_store import record_event

    record_event(run, "run_started", {"plan": PLAN})
    record_event(run, "step_finished", {"status": "failed", "error": "exit 1"}, "local/demo-1", "1")
    out = _call("show", str(run.pk), "--events")
    assert f"run {run.pk}: demo rev 1" in out and "target local/demo-1" in out
    assert "failed" in out and "error: exit 1" in out and "pending" in out
    assert "#3    step_finished" in out

    out = _call("cancel", str(run.pk), "--user", "olga")
    assert "cancel requested (finished, cancelled)" in out
    with pytest.raises(CommandError, match="already finished"):
        _call("cancel", str(run.pk))


@pytest.mark.parametrize(
    "args, message",
    [
        (["launch", "nope", "--vm", "demo-1"], "no scenario named 'nope'"),
        (["launch", "demo", "--vm", "ghost"], "no VM named 'ghost'"),
        (["launch", "demo", "--vm", "demo-1", "--var", "oops"], "expected name=value"),
        (["launch", "demo", "--vm", "demo-1", "--user", "nobody"], "no user named 'nobody'"),
        (["launch", "demo", "--vm", "demo-1", "--revision", "9"], "has no revision 9"),
        (["show", "424242"], "no run 424242"),
    ],
)
def test_bad_input_is_a_clear_error(sent, args, message):
    inventory()
    revision()
    with pytest.raises(CommandError, match=message):
        _call(*args)


@pytest.mark.django_db(transaction=True)
def test_wait_prints_events_and_exits_by_result(sent, monkeypatch):
    inventory()
    revision()

    def finish_at_once(run):  # stands in for the worker
        from runs import lifecycle
        from runs.event_store import record_event

        record_event(run, "step_finished", {"status": "failed", "name": "x"}, "local/demo-1", "1")
        lifecycle.finish(run, "failed", data={"totals": {"failed": 1}}, close_open=False)

    monkeypatch.setattr("runs.services.send_run", finish_at_once)
    out = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("atp_run", "launch", "demo", "--vm", "demo-1", "--wait", stdout=out)
    assert exit_info.value.code == 1
    text = out.getvalue()
    assert "step_finished" in text and "failed x" in text and text.rstrip().endswith("failed")
