"""Login sends the MD5 of the password; the token goes in the ``Token`` header; logout ends it."""

from __future__ import annotations

import pytest
import requests

from atp_core.errors import InvalidInput
from atp_core.vdiplatform import VdiAuthError, VdiClient, md5_password


def test_md5_password_matches_the_documented_example():
    assert md5_password("11111111") == "1bbd886460827015e5d605ed44252251"


def test_login_sends_md5_and_token_header_authorises_calls(vdisim_memory):
    client = vdisim_memory.client()
    info = client.login()
    assert info.username == "admin" and info.role_level == "1"
    assert "token" not in repr(info) and info.token not in repr(client)

    login = next(r for r in vdisim_memory.records() if r["template"] == "/ocloud/v1/login")
    assert login["request"] == {
        "username": "admin",
        "password": "1bbd886460827015e5d605ed44252251",
        "client": "",
    }
    # the raw token works as the vendor documents: header ``Token``, not Authorization/Bearer
    raw = requests.get(
        vdisim_memory.base_url + "/ocloud/v1/host", headers={"Token": info.token}, timeout=5
    ).json()
    assert raw["status"] == 0 and raw["data"]["total"] == 1
    bearer = requests.get(
        vdisim_memory.base_url + "/ocloud/v1/host",
        headers={"Authorization": f"Bearer {info.token}"},
        timeout=5,
    ).json()
    assert bearer == {"status": 1006, "msg": "token校验失败"}


def test_first_call_logs_in_by_itself(vdisim_memory):
    client = vdisim_memory.client()
    assert not client.logged_in
    assert [h.name for h in client.hosts.list()] == ["ocloud"]
    assert client.logged_in


def test_wrong_password_and_unknown_user_are_auth_errors(vdisim_memory):
    with pytest.raises(VdiAuthError) as wrong:
        VdiClient(vdisim_memory.base_url, "admin", "nope").login()
    assert wrong.value.status == 5099 and "密码错误" in str(wrong.value)
    assert "nope" not in str(wrong.value)
    with pytest.raises(VdiAuthError) as unknown:
        VdiClient(vdisim_memory.base_url, "mallory", "x").login()
    assert unknown.value.status == 5098


def test_password_may_be_given_already_hashed(vdisim_memory):
    client = VdiClient(
        vdisim_memory.base_url, "admin", "1BBD886460827015E5D605ED44252251", password_is_md5=True
    )
    assert client.login().username == "admin"
    client.close()


def test_logout_invalidates_the_token_on_the_platform(vdisim_memory):
    client = vdisim_memory.client()
    token = client.login().token
    client.logout()
    assert not client.logged_in
    after = requests.get(
        vdisim_memory.base_url + "/ocloud/v1/host", headers={"Token": token}, timeout=5
    ).json()
    assert after["status"] == 1006


@pytest.mark.parametrize(
    "args",
    [("ftp://x", "admin", "p"), ("", "admin", "p"), ("http://x", "", "p")],
)
def test_bad_construction_is_invalid_input(args):
    with pytest.raises(InvalidInput):
        VdiClient(*args)
