"""The runs list (selector and API) and the run detail cost the same number of queries with
1 run and with 60 runs of 2 targets each, and with 3 or 40 steps."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from runs.models import Run, RunTarget, StepResult
from runs.selectors import events_since, run_detail, run_list
from tests.fixtures.web import make_user
from tests.web.runs_core_data import inventory, revision

pytestmark = pytest.mark.django_db


def _runs(count: int, steps: int = 3) -> list[Run]:
    host, vms = inventory()
    rev = revision()
    user = make_user(f"u{Run.objects.count()}", "operator")
    made = []
    for _ in range(count):
        run = Run.objects.create(
            scenario=rev.scenario, revision=rev, source=rev.content, name="demo", launched_by=user
        )
        for i, vm in enumerate(vms[:2]):
            target = RunTarget.objects.create(
                run=run, name=f"local/{vm.name}", host=host, vm=vm, vm_name=vm.name, ordinal=i
            )
            StepResult.objects.bulk_create(
                StepResult(run=run, target=target, step_id=str(n), ordinal=n, status="passed")
                for n in range(steps)
            )
        made.append(run)
    return made


def _count(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def _list_page():
    for run in run_list({"host": "local", "state": "queued"})[:50]:
        _ = (
            run.scenario.name,
            run.launched_by.username,
            [t.host.name for t in run.run_targets.all()],
        )


def test_list_is_constant():
    _runs(1)
    one = _count(_list_page)
    _runs(59)
    assert _count(_list_page) == one <= 3


def test_api_list_is_constant(client):
    token = Token.objects.create(user=make_user("vera", "viewer"))
    auth = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    _runs(1)
    one = _count(lambda: client.get("/api/runs/", **auth))
    _runs(59)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/api/runs/", **auth)
    assert len(response.json()["results"]) == 50
    assert len(ctx.captured_queries) == one


def test_detail_is_constant():
    (small,) = _runs(1, steps=3)
    (big,) = _runs(1, steps=40)

    def walk(run_id):
        def go():
            run = run_detail(run_id)
            for target in run.run_targets.all():
                _ = [s.status for s in target.steps.all()] + list(target.artifacts.all())
            _ = (run.scenario.name, run.revision.number, run.all_artifacts)

        return go

    assert _count(walk(small.pk)) == _count(walk(big.pk)) <= 6
    assert _count(lambda: events_since(big, 0)) == 1
