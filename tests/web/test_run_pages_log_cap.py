"""The live view and the report render the last ATP_REPORT_STEP_LOG_LINES log lines of a step
and link the rest (every event, as JSON) (issue 11 item 11)."""

import re

import pytest

from tests.fixtures.web import make_user
from tests.web import run_pages_data as data

pytestmark = pytest.mark.django_db


def test_a_chatty_step_shows_its_last_lines_and_links_the_json(client, settings):
    settings.ATP_REPORT_STEP_LOG_LINES = 10
    user = make_user("vera", "viewer")
    client.force_login(user)
    sc, rev = data.scenario("chatty")
    run = data.new_run(sc, rev, user)
    data.play(run, upto="started")  # step 1 running with one log line
    target = run.run_targets.first().name
    for i in range(30):
        data.emit(run, "step_log", {"level": "info", "message": f"line {i:02d}"}, target, "1")
    for page in (f"/runs/{run.pk}/", f"/runs/{run.pk}/report"):
        html = client.get(page).content.decode()
        step = html.split('data-step="1"')[1].split('class="sshots"')[0]
        lines = re.findall(r'data-seq="\d+">([^<]*)<', step)
        assert lines == [f"[info] line {i:02d}" for i in range(20, 30)], page
        assert "21 earlier lines not shown" in step
        assert f'href="/runs/{run.pk}/events?after=0"' in step
    events = client.get(f"/runs/{run.pk}/events?after=0").json()["events"]
    texts = [e.get("data", e.get("payload", {})).get("message") for e in events]
    assert "line 00" in texts and "agent answered" in texts
