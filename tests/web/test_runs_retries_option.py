"""Retries are a launch option (``Run.max_attempts``), not a scenario variable: a rerun and the
reaper's next attempt carry them as the option, the variables stay the scenario's, and a
``run_retries`` typed among the variables (the old way) is refused with a message naming the
option, from the services and from ``manage.py atp_run``."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from atp_core.errors import InvalidInput
from runs.models import Run
from runs.reaper import requeue_attempt
from runs.services import launch_run, rerun
from tests.web.runs_core_data import inventory, revision

pytestmark = pytest.mark.django_db(transaction=True)

TARGET = [{"vm": "demo-1", "host": "local"}]


@pytest.fixture
def rev(monkeypatch):
    monkeypatch.setattr("runs.services.send_run", lambda run: None)
    inventory()
    return revision()


def test_retries_travel_as_the_launch_option(rev):
    run = launch_run(rev, TARGET, {"who": "ops"}, None, retries=2)
    assert run.max_attempts == 3 and run.variables == {"who": "ops"}
    again = rerun(run, None)
    assert again.max_attempts == 3 and again.variables == {"who": "ops"}
    nxt = requeue_attempt(run)
    assert (nxt.attempt, nxt.max_attempts) == (2, 3) and nxt.variables == {"who": "ops"}
    assert launch_run(rev, TARGET, {}, None).max_attempts == 1  # none given: no new attempt


def test_a_run_retries_variable_is_refused_naming_the_option(rev):
    refused = r"run_retries is no longer a variable.*retries \(0-10\)"
    with pytest.raises(InvalidInput, match=refused):
        launch_run(rev, TARGET, {"run_retries": 2}, None)
    with pytest.raises(CommandError, match="--retries of atp_run"):
        call_command("atp_run", "launch", "demo", "--vm", "demo-1", "--host", "local",
                     "--var", "run_retries=2", stdout=StringIO())  # fmt: skip
    assert not Run.objects.exists()


@pytest.mark.parametrize("bad", [-1, 11, "two", True, 1.5])
def test_retries_outside_0_to_10_are_refused(rev, bad):
    with pytest.raises(InvalidInput, match=r"^retries: .*(0-10|0 to 10)"):
        launch_run(rev, TARGET, {}, None, retries=bad)
    assert not Run.objects.exists()


def test_the_command_line_takes_retries(rev):
    out = StringIO()
    call_command("atp_run", "launch", "demo", "--vm", "demo-1", "--host", "local",
                 "--retries", "3", stdout=out)  # fmt: skip
    assert Run.objects.get().max_attempts == 4 and "queued" in out.getvalue()
    with pytest.raises(CommandError, match=r"retries: 11 is out of range \(0-10\)"):
        call_command("atp_run", "launch", "demo", "--vm", "demo-1", "--host", "local",
                     "--retries", "11", stdout=StringIO())  # fmt: skip
