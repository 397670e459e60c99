"""The trends page splits the window's failed runs by failure label (product bug, test bug,
infrastructure, not labelled): each run once, under its newest labelled note; passed and
cancelled runs and runs before the window are not counted; the split costs the same queries
whatever the number of runs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from runs.models import Run
from tests.fixtures.web import make_user
from tests.web import run_pages_data as data
from triage.selectors import failures_by_label
from triage.services import add_note

pytestmark = pytest.mark.django_db


def labelled_failures(user):
    """login: 3 failed runs (one relabelled product bug → test bug, one infrastructure, one not
    labelled), 1 passed with a label; desktop: 1 error labelled product bug, 1 cancelled, 1
    failed before the window."""
    login, login_rev = data.scenario("login", user)
    desk, desk_rev = data.scenario("desktop", user)

    def failed(sc, rev, result="failed"):
        run = data.new_run(sc, rev, user)
        data.play(run, statuses=("passed", "failed", "passed"))
        if result != "failed":
            Run.objects.filter(pk=run.pk).update(result=result)
            run.refresh_from_db()
        return run

    relabelled = failed(login, login_rev)
    add_note(relabelled, user, step="local/demo-1|2", label="product_bug")
    add_note(relabelled, user, label="test_bug", comment="the reference was stale")
    add_note(failed(login, login_rev), user, label="infrastructure")
    failed(login, login_rev)
    passed = data.new_run(login, login_rev, user)
    data.play(passed)
    add_note(passed, user, comment="fine", label="product_bug")
    add_note(failed(desk, desk_rev, "error"), user, label="product_bug")
    failed(desk, desk_rev, "cancelled")
    old = failed(desk, desk_rev)
    add_note(old, user, label="infrastructure")
    Run.objects.filter(pk=old.pk).update(finished=timezone.now() - dt.timedelta(days=40))


def test_failures_split_by_label(client):
    user = make_user("olga", "operator")
    labelled_failures(user)
    split = failures_by_label(30)
    counts = {r["name"]: (r["total"], r["counts"]) for r in split["rows"]}
    assert counts == {
        "desktop": (1, {"product_bug": 1, "test_bug": 0, "infrastructure": 0, "": 0}),
        "login": (3, {"product_bug": 0, "test_bug": 1, "infrastructure": 1, "": 1}),
    }
    assert split["totals"]["total"] == 4
    assert split["totals"]["counts"] == {
        "product_bug": 1,
        "test_bug": 1,
        "infrastructure": 1,
        "": 1,
    }
    login = next(r for r in split["rows"] if r["name"] == "login")
    assert login["parts"] == [
        {"key": "test_bug", "share": 33.3},
        {"key": "infrastructure", "share": 33.3},
        {"key": "none", "share": 33.3},
    ]
    assert failures_by_label(60)["totals"]["counts"]["infrastructure"] == 2, "a wider window"

    client.force_login(make_user("vera", "viewer"))
    html = client.get("/runs/trends").content.decode()
    card = html[html.index('id="by-label"') :]
    card = card[: card.index("</section>")]
    row = card[card.index('data-scenario="login"') :]
    row = row[: row.index("</tr>")]
    assert '<td data-label="test_bug">1</td>' in row
    assert '<td data-label="product_bug" class="hint">0</td>' in row
    assert '<td data-label="none">1</td>' in row
    assert 'href="/runs/?scenario=login"' in row
    assert "all scenarios" in card


def test_no_failures_says_so(client):
    client.force_login(make_user("vera", "viewer"))
    html = client.get("/runs/trends").content.decode()
    assert "No failed runs in this window." in html


def test_the_split_does_not_grow_with_runs():
    user = make_user("olga", "operator")
    labelled_failures(user)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            failures_by_label(30)
        return len(ctx.captured_queries)

    before = count()
    sc, rev = data.scenario("bulk", user)
    data.bulk_runs(200, sc, rev, user)
    for run in Run.objects.filter(scenario=sc, result="failed")[:10]:
        add_note(run, user, label="test_bug")
    assert count() == before == 1
