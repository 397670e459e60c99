"""vdi verify from the web layer and the command line: the report is stored and shown."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from hosts import vdi
from hosts.models import Host
from tests.fixtures.web import make_user

pytestmark = pytest.mark.django_db


def _endpoint(vdisim_memory):
    # libvirt's built-in test driver: a real libvirt connection with one domain named "test",
    # which the simulated platform does not know -> at least one inconsistency both ways.
    host = Host.objects.create(name="testdrv", uri="test:///default")
    return vdi.add_endpoint(
        "sim", vdisim_memory.base_url, "admin", vdisim_memory.password, libvirt_host=host
    )


def test_verify_page_stores_and_shows_report(client, eager_tasks, vdisim_memory):
    endpoint = _endpoint(vdisim_memory)
    client.force_login(make_user("olga", "operator"))
    html = client.post(f"/vdi/{endpoint.pk}/verify", follow=True).content.decode()
    endpoint.refresh_from_db()
    report = endpoint.last_verify
    assert report["consistent"] is False
    names = {row["vm_name"] for row in report["rows"]}
    assert "test" in names  # only in libvirt
    assert len(names) > 1  # and the platform's VMs, missing from libvirt
    assert 'id="verify-report"' in html and "inconsistent" in html


def test_vdi_verify_command_exits_nonzero_on_inconsistency(vdisim_memory, capsys):
    _endpoint(vdisim_memory)
    with pytest.raises(CommandError, match="disagree"):
        call_command("vdi_verify", "sim")
    out = capsys.readouterr().out
    assert "!! test" in out and "inconsistent" in out


def test_vdi_sync_command(vdisim_memory, capsys):
    _endpoint(vdisim_memory)
    call_command("vdi_sync", "sim")
    assert "sim:" in capsys.readouterr().out
    with pytest.raises(CommandError, match="no such VDI endpoint"):
        call_command("vdi_sync", "nope")
