"""The libvirt-backed simulator on the real rig: a desk pool of 2 creates 2 real guests that boot
and answer the guest agent when started through the platform API; ``vdi verify`` then reports
consistent, and after a ``virsh destroy`` behind the platform's back it reports exactly that VM
with both states."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import libvirt
import libvirt_qemu
import pytest

from atp_core.vdiplatform import DomainStatus, LibvirtState
from atp_core.vdiplatform.verify import STATE_MISMATCH, verify_platform
from tests.unit.test_vdi_contract import check_record

pytestmark = pytest.mark.rig

ROOT = Path(__file__).resolve().parents[2]


def agent_answers(conn: libvirt.virConnect, name: str, timeout: float = 90.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            reply = libvirt_qemu.qemuAgentCommand(
                conn.lookupByName(name), '{"execute": "guest-ping"}', 3, 0
            )
            if "return" in json.loads(reply):
                return True
        except libvirt.libvirtError:
            pass
        time.sleep(0.5)
    return False


def test_desk_pool_of_two_real_guests_and_verify(vdisim_libvirt, libvirt_uri):
    prefix = vdisim_libvirt.prefix
    client = vdisim_libvirt.client(timeout=30)
    conn = libvirt.open(libvirt_uri)
    try:
        (host,) = list(client.hosts.list())
        assert host.online and host.name == conn.getHostname()
        template = client.models.find("atp-test-guest")
        assert template is not None and template.is_model

        event = client.desk_pools.create("rig-pool", 2, template.id, domain_prefix=f"{prefix}pool-")
        client.events.wait(event, timeout=60)
        pool = client.desk_pools.find("rig-pool")
        vms = client.desk_pools.domains(pool.id)
        names = sorted(vm.name for vm in vms)
        assert names == [f"{prefix}pool-001", f"{prefix}pool-002"]
        for vm in vms:  # real libvirt domains, defined and shut off; the VM id is libvirt's UUID
            dom = conn.lookupByName(vm.name)
            assert dom.UUIDString() == vm.id and dom.state()[0] == LibvirtState.SHUTOFF

        started = client.domains.start([vm.id for vm in vms])
        client.events.wait_all(started.event_ids, timeout=60)
        client.domains.wait_status([vm.id for vm in vms], DomainStatus.RUNNING, timeout=30)
        for name in names:
            assert conn.lookupByName(name).state()[0] == LibvirtState.RUNNING
            assert agent_answers(conn, name), f"{name}: the guest agent did not answer"

        report = verify_platform(client, libvirt_uri, name_prefix=prefix)
        assert report.consistent, report.to_table()
        assert [r.vm_name for r in report.rows] == names

        victim = names[0]
        subprocess.run(
            ["virsh", "-c", libvirt_uri, "destroy", victim], check=True, capture_output=True
        )
        report = verify_platform(client, libvirt_uri, name_prefix=prefix)
        assert not report.consistent
        (row,) = report.inconsistent_rows
        assert (row.vm_name, row.problem) == (victim, STATE_MISMATCH)
        assert (row.platform_status, row.libvirt_state) == (
            DomainStatus.RUNNING,
            LibvirtState.SHUTOFF,
        )
        assert (row.platform_label, row.libvirt_label) == ("running(1)", "shutoff(5)")

        # the same from the command line: JSON, exit code 1
        env = {**os.environ, "ATP_VDI_PASSWORD": vdisim_libvirt.password}
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "atp_core.vdiplatform",
                "verify",
                "--url",
                vdisim_libvirt.base_url,
                "--libvirt-uri",
                libvirt_uri,
                "--prefix",
                prefix,
                "--format",
                "json",
                "--only-diff",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 1, done.stderr
        assert [r["vm_name"] for r in json.loads(done.stdout)["rows"]] == [victim]

        # the platform re-reads the guest's state: consistent again
        client.domains.sync_status(next(vm.id for vm in vms if vm.name == victim))
        assert verify_platform(client, libvirt_uri, name_prefix=prefix).consistent

        client.desk_pools.delete(pool.id)
        for name in names:
            with pytest.raises(libvirt.libvirtError):
                conn.lookupByName(name)

        # the libvirt backend speaks the vendor contract too
        records = vdisim_libvirt.records()
        assert len(records) > 10
        problems = [p for r in records for p in check_record(r)]
        assert problems == [], "\n".join(problems[:20])
    finally:
        conn.close()
