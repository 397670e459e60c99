"""Logon phases on the report: a stacked bar per target (own SVG, one rect per phase, titled
with its seconds) and median / p95 per phase for the run; the JSON report carries them."""

import json

import pytest

from runs.models import Run
from tests.fixtures.web import make_user
from tests.web import run_pages_data as data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_logon_bar_and_phase_table(client):
    user = make_user("lena", "operator")
    client.force_login(user)
    sc, rev = data.scenario("logon")
    run = data.new_run(sc, rev, user)
    target = run.run_targets.get().name
    data.play(run, upto="step2")
    phases = {"logon.login_screen": 0.5, "logon.credentials": 1.7, "logon.desktop": 6.25}
    phases |= {"logon.app": 1.05, "logon.total": 9.5}
    data.emit(
        run,
        "step_finished",
        {
            "name": "log on",
            "type": "logon",
            "status": "passed",
            "duration": 9.6,
            "error": "",
            "output": "",
            "iteration": None,
            "metrics": phases,
        },  # fmt: skip
        target,
        "2",
    )
    data.emit(run, "run_finished", {"result": "passed", "duration": 10.0, "totals": {}})
    Run.objects.filter(pk=run.pk).update(state="finished", result="passed")

    html = client.get(f"/runs/{run.pk}/report").content.decode()
    section = html.split('id="logon-summary"')[1].split("</section>")[0]
    bar = section.split('<svg class="logon-bar"')[1].split("</svg>")[0]
    assert bar.count("<rect") == 4
    assert "<title>desktop: 6.25 s</title>" in bar and "9.5 s</text>" in bar
    # the longest logon of the run fills the 600 px width
    desktop = bar.split('class="logon-desktop"')[1].split(">")[0]
    assert 'width="394.7"' in desktop, desktop
    assert '<tr data-phase="desktop"><td>desktop</td><td>1</td><td>6.25 s</td><td>6.25 s</td>' in (
        section
    )
    assert '<tr data-phase="total">' in section
    report = json.loads(client.get(f"/runs/{run.pk}/report.json").content)
    assert report["logon"]["credentials"] == {"count": 1, "median": 1.7, "p95": 1.7}
    assert report["targets"][0]["logon"]["total"]["median"] == 9.5
