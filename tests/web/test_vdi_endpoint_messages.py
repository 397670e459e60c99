"""VDI endpoint pages against the real simulator: a vendor error is shown with its
plain-language reading; saving the edit form tests the login again (a fixed password clears
"down" at once); the VM table's empty state agrees with "last synced"."""

import pytest
from django.utils import timezone

from hosts import vdi
from tests.fixtures.web import make_user

pytestmark = pytest.mark.django_db


def _edit_form(endpoint, password=""):
    return {
        "name": endpoint.name,
        "url": endpoint.url,
        "username": endpoint.username,
        "password": password,
        "verify_tls": "on",
        "enabled": "on",
    }


def test_wrong_password_explained_then_fixed_on_save(client, eager_tasks, vdisim_memory):
    client.force_login(make_user("adam", "admin"))
    endpoint = vdi.add_endpoint("sim", vdisim_memory.base_url, "admin", "wrong-password")
    vdi.test_login(endpoint)
    page = client.get(f"/vdi/{endpoint.pk}/").content.decode()
    assert "5099: 密码错误" in page and "wrong password: check the endpoint&#x27;s password" in page
    listing = client.get("/vdi/").content.decode()
    assert "wrong password" in listing

    response = client.post(
        f"/vdi/{endpoint.pk}/edit", _edit_form(endpoint, vdisim_memory.password), follow=True
    )
    html = response.content.decode()
    assert "Saved sim" in html and "login works" in html  # the queued test, run eagerly
    endpoint.refresh_from_db()
    assert endpoint.health == "ok" and endpoint.last_error == ""
    assert "密码错误" not in html


def test_not_synced_and_last_synced_agree(client):
    client.force_login(make_user("vera", "viewer"))
    endpoint = vdi.add_endpoint("lab", "http://127.0.0.1:9", "admin", "pw-123456")
    never = client.get(f"/vdi/{endpoint.pk}/").content.decode()
    assert "last synced never" in never and "Not synced yet" in never

    endpoint.last_synced = timezone.now()
    endpoint.name_prefix = "atp-"
    endpoint.save()
    synced = client.get(f"/vdi/{endpoint.pk}/").content.decode()
    assert "last synced never" not in synced and "Not synced yet" not in synced
    assert "The last sync found no VMs named atp-… on the platform" in synced
