"""``verify_platform`` against the simulator and libvirt's test driver (a real libvirt driver whose
domains come from an XML file): both directions, state mapping, host placement."""

from __future__ import annotations

import json

import pytest

from atp_core.errors import InvalidInput
from atp_core.vdiplatform import VdiClient
from atp_core.vdiplatform.verify import (
    HOST_MISMATCH,
    ONLY_IN_LIBVIRT,
    ONLY_ON_PLATFORM,
    STATE_MISMATCH,
    verify_platform,
)
from vdisim import Platform, SimServer
from vdisim.backends import MemoryBackend

LAB_VMS = ("lic", "ocloud01", "ocloud02", "win10_22h2001")  # running on host "ocloud"


def libvirt_test_uri(tmp_path, name: str, domains: dict[str, int]) -> str:
    """A libvirt ``test://`` URI whose node has ``domains`` (name -> virDomainState)."""
    body = "".join(
        "<domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>"
        f"<name>{n}</name><memory>1024</memory><os><type>hvm</type></os>"
        f"<test:runstate>{state}</test:runstate></domain>"
        for n, state in domains.items()
    )
    path = tmp_path / f"{name}.xml"
    path.write_text(f"<node>{body}</node>")
    return f"test://{path}"


@pytest.fixture
def two_host_sim():
    sim = SimServer(Platform(MemoryBackend(0.01), extra_hosts=1)).start()
    client = VdiClient(sim.base_url, "admin", "11111111")
    yield client
    client.close()
    sim.stop()


def test_consistent_when_both_sides_agree(vdi_client, tmp_path):
    uri = libvirt_test_uri(tmp_path, "ok", {name: 1 for name in LAB_VMS})
    report = verify_platform(vdi_client, uri, name_filter=lambda n: n in LAB_VMS)
    assert report.consistent and report.exit_code == 0
    assert [r.vm_name for r in report.rows] == sorted(LAB_VMS)
    assert report.hosts_checked == ["ocloud"]


def test_every_kind_of_difference_both_directions(two_host_sim, tmp_path):
    client = two_host_sim
    host1 = libvirt_test_uri(
        tmp_path, "h1", {"lic": 1, "ocloud01": 2, "ocloud02": 3, "libvirt-only": 1}
    )
    host2 = libvirt_test_uri(tmp_path, "h2", {"win10_22h2001": 1})
    wanted = {*LAB_VMS, "libvirt-only", "sim-vm-00000"}
    report = verify_platform(
        client, {"ocloud": host1, "ocloud-2": host2}, name_filter=lambda n: n in wanted
    )
    problems = {r.vm_name: r.problem for r in report.rows}
    assert problems == {
        "lic": None,  # running / running
        "ocloud01": None,  # running / blocked (a running vCPU state)
        "ocloud02": STATE_MISMATCH,  # running / paused
        "win10_22h2001": HOST_MISMATCH,  # platform: ocloud, libvirt: ocloud-2
        "libvirt-only": ONLY_IN_LIBVIRT,
    }
    assert not report.consistent and report.exit_code == 1
    row = next(r for r in report.rows if r.vm_name == "ocloud02")
    assert (row.platform_label, row.libvirt_label) == ("running(1)", "paused(3)")
    moved = next(r for r in report.rows if r.vm_name == "win10_22h2001")
    assert (moved.platform_host, moved.libvirt_host) == ("ocloud", "ocloud-2")

    as_json = json.loads(report.to_json(only_diff=True))
    assert as_json["consistent"] is False and as_json["inconsistent"] == 3
    assert {r["vm_name"] for r in as_json["rows"]} == {"ocloud02", "win10_22h2001", "libvirt-only"}
    table = report.to_table()
    assert "state mismatch" in table and "INCONSISTENT" in table


def test_platform_only_vm_is_reported(vdi_client, tmp_path):
    uri = libvirt_test_uri(tmp_path, "few", {"lic": 1})
    report = verify_platform(vdi_client, uri, name_filter=lambda n: n in ("lic", "ocloud01"))
    assert {r.vm_name: r.problem for r in report.rows} == {
        "lic": None,
        "ocloud01": ONLY_ON_PLATFORM,
    }
    row = report.inconsistent_rows[0]
    assert (row.platform_status, row.libvirt_state, row.libvirt_label) == (1, None, "-")


def test_drifted_platform_state_is_a_mismatch(vdisim_memory, vdi_client, tmp_path):
    uri = libvirt_test_uri(tmp_path, "drift", {"lic": 1})
    vdisim_memory.faults(state_drift={"lic": 0})
    report = verify_platform(vdi_client, uri, name_prefix="lic")
    (row,) = report.rows
    assert (row.problem, row.platform_label, row.libvirt_label) == (
        STATE_MISMATCH,
        "off(0)",
        "running(1)",
    )


def test_unreachable_host_makes_the_report_inconsistent(vdi_client):
    report = verify_platform(vdi_client, "test:///no/such/file.xml", name_prefix="lic")
    assert not report.consistent and list(report.hosts_unreachable) == ["ocloud"]
    assert report.rows == []  # nothing could be compared


def test_one_uri_for_several_hosts_is_invalid_input(two_host_sim):
    with pytest.raises(InvalidInput, match="mapping"):
        verify_platform(two_host_sim, "test:///default")
    with pytest.raises(InvalidInput, match="no libvirt URI for platform host 'ocloud-2'"):
        verify_platform(two_host_sim, {"ocloud": "test:///default"})
