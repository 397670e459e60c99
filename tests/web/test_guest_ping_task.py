"""The guest-ping task, run by a real Celery worker, stores its result and pushes it out."""

import pytest

from hosts import tasks
from hosts.models import AgentPing, Host
from hosts.services import INVENTORY_GROUP
from tests.layer_listener import GroupListener
from tests.waiting import wait_for

pytestmark = [pytest.mark.rig, pytest.mark.redis]


def test_worker_pings_guest_agent_and_stores_result(
    transactional_db, celery_worker_process, rig_vm
):
    host = Host.objects.create(name="local", uri=rig_vm.uri)
    listener = GroupListener(INVENTORY_GROUP)

    tasks.ping_guest_agent.delay(host.pk, rig_vm.name)

    pinged = AgentPing.objects.filter(vm__name=rig_vm.name)
    wait_for(pinged.exists, 60, "the worker to store the ping", interval=0.2)
    ping = AgentPing.objects.get(vm__name=rig_vm.name)
    assert ping.ok, ping.error
    assert ping.latency_ms > 0
    message = listener.receive(timeout=30)
    listener.close()
    assert message["kind"] == "agent_ping"
    assert message["vm"] == rig_vm.name and message["ok"] is True


def test_ping_of_missing_vm_stores_clear_error(transactional_db, rig_vm):
    host = Host.objects.create(name="local", uri=rig_vm.uri)
    ping = tasks.ping_guest_agent.apply(args=(host.pk, "no-such-vm")).get()
    assert ping is False
    stored = AgentPing.objects.get(vm__name="no-such-vm")
    assert "no-such-vm" in stored.error
