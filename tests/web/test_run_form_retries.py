"""The scenario page's Run form has a Retries field (0-10) that becomes the run's
``max_attempts``; ``run_retries`` typed among the variable overrides, or retries out of range,
launch nothing and say what to use instead."""

from __future__ import annotations

import pytest

from runs.models import Run
from tests.fixtures.web import make_user
from tests.web.runs_core_data import inventory, revision

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client, monkeypatch):
    monkeypatch.setattr("runs.services.send_run", lambda run: None)
    _, vms = inventory()
    revision()
    client.force_login(make_user("olga", "operator"))
    client.vm = vms[0]
    return client


def _run(client, **fields):
    data = {"revision": "1", "vm": str(client.vm.pk), **fields}
    return client.post("/scenarios/demo/run", data, follow=True)


def test_the_form_offers_retries_and_the_run_gets_them(operator):
    page = operator.get("/scenarios/demo/").content.decode()
    assert 'name="retries" id="run-retries" value="0" min="0" max="10"' in page
    answer = _run(operator, retries="2", variables="who=form")
    run = Run.objects.get()
    assert answer.redirect_chain[-1][0] == run.get_absolute_url()
    assert run.max_attempts == 3 and run.variables == {"who": "form"}
    _run(operator)  # an older page without the field: no new attempt
    assert Run.objects.latest("pk").max_attempts == 1


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"variables": "run_retries=2"}, "run_retries is no longer a variable"),
        ({"retries": "11"}, "retries: 11 is out of range (0-10)"),
        ({"retries": "two"}, "retries: expected a whole number from 0 to 10, got &#x27;two&#x27;"),
    ],
)
def test_bad_retries_launch_nothing_and_say_why(operator, fields, message):
    page = _run(operator, **fields).content.decode()
    assert "Not launched: " in page and message in page
    if "variables" in fields:
        assert "the Retries field of the form" in page
    assert not Run.objects.exists()
