"""Trends: flaky steps look at exactly the last N finished runs of each scenario (a scenario
with fewer runs gives all of them), and a host's pass rate counts its finished targets."""

from __future__ import annotations

import pytest

from tests.fixtures.web import make_user
from tests.web import run_pages_data as data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _flaky(client, runs: int) -> list[tuple]:
    response = client.get(f"/runs/trends?days=7&runs={runs}")
    assert response.status_code == 200
    return [
        (f["run__name"], f["step_id"], f["passed"], f["failed"]) for f in response.context["flaky"]
    ]


def test_flaky_steps_come_from_the_last_runs_of_each_scenario(client):
    user = make_user("vera", "viewer")
    client.force_login(user)
    old, old_rev = data.scenario("old-failure")
    for statuses in (("passed", "failed", "passed"), ("passed",) * 3, ("passed",) * 3):
        data.play(data.new_run(old, old_rev, user), statuses)  # oldest first
    few, few_rev = data.scenario("few-runs")
    data.play(data.new_run(few, few_rev, user), ("passed",) * 3)
    data.play(data.new_run(few, few_rev, user), ("failed", "passed", "passed"))
    running = data.new_run(old, old_rev, user)
    data.play(running, upto="step2")  # not finished: never counted

    # last 2 runs: old-failure's failing run is out of the window, few-runs has only 2 runs
    assert _flaky(client, 2) == [("few-runs", "1", 1, 1)]
    # last 3 runs: the older failure counts
    assert _flaky(client, 3) == [("few-runs", "1", 1, 1), ("old-failure", "2", 2, 1)]


def test_pass_rate_per_host_counts_finished_targets(client):
    user = make_user("vera", "viewer")
    client.force_login(user)
    sc, rev = data.scenario("demo")
    data.play(data.new_run(sc, rev, user, targets=(("near", "vm-1"),)))
    data.play(
        data.new_run(sc, rev, user, targets=(("far", "vm-2"),)), ("passed", "failed", "passed")
    )
    data.play(data.new_run(sc, rev, user, targets=(("far", "vm-3"),)), upto="step2")
    response = client.get("/runs/trends?days=7")
    hosts = {h["name"]: (h["passed"], h["total"]) for h in response.context["per_host"]}
    assert hosts == {"near": (1, 1), "far": (0, 1)}
    html = response.content.decode()
    assert "1/1 passed" in html and "0/1 passed" in html
