"""Compare shows the variables that differ between the two runs and the diff of the scenario
text they ran (coloured like a revision's diff)."""

import hashlib

import pytest

from scenarios.models import ScenarioRevision
from tests.fixtures.web import make_user
from tests.web import run_pages_data as data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_compare_shows_differing_variables_and_the_revision_diff(client):
    user = make_user("vera", "viewer")
    client.force_login(user)
    sc, rev1 = data.scenario("demo")
    text = rev1.content.replace("text: hello", "text: hello world")
    rev2 = ScenarioRevision.objects.create(
        scenario=sc,
        number=2,
        content=text,
        content_sha256=hashlib.sha256(text.encode()).hexdigest(),
    )
    a = data.new_run(sc, rev1, user, variables={"lang": "en", "user": "bob", "same": "1"})
    b = data.new_run(sc, rev2, user, variables={"lang": "de", "same": "1", "extra": "x"})
    for run in (a, b):
        data.play(run)

    html = client.get(f"/runs/compare?a={a.pk}&b={b.pk}").content.decode()
    section = html.split('id="compare-variables"')[1].split("</section>")[0]
    rows = {r.split('"')[0]: r for r in section.split('data-variable="')[1:]}
    assert set(rows) == {"extra", "lang", "user"}, "only the variables that differ"
    assert "<code>en</code>" in rows["lang"] and "<code>de</code>" in rows["lang"]
    assert "not set" in rows["user"] and "not set" in rows["extra"]
    diff = html.split('id="compare-revision"')[1].split("</section>")[0]
    assert '<span class="d-del">-    text: hello</span>' in diff
    assert '<span class="d-add">+    text: hello world</span>' in diff
    assert "scenarios/editor.css" in html, "the diff colours are loaded"

    same = client.get(f"/runs/compare?a={a.pk}&b={a.pk}").content.decode()
    assert "Both runs had the same variables." in same
    assert "Both runs ran the same text (revision 1)." in same
