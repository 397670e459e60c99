"""Hosts, users and organisational units over HTTP."""

from __future__ import annotations

import pytest

from atp_core.vdiplatform import HostStatus, VdiApiError


def test_hosts_list_detail_and_uptime(vdi_client):
    (host,) = list(vdi_client.hosts.list(status=[HostStatus.ONLINE]))
    assert (host.name, host.ip, host.online, host.cpu_count, host.memory_gb) == (
        "ocloud",
        "192.168.41.51",
        True,
        32,
        125.47,
    )
    assert host.running_domains >= 4
    assert vdi_client.hosts.get(host.id).raw["hostNum"] == 1
    assert [h.id for h in vdi_client.hosts.all()] == [host.id]
    assert vdi_client.hosts.uptime(host.id) >= 0
    assert list(vdi_client.hosts.list(status=[HostStatus.OFFLINE])) == []


def test_users_and_groups(vdi_client):
    (root,) = vdi_client.groups.tree()
    assert [g.dn for g in root.walk()] == ["ou=atp", "ou=qa,ou=atp"]
    vdi_client.groups.create("ops", base="ou=atp")
    assert vdi_client.groups.get("ou=ops,ou=atp").ou == "ops"
    vdi_client.users.create("dave", "ou=ops,ou=atp", password="Init-123", mail="d@example.org")
    assert vdi_client.users.get("dave").raw["mail"] == "d@example.org"
    assert sorted(u.username for u in vdi_client.users.list("ou=atp")) == ["alice", "bob", "dave"]
    assert [u.username for u in vdi_client.users.list("ou=qa,ou=atp")] == ["alice"]
    with pytest.raises(VdiApiError):
        vdi_client.groups.delete("ou=ops,ou=atp")  # still has a user
    vdi_client.users.delete("dave", "ou=ops,ou=atp")
    vdi_client.groups.delete("ou=ops,ou=atp")
    with pytest.raises(VdiApiError) as err:
        vdi_client.users.get("dave")
    assert err.value.status == 5098
