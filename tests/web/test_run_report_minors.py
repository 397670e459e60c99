"""The report and live view read what happened once and the same way: output and error printed
once, the screen-check diff large with its panels named and no "use as reference", run events
worded as live, "Updates live" and the ticking elapsed time only while the run is active."""

import pytest

from runs.models import Run
from tests.fixtures.web import make_user
from tests.web import run_pages_data as data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def operator(client):
    user = make_user("olga", "operator")
    client.force_login(user)
    client.user = user
    return client


def _step(html: str, step_id: str) -> str:
    return html.split(f'data-step="{step_id}" data-iter="-1"')[1].split("</li>")[0]


def test_output_and_error_printed_once_and_diff_shown_large(operator):
    sc, rev = data.scenario("demo")
    run = data.new_run(sc, rev, operator.user)
    target = run.run_targets.get().name
    data.play(run, upto="step2")
    data.emit(run, "step_log", {"level": "error", "message": "text not seen"}, target, "2")
    data.emit(
        run,
        "step_finished",
        {
            "name": "type hello",
            "type": "type_text",
            "status": "failed",
            "duration": 1.0,
            "error": "text not seen",
            "output": "typed 5 chars",
            "iteration": None,
        },
        target,
        "2",
    )
    diff = data.add_artifact(run, target, "2", "login-diff")
    diff.kind = "diff"
    diff.save()
    data.emit(
        run,
        "artifact",
        {"artifact_id": diff.pk, "name": "login-diff", "kind": "diff", "mime": "image/png"},
        target,
        "2",
    )
    data.emit(run, "cancel_requested", {"by": "olga"})
    data.emit(run, "run_finished", {"result": "failed", "duration": 2.0, "totals": {}})
    Run.objects.filter(pk=run.pk).update(state="finished", result="failed")

    html = operator.get(f"/runs/{run.pk}/report").content.decode()
    step = _step(html, "2")
    assert step.count("text not seen") == 1, "the error once, not again as a log line"
    assert step.count("typed 5 chars") == 1, "the output once, not again below the log"
    figure = step.split('<figure class="diff-figure"')[1].split("</figure>")[0]
    assert 'class="diff-image"' in figure
    assert "<b>reference</b> | <b>actual</b> | <b>difference</b>" in figure
    assert "magenta: excluded" in figure
    assert "use-ref" not in step, "no 'use as reference' on a diff image"
    assert "full size" in step

    live = operator.get(f"/runs/{run.pk}/?live=1").content.decode()
    assert 'id="live-note" hidden' in live, "no 'Updates live' on a finished run"
    assert "data-started-at" not in live.split('id="run-duration"')[1].split(">")[0]
    log = live.split('id="run-log"')[1].split("</ul>")[0]
    assert ">cancel requested by olga</li>" in log, "worded as live.js words it"


def test_running_run_has_ticking_times(operator):
    sc, rev = data.scenario("demo")
    run = data.new_run(sc, rev, operator.user)
    data.play(run, upto="step2")
    html = operator.get(f"/runs/{run.pk}/").content.decode()
    assert 'id="live-note"' in html and 'id="live-note" hidden' not in html
    assert "elapsed <span" in html
    assert 'data-started-at="' in html.split('id="run-duration"')[1].split(">")[0]
    assert 'data-server-now="' in html
    running = html.split('data-step="2" data-iter="-1"')[1].split(">")[0]
    assert 'data-status="running" data-started-at="' in running
