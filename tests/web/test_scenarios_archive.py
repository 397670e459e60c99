"""Archiving: the button asks first, an archived scenario leaves the library but "Show
archived" lists it (marked), its page carries a banner, and restoring brings it back."""

import pytest

from scenarios.models import Scenario
from tests.fixtures.web import make_user
from tests.web import run_pages_data as data

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):
    client.force_login(make_user("olga", "operator"))
    return client


def _names(response) -> list[str]:
    return [s.name for s in response.context["scenarios"]]


def test_archive_confirm_show_archived_banner_restore(operator):
    data.scenario("keep")
    data.scenario("old")
    page = operator.get("/scenarios/old/").content.decode()
    form = page.split('action="/scenarios/old/archive"')[1].split(">")[0]
    assert 'data-confirm="Archive old?' in form
    assert 'id="archived-banner"' not in page

    response = operator.post("/scenarios/old/archive")
    assert response.status_code == 302 and response["Location"] == "/scenarios/"
    assert Scenario.objects.get(name="old").archived

    library = operator.get("/scenarios/")
    assert _names(library) == ["keep"]
    assert "Show archived (1)" in library.content.decode()
    shown = operator.get("/scenarios/?archived=1")
    assert _names(shown) == ["keep", "old"]
    row = shown.content.decode().split('data-scenario="old"')[1].split("</tr>")[0]
    assert 'class="badge badge-archived">archived<' in row

    archived_page = operator.get("/scenarios/old/").content.decode()
    assert 'id="archived-banner"' in archived_page and "Archived:" in archived_page
    restore = archived_page.split('action="/scenarios/old/archive"')[1].split("</form>")[0]
    assert "data-confirm" not in restore.split(">")[0] and "Restore" in restore

    response = operator.post("/scenarios/old/archive")
    assert response["Location"] == "/scenarios/old/"
    assert _names(operator.get("/scenarios/")) == ["keep", "old"]
