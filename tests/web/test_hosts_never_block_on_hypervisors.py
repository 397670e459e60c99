"""The web process never waits for a hypervisor (issue 11 item 8).

A black-holed libvirt host (a real TCP listener that never accepts: the kernel completes the
connect, libvirt then waits forever for the RPC greeting) is being dialled in another thread;
meanwhile the Hosts page, the VM list, the dashboard and the test/sync/verify actions answer.
No timing: the connect in progress is observed (the listener's backlog holds it) and the dialling
thread is checked to be still waiting after every request answered. A host whose connect failed
is remembered as down and not dialled again by the next caller.
"""

from __future__ import annotations

import select
import socket
import threading

import pytest

from atp_core.errors import ConnectionFailed
from atp_core.transport.inventory import host_info
from hosts import connections, tasks
from hosts.models import Host, VdiEndpoint, VirtualMachine
from tests.fixtures.web import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def black_hole():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield listener
    listener.close()


def _pending(listener: socket.socket, wait: float | None) -> bool:
    """A connection waits in the listener's backlog (the kernel completed its handshake)."""
    return bool(select.select([listener], [], [], wait)[0])


@pytest.fixture
def queued(monkeypatch):
    """Tasks the requests queue, recorded instead of sent (no worker in these tests)."""
    sent = []
    for task in (tasks.test_host, tasks.sync_host, tasks.vdi_action):
        monkeypatch.setattr(task, "delay", lambda *a, _t=task: sent.append((_t.name, a)))
    return sent


def test_pages_and_actions_answer_while_a_black_holed_host_is_dialled(
    client, settings, black_hole, queued
):
    settings.ATP_LIBVIRT_CONNECT_TIMEOUT = 600  # the dialler waits; the test ends it below
    port = black_hole.getsockname()[1]
    hole = Host.objects.create(name="hole", uri=f"qemu+tcp://127.0.0.1:{port}/system")
    VirtualMachine.objects.create(host=hole, name="stored-vm", state="running")
    Host.objects.create(name="other", uri="test:///default", reachable=True)
    endpoint = VdiEndpoint.objects.create(
        name="sim", url="http://127.0.0.1:9", username="u", libvirt_host=hole
    )
    outcome: dict = {}

    def dial():
        try:
            connections.call(hole, host_info, fresh=True)
        except ConnectionFailed as exc:
            outcome["error"] = str(exc)

    dialler = threading.Thread(target=dial, daemon=True)
    dialler.start()
    try:
        assert _pending(black_hole, 60), "the dialler never reached the black hole"
        client.force_login(make_user("olga", "operator"))
        hosts_page = client.get("/hosts/")
        assert hosts_page.status_code == 200
        html = hosts_page.content.decode()
        assert 'data-host="hole"' in html and 'data-vm="stored-vm"' in html
        assert client.get("/vms/").status_code == 200
        assert client.get("/").status_code == 200
        fetch = {"HTTP_X_REQUESTED_WITH": "fetch"}
        assert client.post(f"/hosts/{hole.pk}/test", **fetch).status_code == 202
        assert client.post(f"/hosts/{hole.pk}/sync", **fetch).status_code == 202
        assert client.post(f"/vdi/{endpoint.pk}/verify", **fetch).status_code == 202
        assert client.post("/api/hosts/hole/test/").status_code == 202
        assert client.post("/api/vdi-endpoints/sim/verify/").status_code == 202
        # every request above answered while the connect was still in progress
        assert dialler.is_alive() and "error" not in outcome
        assert [name for name, _ in queued] == [
            "hosts.test_host",
            "hosts.sync_host",
            "hosts.vdi_action",
            "hosts.test_host",
            "hosts.vdi_action",
        ]
        # the requests dialled nothing themselves: only the dialler's connect is in the backlog
        black_hole.accept()[0].close()  # hang up on the dialler: its open fails now
        dialler.join(60)
        assert not dialler.is_alive() and "error" in outcome
        assert not _pending(black_hole, 0), "a request dialled the host"
    finally:
        black_hole.close()
        dialler.join(60)
        connections.forget_host("hole")


def test_a_down_host_is_remembered_not_redialled(settings, black_hole):
    settings.ATP_LIBVIRT_CONNECT_TIMEOUT = 0.5
    settings.ATP_HOST_DOWN_SECONDS = 600
    port = black_hole.getsockname()[1]
    hole = Host.objects.create(name="hole2", uri=f"qemu+tcp://127.0.0.1:{port}/system")
    try:
        with pytest.raises(ConnectionFailed, match="no connection within"):
            connections.call(hole, host_info)
        assert _pending(black_hole, 0)
        black_hole.accept()[0].close()
        with pytest.raises(ConnectionFailed, match="marked down"):
            connections.call(hole, host_info)
        assert not _pending(black_hole, 0), "the down host was dialled again"
        assert connections.down_error("hole2")
        # an explicit test dials again
        with pytest.raises(ConnectionFailed, match="no connection within"):
            connections.call(hole, host_info, fresh=True)
        assert _pending(black_hole, 0)
    finally:
        connections.forget_host("hole2")


@pytest.mark.django_db(transaction=True)
@pytest.mark.redis
def test_a_real_worker_runs_the_queued_test_and_stores_the_outcome(client, celery_worker_process):
    from tests.waiting import wait_for

    host = Host.objects.create(name="drv", uri="test:///default")
    client.force_login(make_user("olga", "operator"))
    answer = client.post("/api/hosts/drv/test/")
    assert answer.status_code == 202 and answer.json()["queued"] is True
    wait_for(
        lambda: Host.objects.get(pk=host.pk).last_checked, 60, "the worker to store the outcome"
    )
    assert Host.objects.get(pk=host.pk).health == "ok"
    assert "drv" in client.get("/hosts/").content.decode()
