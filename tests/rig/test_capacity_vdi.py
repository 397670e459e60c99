"""A capacity run whose desks come from the VDI platform (issue 14 §3 through the simulator's
libvirt backend): a desk pool of 2 linked clones of the platform's desktop template created
through the VDI API client, each desk started through the platform, then typing 4 measured keys
at its login screen over SPICE per step; the run measures one desk, then two, and ends with a
verdict. The pool's deletion removes both guests from libvirt."""

from __future__ import annotations

import tempfile
from pathlib import Path

import libvirt
import pytest

from atp_core.orchestrator.capacity import run_capacity
from atp_core.orchestrator.capacity_desks import VdiDesks, typing_workload
from tests.prereq import require
from tests.vm_pool import desktop_built
from vdisim.backends import DESKTOP_TEMPLATE

pytestmark = pytest.mark.rig

KEYS = 4


def test_capacity_with_desks_from_the_vdi_platform(vdisim_libvirt, libvirt_uri):
    require(desktop_built(), "the desktop guest (run guest/build-desktop.sh)")
    client = vdisim_libvirt.client(timeout=30)
    prefix = f"{vdisim_libvirt.prefix}cap-"
    conn = libvirt.open(libvirt_uri)
    seen: list[list[str]] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            desks = VdiDesks(
                client,
                libvirt_uri,
                template=DESKTOP_TEMPLATE,
                pool="capacity",
                count=2,
                domain_prefix=prefix,
                artifacts=Path(tmp),
            )
            names = [vm.name for vm in desks.vms]
            assert names == [f"{prefix}001", f"{prefix}002"]
            graphics = conn.lookupByName(names[0]).XMLDesc(0)
            assert "type='spice'" in graphics or 'type="spice"' in graphics, "a desktop guest"

            def running(_step) -> None:
                seen.append(sorted(d.name() for d in conn.listAllDomains(1) if d.name() in names))

            try:
                result = run_capacity(
                    desks.start,
                    typing_workload(KEYS, Path(tmp)),
                    host="vdisim",
                    max_desks=2,
                    on_step=running,
                )
            finally:
                desks.close()
        print(result.summary())
        print("\n".join(result.curve()))
        assert "did not start" not in result.reason and "failed" not in result.reason, result.reason
        assert [s.desks for s in result.steps] == [1, 2], result.reason
        assert seen == [names[:1], names], "desk n runs from step n, started by the platform"
        one, two = result.steps
        assert (len(one.samples), len(two.samples)) == (KEYS, 2 * KEYS), "every key measured"
        assert all(0 < v < 2.0 for v in one.samples + two.samples)
        if two.p95 > one.p95 * 1.15:
            assert result.capacity == 1 and "above the baseline" in result.reason
        else:
            assert result.capacity == 2 and result.at_least
        assert client.desk_pools.find("capacity") is None
        for name in names:
            with pytest.raises(libvirt.libvirtError):
                conn.lookupByName(name)
    finally:
        conn.close()
