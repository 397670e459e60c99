"""Trends: cancelled runs are not failures (they leave the pass rate alone), and a step that
fails only under some variable values is not called flaky (it both passed and failed with the
same values only then)."""

import pytest

from runs.models import Run
from tests.fixtures.web import make_user
from tests.web import run_pages_data as data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_cancelled_runs_do_not_lower_the_pass_rate(client):
    user = make_user("vera", "viewer")
    client.force_login(user)
    sc, rev = data.scenario("demo")
    data.play(data.new_run(sc, rev, user))
    cancelled = data.new_run(sc, rev, user)
    data.play(cancelled)
    Run.objects.filter(pk=cancelled.pk).update(result="cancelled")
    trends = client.get("/runs/trends?days=7").context
    row = trends["per_scenario"][0]
    assert (row["passed"], row["total"], row["rate"]) == (1, 1, 1.0)
    day = client.get("/").context["trend"][-1]
    assert (day["passed"], day["total"]) == (1, 1)


def test_failing_only_under_some_variables_is_not_flaky(client):
    user = make_user("vera", "viewer")
    client.force_login(user)
    sc, rev = data.scenario("demo")
    for lang, statuses in (("en", ("passed",) * 3), ("de", ("failed", "passed", "passed"))) * 2:
        data.play(data.new_run(sc, rev, user, variables={"lang": lang}), statuses)
    assert client.get("/runs/trends?days=7").context["flaky"] == []

    data.play(data.new_run(sc, rev, user, variables={"lang": "en"}), ("failed", "passed", "passed"))
    flaky = client.get("/runs/trends?days=7").context["flaky"]
    assert [(f["step_id"], f["passed"], f["failed"]) for f in flaky] == [("1", 2, 1)]
