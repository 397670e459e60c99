"""Host URIs are limited to transports that run no local program (issue 11 item 12): the ext
transport and options such as command=/socket=/netcat= are refused with the allowed list, in
the form, the API and the service; a stored row with such a URI is never dialled."""

from __future__ import annotations

import pytest

from atp_core.errors import ConnectionFailed, InvalidInput
from atp_core.transport.inventory import host_info
from hosts import connections, services
from hosts.models import Host
from tests.fixtures.web import make_user

pytestmark = pytest.mark.django_db

REFUSED = [
    "qemu+ext:///system?command=/bin/sh",
    "qemu+ssh://u@h/system?command=/tmp/evil",
    "qemu+ssh://u@h/system?netcat=/tmp/evil",
    "qemu+unix:///system?socket=/tmp/other.sock",
    "qemu+tcp://h/system?keyfile=/etc/shadow",
    "xen+ext://h/",
    "/bin/sh",
]
ALLOWED = [
    "qemu:///system",
    "qemu+tcp://10.0.0.5/system",
    "qemu+ssh://atp@10.0.0.5/system?no_verify=1",
    "qemu+tls://h.example/system",
    "qemu+unix:///system",
]


@pytest.mark.parametrize("uri", REFUSED)
def test_refused_everywhere_with_the_allowed_list(client, uri):
    with pytest.raises(InvalidInput, match="allowed"):
        services.add_host("h1", uri)
    client.force_login(make_user("adam", "admin"))
    api = client.post("/api/hosts/", {"name": "h2", "uri": uri}, content_type="application/json")
    assert api.status_code == 400 and "qemu+ssh://" in str(api.json()["uri"])
    form = client.post("/hosts/add", {"name": "h3", "uri": uri, "slots": 1, "enabled": "on"})
    assert form.status_code == 200 and "uri" in form.context["form"].errors
    assert not Host.objects.exists()


@pytest.mark.parametrize("uri", ALLOWED)
def test_remote_transports_are_accepted(uri):
    assert services.add_host("ok", uri).uri == uri


def test_a_stored_bad_uri_is_never_dialled():
    host = Host.objects.create(name="old", uri="qemu+ext:///system?command=/bin/false")
    with pytest.raises(ConnectionFailed, match="not allowed"):
        connections.call(host, host_info, fresh=True)
