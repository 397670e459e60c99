"""Retries are a launch option (``Run.max_attempts``), not a scenario variable: a rerun and the
reaper's next attempt carry them as the option, and the variables stay the scenario's."""

import pytest

from runs.reaper import requeue_attempt
from runs.services import launch_run, rerun
from tests.web.runs_core_data import inventory, revision

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def rev(monkeypatch):
    monkeypatch.setattr("runs.services.send_run", lambda run: None)
    inventory()
    return revision()


def test_retries_travel_as_the_launch_option(rev):
    run = launch_run(rev, [{"vm": "demo-1", "host": "local"}], {"who": "ops"}, None, retries=2)
    assert run.max_attempts == 3 and run.variables == {"who": "ops"}
    again = rerun(run, None)
    assert again.max_attempts == 3 and again.variables == {"who": "ops"}
    nxt = requeue_attempt(run)
    assert (nxt.attempt, nxt.max_attempts) == (2, 3) and nxt.variables == {"who": "ops"}


def test_the_option_wins_over_a_typed_run_retries_variable(rev):
    run = launch_run(rev, [{"vm": "demo-1", "host": "local"}], {"run_retries": 5}, None, retries=1)
    assert run.max_attempts == 2 and "run_retries" not in run.variables
