"""404 and 403 pages use the site's layout and say what was not found or not allowed; the API
answers 401 with WWW-Authenticate when no credentials are sent; the site has a favicon."""

import pytest

from tests.fixtures.web import make_user

pytestmark = pytest.mark.django_db


def test_404_uses_the_layout_and_names_the_missing_thing(client):
    client.force_login(make_user("vera", "viewer"))
    response = client.get("/runs/987654/")
    assert response.status_code == 404
    html = response.content.decode()
    assert 'class="topbar"' in html and 'class="mainnav"' in html, "the site's layout"
    assert "<h1>Not found</h1>" in html
    assert "/runs/987654/" in html and "no run 987654" in html

    unknown = client.get("/no/such/page/")
    assert unknown.status_code == 404
    text = unknown.content.decode()
    assert "Nothing is at <code>/no/such/page/</code>" in text and "Resolver404" not in text


def test_403_uses_the_layout_and_says_what_is_not_allowed(client):
    client.force_login(make_user("vera", "viewer"))
    response = client.get("/hosts/add")
    assert response.status_code == 403
    html = response.content.decode()
    assert 'class="topbar"' in html
    assert "<h1>Not allowed</h1>" in html
    assert "/hosts/add" in html and "this needs the admin role" in html
    assert "signed in as vera" in html


def test_api_without_credentials_is_401_with_www_authenticate(client):
    response = client.get("/api/scenarios/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    # a signed-in browser session still works, and a viewer's write is a 403, not a 401
    client.force_login(make_user("vera", "viewer"))
    assert client.get("/api/scenarios/").status_code == 200
    assert client.post("/api/scenarios/", {}, content_type="application/json").status_code == 403


def test_favicon(client):
    client.force_login(make_user("vera", "viewer"))
    html = client.get("/").content.decode()
    assert 'rel="icon" href="/static/atp/favicon.svg"' in html
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/atp/favicon.svg"
