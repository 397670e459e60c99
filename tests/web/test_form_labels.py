"""Form labels are words (URL, URI, Verify TLS), and "leave empty to keep" appears only where
there is something to keep (edit forms, not add forms)."""

import pytest

from hosts.models import VdiEndpoint
from tests.fixtures.web import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(client):
    client.force_login(make_user("alice", "admin"))
    return client


def test_vdi_endpoint_form_labels_and_password_hint(admin):
    add = admin.get("/vdi/add").content.decode()
    assert "URL <input" in add and "Verify TLS <input" in add
    assert "Url <" not in add and "Verify tls" not in add
    assert "leave empty to keep" not in add
    endpoint = VdiEndpoint.objects.create(name="lab", url="https://vdi.example:8443", username="u")
    edit = admin.get(f"/vdi/{endpoint.pk}/edit").content.decode()
    assert "leave empty to keep the current one" in edit


def test_host_and_notification_form_labels(admin):
    host = admin.get("/hosts/add").content.decode()
    assert "URI <input" in host and "Uri <" not in host
    hook = admin.get("/schedules/hooks/add").content.decode()
    assert "Webhook URL <input" in hook and "Url <" not in hook
