"""Desk pools over HTTP: create (event → N linked clones of the template), enable/disable,
its domains, switch model, delete (the VMs go with it); template clone."""

from __future__ import annotations

import pytest

from atp_core.vdiplatform import DeskPoolType, DomainStatus, VdiApiError


def test_desk_pool_lifecycle(vdi_client):
    template = vdi_client.models.find("win10-template")
    assert template is not None and template.is_model
    event_id = vdi_client.desk_pools.create(
        "unit-pool", 3, template.id, type=DeskPoolType.SHARED, domain_prefix="up-"
    )
    event = vdi_client.events.wait(event_id, timeout=10)
    assert event.done and not event.failed

    pool = vdi_client.desk_pools.find("unit-pool")
    assert (pool.type, pool.enabled, pool.amount, pool.model_id) == (
        DeskPoolType.SHARED,
        True,
        3,
        template.id,
    )
    vms = vdi_client.desk_pools.domains(pool.id)
    assert [v.name for v in vms] == ["up-001", "up-002", "up-003"]
    assert all(
        v.mother_id == template.id and v.desk_pool_id == pool.id and v.status == DomainStatus.OFF
        for v in vms
    )
    assert {v.id for v in vdi_client.domains.list(mother_id=template.id)} >= {v.id for v in vms}

    vdi_client.desk_pools.disable(pool.id)
    assert vdi_client.desk_pools.find("unit-pool").enabled is False
    vdi_client.desk_pools.enable(pool.id)
    assert vdi_client.desk_pools.find("unit-pool").enabled is True

    vdi_client.events.wait(vdi_client.desk_pools.switch_model(pool.id, template.id), 10)
    vdi_client.desk_pools.delete(pool.id)
    assert vdi_client.desk_pools.find("unit-pool") is None
    assert not list(vdi_client.domains.list(keyword="up-"))


def test_desk_pool_with_unknown_template_is_refused(vdi_client):
    with pytest.raises(VdiApiError) as err:
        vdi_client.desk_pools.create("bad-pool", 1, "no-such-template")
    assert err.value.status == 4004 and "模板" in err.value.msg


def test_template_clone_makes_linked_clones(vdi_client):
    template = next(vdi_client.models.list())
    vdi_client.events.wait(vdi_client.models.clone(template.id, "clone-", 2), 10)
    clones = list(vdi_client.domains.list(keyword="clone-"))
    assert sorted(c.name for c in clones) == ["clone-001", "clone-002"]
    assert all(c.raw["cloneType"] == "1" and c.mother_id == template.id for c in clones)
    assert vdi_client.models.get(template.id).name == template.name
