"""The migration to the Tag table keeps the JSON tags stored before it: every scenario's and
reference image's list becomes its tag rows (cleaned as every tag is), one row per tag name;
migrating back gives the lists again."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from scenarios.models import ReferenceImage, Scenario, Tag
from scenarios.selectors import scenario_list

BEFORE = [("scenarios", "0004_revision_drop_runnable_issues")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _leaves():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_json_tags_survive_the_move_to_the_tag_table():
    old = _migrate(BEFORE)
    OldScenario = old.get_model("scenarios", "Scenario")
    OldReference = old.get_model("scenarios", "ReferenceImage")
    OldScenario.objects.create(name="login", tags=["smoke", " win10 ", "smoke", ""])
    OldScenario.objects.create(name="notepad", tags=["win10"])
    OldScenario.objects.create(name="bare", tags=[])
    OldScenario.objects.create(name="odd", tags="vdi, pool")  # text stored by hand once
    OldReference.objects.create(name="boot", tags=["boot", "smoke"], image="references/b.png")

    _migrate(_leaves())

    tags = {s.name: s.tags for s in Scenario.objects.prefetch_related("tagged_with")}
    assert tags == {
        "login": ["smoke", "win10"],
        "notepad": ["win10"],
        "bare": [],
        "odd": ["pool", "vdi"],
    }
    assert ReferenceImage.objects.get(name="boot").tags == ["boot", "smoke"]
    assert sorted(Tag.objects.values_list("name", flat=True)) == [
        "boot",
        "pool",
        "smoke",
        "vdi",
        "win10",
    ]  # one row per name, shared by scenarios and references
    assert [s.name for s in scenario_list({"tag": ["win10", "smoke"]})] == ["login"]

    back = _migrate(BEFORE)
    lists = dict(back.get_model("scenarios", "Scenario").objects.values_list("name", "tags"))
    assert lists == {
        "login": ["smoke", "win10"],
        "notepad": ["win10"],
        "bare": [],
        "odd": ["pool", "vdi"],
    }
    reference = back.get_model("scenarios", "ReferenceImage").objects.get(name="boot")
    assert reference.tags == ["boot", "smoke"]
    _migrate(_leaves())
