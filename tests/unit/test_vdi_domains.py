"""VM operations over HTTP: batch power operations pass through status 5 and record events;
create, detail, delete, user binding."""

from __future__ import annotations

import pytest

from atp_core.vdiplatform import DomainStatus, VdiApiError


def test_batch_start_passes_through_in_progress_and_records_events(vdisim_memory, vdi_client):
    vdisim_memory.faults(op_delay=0.6)
    off = [v for v in vdi_client.domains.list(status=[DomainStatus.OFF])][:2]
    result = vdi_client.domains.start([v.id for v in off])
    assert len(result.event_ids) == 2 and result.errors == ()
    assert {vdi_client.domains.get(v.id).status for v in off} == {DomainStatus.IN_PROGRESS}
    events = vdi_client.events.wait_all(result.event_ids, timeout=10)
    assert all(e.done and not e.failed for e in events)
    assert {e.domain_id for e in events} == {v.id for v in off}
    assert [d.status for d in vdi_client.domains.wait_status([v.id for v in off], 1, 5)] == [
        DomainStatus.RUNNING
    ] * 2
    listed = {e.id for e in vdi_client.events.list(domain_name=off[0].name)}
    assert set(result.event_ids) & listed


@pytest.mark.parametrize(
    ("op", "kwargs", "start", "end"),
    [
        ("close", {"force": True}, DomainStatus.RUNNING, DomainStatus.OFF),
        ("close", {}, DomainStatus.SUSPENDED, DomainStatus.OFF),
        ("reboot", {}, DomainStatus.RUNNING, DomainStatus.RUNNING),
        ("suspend", {}, DomainStatus.RUNNING, DomainStatus.SUSPENDED),
        ("resume", {}, DomainStatus.SUSPENDED, DomainStatus.RUNNING),
        ("sleep", {}, DomainStatus.RUNNING, DomainStatus.SLEEPING),
    ],
)
def test_each_power_operation_reaches_its_state(vdi_client, op, kwargs, start, end):
    vm = next(vdi_client.domains.list(status=[start], keyword="sim-vm"))
    result = getattr(vdi_client.domains, op)([vm.id], **kwargs)
    vdi_client.events.wait_all(result.event_ids, 10)
    assert vdi_client.domains.get(vm.id).status == end


def test_wakeup_after_sleep(vdi_client):
    vm = next(vdi_client.domains.list(status=[DomainStatus.RUNNING], keyword="sim-vm"))
    vdi_client.events.wait_all(vdi_client.domains.sleep(vm.id).event_ids, 10)
    vdi_client.events.wait_all(vdi_client.domains.wakeup(vm.id).event_ids, 10)
    assert vdi_client.domains.get(vm.id).status == DomainStatus.RUNNING


def test_create_detail_and_delete(vdi_client):
    vm_id = vdi_client.domains.create(
        "unit-created", cpu=2, memory_mb=3072, remark="made by a test"
    )
    vm = vdi_client.domains.get(vm_id)
    assert (vm.name, vm.cpu, vm.memory_mb, vm.status) == ("unit-created", 2, 3072, DomainStatus.OFF)
    assert vm.created is not None and vm.raw["remark"] == "made by a test"
    assert vdi_client.domains.find("unit-created").id == vm_id
    vdi_client.domains.delete(vm_id)
    assert vdi_client.domains.find("unit-created") is None


def test_recycle_hides_the_vm_from_the_list(vdi_client):
    vm = next(vdi_client.domains.list(status=[DomainStatus.OFF]))
    vdi_client.domains.delete([vm.id], recycle=True)
    assert vm.id not in {v.id for v in vdi_client.domains.list()}


def test_bind_and_unbind_user(vdi_client):
    vm = next(vdi_client.domains.list(keyword="sim-vm"))
    assert vdi_client.domains.bind_user([vm.id], "alice") == []
    assert vdi_client.domains.get(vm.id).user_id == "alice"
    assert [d.id for d in vdi_client.domains.list(bound=True)] == [vm.id]
    assert [d.id for d in vdi_client.users.domains("alice")] == [vm.id]
    vdi_client.domains.unbind_user([vm.id])
    assert vdi_client.domains.get(vm.id).user_id is None
    with pytest.raises(VdiApiError) as err:
        vdi_client.domains.bind_user([vm.id], "nobody")
    assert err.value.status == 5098


def test_sync_status_clears_a_drifted_record(vdisim_memory, vdi_client):
    vm = vdi_client.domains.find("lic")
    vdisim_memory.faults(state_drift={"lic": 2})
    assert vdi_client.domains.get(vm.id).status == DomainStatus.SUSPENDED
    vdi_client.domains.sync_status(vm.id)  # memory backend: the record stays what it became
    assert vdi_client.domains.get(vm.id).status == DomainStatus.SUSPENDED
