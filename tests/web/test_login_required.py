"""Every page sends an anonymous visitor to the login page; the health check stays open."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/hosts/", "/admin/"])
def test_anonymous_visitor_is_sent_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_health_check_needs_no_login(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_login_with_valid_credentials_opens_hosts_page(client, admin_user):
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": "pw-for-tests-123"}, follow=True
    )
    assert response.status_code == 200
    assert response.wsgi_request.user.username == "alice"


def test_the_admin_login_sends_an_anonymous_visitor_to_the_site_login(client):
    """Django's LoginRequiredMiddleware leaves the admin's own login form open; it would get
    around the throttled site login, so the visitor is sent there first."""
    response = client.get("/admin/login/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/login/"


def test_an_unknown_address_is_a_404_page_offering_the_login(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Nothing is at <code>/no/such/page/</code>" in html
    assert '<a href="/accounts/login/">Log in</a>' in html and 'class="mainnav"' not in html


def test_the_api_answers_401_itself_instead_of_a_redirect(client):
    response = client.get("/api/runs/")
    assert response.status_code == 401 and "Location" not in response
