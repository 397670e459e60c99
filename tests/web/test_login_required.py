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
