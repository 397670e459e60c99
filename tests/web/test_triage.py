"""Triage across runs: notes (comment, bug reference, label) on a failed run and its failed
steps, with clear refusals; a bug reference carries over to the next run of the scenario that
fails the same step the same way (not to one that fails differently); the report shows notes,
labels and "carried over from run N"; search finds runs, step errors and notes."""

from __future__ import annotations

import pytest

from atp_core.errors import InvalidInput
from runs.models import Run, StepResult
from tests.fixtures.web import make_user
from tests.web.run_pages_data import new_run, play, scenario
from triage.models import Note
from triage.selectors import carried_over, search
from triage.services import add_note

pytestmark = pytest.mark.django_db


def _failed_run(user, error="text not seen"):
    sc, rev = scenario("triaged", user)
    run = new_run(sc, rev, user)
    play(run, statuses=("passed", "failed", "passed"))
    if error != "text not seen":
        StepResult.objects.filter(run=run, step_id="2").update(error=error)
    return Run.objects.get(pk=run.pk)


def test_notes_on_a_failed_step_and_on_the_run(client):
    user = make_user("olga", "operator")
    run = _failed_run(user)
    client.force_login(user)
    response = client.post(
        f"/runs/{run.pk}/notes",
        {"step": "local/demo-1|2", "bug_ref": "ATP-42", "label": "product_bug", "comment": "typo"},
    )
    assert response.status_code == 302
    client.post(f"/runs/{run.pk}/notes", {"label": "infrastructure", "comment": "host slow"})
    notes = list(Note.objects.filter(run=run).values_list("step_id", "bug_ref", "label"))
    assert notes == [("2", "ATP-42", "product_bug"), ("", "", "infrastructure")]
    html = client.get(f"/runs/{run.pk}/").content.decode()
    section = html[html.index('id="triage"') :]
    assert "ATP-42" in section and "product bug" in section and "host slow" in section


@pytest.mark.parametrize(
    "fields, message",
    [
        ({}, "give a comment, a bug reference or a label"),
        ({"bug_ref": "see jira"}, "give a URL (https://…) or an issue key like PROJ-123"),
        ({"label": "cosmic_rays"}, "allowed: product_bug, test_bug, infrastructure"),
        ({"step": "local/demo-1|1", "comment": "x"}, "step 1 of local/demo-1 did not fail"),
    ],
)
def test_bad_notes_are_refused_saying_why(fields, message):
    run = _failed_run(make_user("olga", "operator"))
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        add_note(run, None, **fields)


def test_a_viewer_cannot_add_notes(client):
    run = _failed_run(make_user("olga", "operator"))
    client.force_login(make_user("vera", "viewer"))
    assert client.post(f"/runs/{run.pk}/notes", {"comment": "x"}).status_code == 403
    assert not Note.objects.exists()


def test_a_bug_reference_carries_over_to_the_same_failure_only(client):
    user = make_user("olga", "operator")
    first = _failed_run(user, error="screen did not match 'login' (score 0.412 < 0.96)")
    add_note(
        first, user, step="local/demo-1|2", bug_ref="https://bugs.example/ATP-7", label="test_bug"
    )
    same = _failed_run(user, error="screen did not match 'login' (score 0.388 < 0.96)")
    other = _failed_run(user, error="the guest agent did not answer")

    (carried,) = carried_over(same)
    assert carried["bug_ref"] == "https://bugs.example/ATP-7" and carried["from_run"] == first
    assert carried["step"].step_id == "2" and carried["label"] == "test_bug"
    assert carried_over(other) == []
    client.force_login(user)
    html = client.get(f"/runs/{same.pk}/").content.decode()
    assert f'carried over from <a href="/runs/{first.pk}/">run {first.pk}</a>' in html
    add_note(same, user, step="local/demo-1|2", bug_ref="ATP-8")
    assert carried_over(same) == []  # its own reference wins


def test_search_finds_runs_step_errors_and_notes(client):
    user = make_user("olga", "operator")
    run = _failed_run(user, error="the keylogger xyzzy-banner did not show")
    add_note(run, user, comment="flaky plugh-cable in rack 3")
    assert [s.run_id for s in search("XYZZY")["steps"]] == [run.pk]
    assert [n.run_id for n in search("plugh")["notes"]] == [run.pk]
    assert run in search("triaged")["runs"]
    client.force_login(make_user("vera", "viewer"))
    html = client.get("/search", {"q": "xyzzy"}).content.decode()
    assert f"run {run.pk} · triaged" in html and "xyzzy-banner" in html
    assert client.get("/search").status_code == 200
