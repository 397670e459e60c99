"""A token rejected mid-session (status 1006) → one fresh login and the call is repeated."""

from __future__ import annotations

import pytest

from atp_core.vdiplatform import VdiAuthError


def _logins(sim) -> int:
    return sum(1 for r in sim.records() if r["template"] == "/ocloud/v1/login")


def test_expired_token_mid_session_relogs_in_once_and_retries(vdisim_memory):
    client = vdisim_memory.client()
    first = client.login().token
    assert len(list(client.domains.list(page_size=10))) == 39

    assert vdisim_memory.faults(expire_tokens=True)["revoked_tokens"] >= 1
    vms = list(client.domains.list(page_size=10))  # expiry hits page 1; the walk continues
    assert len(vms) == 39
    assert client.login_info.token != first
    assert _logins(vdisim_memory) == 2


def test_expiry_between_pages_does_not_truncate_the_listing(vdisim_memory):
    client = vdisim_memory.client()
    client.login()
    pages = client.domains.list(page_size=10)
    head = [next(pages) for _ in range(15)]  # inside page 2
    vdisim_memory.faults(expire_tokens=True)
    rest = list(pages)
    assert len({d.id for d in head + rest}) == 39


def test_token_ttl_expiry_also_relogs_in(vdisim_memory):
    client = vdisim_memory.client()
    client.login()
    vdisim_memory.faults(token_ttl=0.2)
    client.cancel.wait(0.4)
    assert client.hosts.all()[0].name == "ocloud"
    assert _logins(vdisim_memory) == 2
    vdisim_memory.faults(token_ttl=None)


def test_a_post_is_also_repeated_after_relogin(vdisim_memory):
    client = vdisim_memory.client()
    client.login()
    vdisim_memory.faults(expire_tokens=True)
    client.desk_pools.disable(client.desk_pools.find("testpool").id)
    assert client.desk_pools.find("testpool").enabled is False


def test_token_rejected_again_after_relogin_is_an_auth_error(vdisim_memory):
    client = vdisim_memory.client()
    client.login()
    vdisim_memory.faults(
        api_error={"status": 1006, "msg": "token校验失败", "count": 2, "paths": ["/host/"]}
    )
    with pytest.raises(VdiAuthError) as err:
        client.hosts.all()
    assert err.value.status == 1006 and err.value.path == "/ocloud/v1/host/all"
