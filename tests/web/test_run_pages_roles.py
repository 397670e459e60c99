"""A viewer sees every run page but cannot cancel or re-run; an operator can do both."""

from __future__ import annotations

import pytest

from runs.models import Run
from tests.fixtures.web import make_user
from tests.web import run_pages_data as data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def runs():
    sc, rev = data.scenario("demo")
    done = data.new_run(sc, rev)
    data.play(done)
    active = data.new_run(sc, rev)
    data.play(active, upto="step2")
    return done, active


def test_viewer_reads_but_cannot_cancel_or_rerun(client, runs):
    done, active = runs
    client.force_login(make_user("vera", "viewer"))
    for path in (
        "/",
        "/runs/",
        f"/runs/{active.pk}/",
        f"/runs/{done.pk}/",
        "/runs/trends",
        "/runs/trends/metrics",
        f"/runs/compare?a={done.pk}&b={active.pk}",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        assert "cancel-form" not in html and "rerun-form" not in html, path
        assert "use as reference" not in html, path

    assert client.post(f"/runs/{active.pk}/cancel").status_code == 403
    assert client.post(f"/runs/{done.pk}/rerun").status_code == 403
    assert Run.objects.get(pk=active.pk).cancel_requested is False
    assert Run.objects.count() == 2


def test_operator_cancels_and_reruns(client, runs):
    done, active = runs
    client.force_login(make_user("olga", "operator"))
    live = client.get(f"/runs/{active.pk}/").content.decode()
    assert 'id="cancel-form"' in live
    report = client.get(f"/runs/{done.pk}/").content.decode()
    assert 'id="rerun-form"' in report

    response = client.post(f"/runs/{active.pk}/cancel", HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 200 and response.json() == {"ok": True}
    active.refresh_from_db()
    assert active.cancel_requested is True
    assert active.events.filter(type="cancel_requested", payload__by="olga").exists()
    # a finished run cannot be cancelled: said, not crashed
    assert client.post(f"/runs/{done.pk}/cancel", HTTP_X_REQUESTED_WITH="fetch").status_code == 409

    response = client.post(f"/runs/{done.pk}/rerun")
    new = Run.objects.exclude(pk__in=[done.pk, active.pk]).get()
    assert response.status_code == 302 and response["Location"] == f"/runs/{new.pk}/"
    assert new.rerun_of_id == done.pk and new.revision_id == done.revision_id
