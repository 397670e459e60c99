"""`add_host` and `sync_hosts`: what an operator scripts, with exit status on failure."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from hosts.models import Host, VirtualMachine

pytestmark = [pytest.mark.rig, pytest.mark.django_db]


def test_add_host_then_sync(rig_vm, capsys):
    call_command("add_host", "local", rig_vm.uri, "--tag", "lab", "--slots", "2")
    assert "added local: libvirt" in capsys.readouterr().out
    host = Host.objects.get(name="local")
    assert host.tags == ["lab"] and host.reachable

    call_command("sync_hosts", "local", "--json", "--no-thumbnails")
    results = json.loads(capsys.readouterr().out)
    assert results[0]["ok"] and results[0]["vms"] >= 1
    assert VirtualMachine.objects.filter(host=host, name=rig_vm.name, state="running").exists()


def test_add_host_errors(capsys):
    with pytest.raises(CommandError, match="use lowercase letters"):
        call_command("add_host", "Bad Name", "qemu:///system")
    with pytest.raises(CommandError, match="unreachable"):
        call_command("add_host", "far", "qemu+tcp://127.0.0.1:1/system")
    with pytest.raises(CommandError, match="no such host: nope"):
        call_command("sync_hosts", "nope")
