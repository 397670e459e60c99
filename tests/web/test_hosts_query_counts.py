"""The hosts page runs the same number of queries with 2 or 30 hosts and their VMs and pings
(all from the database: the page never dials libvirt)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hosts.models import AgentPing, Host, VirtualMachine
from tests.fixtures.web import make_user

pytestmark = pytest.mark.django_db


def _grow(count: int) -> None:
    start = Host.objects.count()
    for i in range(start, start + count):
        host = Host.objects.create(name=f"h{i}", uri="test:///default")
        vm = VirtualMachine.objects.create(host=host, name="test", state="running")
        for ok in (True, False, True):
            AgentPing.objects.create(vm=vm, ok=ok, latency_ms=1.0)


def _queries(client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/hosts/")
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def test_hosts_page_queries_constant(client):
    client.force_login(make_user("vera", "viewer"))
    _grow(2)
    few, _ = _queries(client)
    _grow(28)
    many, html = _queries(client)
    assert many == few, f"{few} queries with 2 hosts, {many} with 30"
    assert html.count('data-vm="test"') == 30  # the stored VM of each host
    assert "ok (1.0 ms)" in html  # the newest ping of each VM
