"""The migration that gives schedules their retries field moves a ``run_retries`` entry out of
a schedule's variables into it (a number or digits from 0 to 10); another value stays in the
variables, where the launch keeps refusing it by name; migrating back puts the entry back."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from scenarios.models import Scenario
from schedules.models import Schedule

BEFORE = [("schedules", "0003_schedule_build")]
AFTER = [("schedules", "0004_schedule_retries")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _leaves():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_run_retries_moves_from_the_variables_into_the_field():
    scenario = Scenario.objects.create(name="smoke")
    old = _migrate(BEFORE)
    OldSchedule = old.get_model("schedules", "Schedule")
    rows = {
        "typed": {"greeting": "hi", "run_retries": "2"},  # the form stored text
        "api": {"run_retries": 3},
        "none": {"greeting": "hi"},
        "bad": {"run_retries": "lots"},
        "high": {"run_retries": 50},
    }
    for name, variables in rows.items():
        OldSchedule.objects.create(
            name=name, scenario_id=scenario.pk, variables=variables, every_seconds=60
        )

    _migrate(AFTER)
    moved = {s.name: (s.retries, s.variables) for s in Schedule.objects.all()}
    assert moved == {
        "typed": (2, {"greeting": "hi"}),
        "api": (3, {}),
        "none": (0, {"greeting": "hi"}),
        "bad": (0, {"run_retries": "lots"}),
        "high": (0, {"run_retries": 50}),
    }

    back = _migrate(BEFORE)
    rows = back.get_model("schedules", "Schedule").objects.values_list("name", "variables")
    restored = dict(rows)
    assert restored["typed"] == {"greeting": "hi", "run_retries": 2}
    assert restored["api"] == {"run_retries": 3} and restored["none"] == {"greeting": "hi"}
    assert restored["bad"] == {"run_retries": "lots"}
    _migrate(_leaves())
