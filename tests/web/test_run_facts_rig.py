"""At run start the target VM's facts are read from the real VM: its libvirt domain XML and the
guest kernel's boot id through the guest agent (the same one the guest itself reports)."""

from __future__ import annotations

import pytest

from runs.models import RunTarget
from runs.run_facts import record_target_facts
from tests.web import run_pages_data as data

pytestmark = [pytest.mark.rig, pytest.mark.django_db]


def test_domain_xml_and_boot_id_of_a_rig_vm(rig_vm):
    from hosts.models import Host

    sc, rev = data.scenario("facts")
    run = data.new_run(sc, rev, targets=(("rig", rig_vm.name),))
    Host.objects.filter(name="rig").update(uri=rig_vm.uri)
    record_target_facts(run)
    target = RunTarget.objects.get(run=run)
    code, out, _ = rig_vm.shell("cat /proc/sys/kernel/random/boot_id")
    assert code == 0 and len(out.strip()) == 36
    assert target.boot_id == out.strip()
    assert f"<name>{rig_vm.name}</name>" in target.domain_xml
    assert target.domain_xml.lstrip().startswith("<domain type=")
