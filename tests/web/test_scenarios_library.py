"""The library lists scenarios with tags, filters by tag and by text, hides archived ones."""

from __future__ import annotations

import pytest

from scenarios.models import Scenario
from scenarios.services import set_tags
from tests.fixtures.web import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(client):
    client.force_login(make_user("vera", "viewer"))
    rows = [
        ({"name": "login-win10", "description": "log in"}, ["win10", "smoke"]),
        ({"name": "notepad", "description": "type in notepad"}, ["win10"]),
        ({"name": "pool-create", "description": "desk pool"}, ["vdi"]),
        ({"name": "old", "archived": True}, ["smoke"]),
    ]
    for fields, tags in rows:
        set_tags(Scenario.objects.create(**fields), tags)
    return client


def _names(response) -> list[str]:
    return [s.name for s in response.context["scenarios"]]


def test_tag_filter_matches_whole_tags(library):
    assert _names(library.get("/scenarios/?tag=win10")) == ["login-win10", "notepad"]
    assert _names(library.get("/scenarios/?tag=win")) == []
    assert _names(library.get("/scenarios/?tag=smoke")) == ["login-win10"]


def test_search_over_name_description_tags(library):
    assert _names(library.get("/scenarios/?q=notepad")) == ["notepad"]
    assert _names(library.get("/scenarios/?q=desk")) == ["pool-create"]
    assert _names(library.get("/scenarios/?q=vdi")) == ["pool-create"]


def test_tag_cloud_counts_and_archived_hidden(library):
    response = library.get("/scenarios/")
    assert dict(response.context["tags"]) == {"win10": 2, "smoke": 1, "vdi": 1}
    assert "old" not in _names(response)
    api = library.get("/api/scenarios/?archived=1").json()
    assert "old" in [s["name"] for s in api["results"]]
