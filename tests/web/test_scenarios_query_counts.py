"""Library, editor and API pages run the same number of queries with 2 or 150 scenarios."""

from __future__ import annotations

import hashlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hosts.models import Host, VirtualMachine
from scenarios.models import Scenario, ScenarioRevision
from scenarios.services import set_tags
from tests.fixtures.web import make_user

pytestmark = pytest.mark.django_db


def _grow(count: int, author) -> None:
    """Scenarios with 3 revisions each, and VMs for the run form (rows made directly)."""
    start = Scenario.objects.count()
    host, _ = Host.objects.get_or_create(name="h", uri="test:///default")
    for i in range(start, start + count):
        scenario = Scenario.objects.create(name=f"s-{i}", title=f"S {i}", created_by=author)
        set_tags(scenario, ["smoke", f"t{i % 7}"])
        for n in (1, 2, 3):
            text = f"name: s-{i}\nsteps: []\n# {n}\n"
            rev = ScenarioRevision.objects.create(
                scenario=scenario,
                number=n,
                content=text,
                content_sha256=hashlib.sha256(text.encode()).hexdigest(),
                author=author,
            )
        scenario.current_revision = rev
        scenario.save()
        VirtualMachine.objects.create(host=host, name=f"vm-{i}", tags=[f"t{i % 5}"])


def _queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "path",
    [
        "/scenarios/",
        "/scenarios/?tag=smoke",
        "/scenarios/?q=s-1",
        "/scenarios/s-0/",
        "/scenarios/s-0/revisions/2/",
        "/api/scenarios/",
        "/api/scenarios/s-0/revisions/",
        "/vms/",
        "/api/vms/",
    ],
)
def test_query_count_does_not_grow_with_data(client, path):
    user = make_user("olga", "operator")
    client.force_login(user)
    _grow(2, user)
    few = _queries(client, path)
    _grow(148, user)
    many = _queries(client, path)
    assert many == few, f"{path}: {few} queries with 2 scenarios, {many} with 150"
