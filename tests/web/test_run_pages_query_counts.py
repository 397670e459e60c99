"""Run pages run the same number of queries with a few runs and with 500 runs more."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from runs.models import Run
from tests.fixtures.web import make_user
from tests.web import run_pages_data as data

pytestmark = pytest.mark.django_db

PAGES = [
    "/",
    "/runs/",
    "/runs/?result=failed",
    "/runs/?scenario=demo&state=finished&host=local&page=2",
    "/runs/trends",
    "/runs/matrix",
    "/runs/matrix?by=host",
    "/runs/trends/metrics",
    "/runs/trends/metrics?scenario=demo&host=local&days=60",
    "/runs/{first}/",
    "/runs/{first}/report",
    "/runs/{first}/report.json",
    "/runs/{first}/junit.xml",
    "/runs/{first}/events?after=0",
    "/runs/compare?a={first}&b={last}",
]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(ctx.captured_queries)


def _counts(client) -> dict[str, int]:
    first = Run.objects.order_by("id").first().pk
    last = Run.objects.order_by("id").last().pk
    return {p: _queries(client, p.format(first=first, last=last)) for p in PAGES}


def test_query_counts_do_not_grow_with_runs(client):
    user = make_user("vera", "viewer")
    client.force_login(user)
    sc, rev = data.scenario("demo")
    # one passing and one failing run: the trends page has a flaky step to show either way
    data.play(data.new_run(sc, rev, user))
    data.play(data.new_run(sc, rev, user), ("passed", "failed", "passed"))
    active = data.new_run(sc, rev, user)
    data.play(active, upto="step2")
    small = _counts(client)

    data.bulk_runs(500, sc, rev, user)
    for _ in range(3):  # more running runs on the dashboard too
        data.play(data.new_run(sc, rev, user), upto="step2")
    large = _counts(client)
    assert Run.objects.count() >= 505
    assert large == small, {p: (small[p], large[p]) for p in PAGES if small[p] != large[p]}
