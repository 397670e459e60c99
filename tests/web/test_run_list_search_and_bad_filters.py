"""The runs list has a search box (``q``); a bad filter value is shown (named in an error,
kept in its field) and only that filter is left out, never all of them silently."""

import pytest

from tests.fixtures.web import make_user
from tests.web import run_pages_data as data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_search_box_and_bad_filter_values(client):
    user = make_user("vera", "viewer")
    client.force_login(user)
    sc, rev = data.scenario("login-smoke")
    other, other_rev = data.scenario("printing")
    a = data.new_run(sc, rev, user)
    data.play(a)
    b = data.new_run(other, other_rev, user)
    data.play(b, ("passed", "failed", "passed"))

    page = client.get("/runs/")
    assert 'type="search" name="q"' in page.content.decode()
    found = client.get("/runs/?q=login")
    assert {r.pk for r in found.context["page"].object_list} == {a.pk}
    assert 'name="q" value="login"' in found.content.decode()

    bad = client.get("/runs/?result=nope&scenario=printing&date=tomorrow")
    assert bad.status_code == 400
    html = bad.content.decode()
    errors = html.split('id="filter-errors"')[1].split("</ul>")[0]
    assert "result: &#x27;nope&#x27; is not one of" in errors
    assert "date: &#x27;tomorrow&#x27; is not a date" in errors
    assert "not applied" in errors
    assert '<option selected value="nope">nope (invalid)</option>' in html
    # the good filter still applies: only the printing run, not every run
    assert {r.pk for r in bad.context["page"].object_list} == {b.pk}
