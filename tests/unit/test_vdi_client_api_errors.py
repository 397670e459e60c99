"""A non-zero envelope status becomes ``VdiApiError`` carrying the platform's status and msg;
batch refusals become ``VdiBatchError``; bad arguments are ``InvalidInput`` before any call."""

from __future__ import annotations

import pytest

from atp_core.errors import InfrastructureError, InvalidInput
from atp_core.vdiplatform import DomainStatus, VdiApiError, VdiBatchError


def test_non_zero_status_is_an_api_error_with_status_and_message(vdi_client):
    running = next(vdi_client.domains.list(status=[DomainStatus.RUNNING]))
    with pytest.raises(VdiApiError) as err:
        vdi_client.domains.delete([running.id])
    assert err.value.status == 4009
    assert "请先关机" in err.value.msg and running.name in err.value.msg
    assert err.value.path == "/ocloud/v1/domain/delete"
    assert isinstance(err.value, InfrastructureError)


def test_injected_platform_error_is_reported_verbatim(vdisim_memory, vdi_client):
    vdisim_memory.faults(api_error={"status": 9001, "msg": "数据库异常", "count": 1})
    with pytest.raises(VdiApiError) as err:
        vdi_client.hosts.all()
    assert (err.value.status, err.value.msg) == (9001, "数据库异常")


def test_unknown_detail_is_an_api_error(vdi_client):
    with pytest.raises(VdiApiError) as err:
        vdi_client.domains.get("no-such-id")
    assert err.value.status == 4004


def test_batch_refusals_raise_unless_not_strict(vdi_client):
    running = next(vdi_client.domains.list(status=[DomainStatus.RUNNING]))
    with pytest.raises(VdiBatchError) as err:
        vdi_client.domains.start([running.id])  # already running
    assert err.value.errors[0].domain_id == running.id
    result = vdi_client.domains.start([running.id, "ghost"], strict=False)
    assert result.event_ids == ()
    assert {e.domain_id for e in result.errors} == {running.id, "ghost"}
    assert next(e for e in result.errors if e.domain_id == "ghost").message == "虚拟机不存在"


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.domains.start([]),
        lambda c: c.domains.delete([""]),
        lambda c: c.domains.get(""),
        lambda c: c.desk_pools.create("p", 0, "m"),
        lambda c: c.users.list(""),
        lambda c: c.domains.bind_user(["x"], ""),
        lambda c: list(c.domains.list(page_size=0)),
    ],
)
def test_bad_arguments_are_invalid_input(vdi_client, call):
    with pytest.raises(InvalidInput):
        call(vdi_client)
