"""A run uses the caller's shared libvirt connection of a host (the process's
TransportManager in the worker) and leaves it open; without one it opens its own."""

from __future__ import annotations

import pytest

from atp_core.orchestrator import Target, load_scenario, run_scenario
from atp_core.transport import HostConnection

pytestmark = pytest.mark.rig

SCENARIO = "name: shared\nsteps:\n  - type: verify_domain_status\n    expected: running\n"


def test_the_run_uses_and_keeps_the_callers_connection(rig_vm, tmp_path):
    shared = HostConnection(rig_vm.uri).connect()
    asked = []

    def connections(uri):
        asked.append(uri)
        return shared

    try:
        report = run_scenario(
            load_scenario(SCENARIO),
            [Target(f"local/{rig_vm.name}", rig_vm.uri, rig_vm.name)],
            artifact_dir=tmp_path,
            connections=connections,
        )
        assert report.result == "passed", report.to_json()
        assert asked == [rig_vm.uri]
        assert shared.is_alive()  # not closed by the run's end
    finally:
        shared.close()


def test_without_a_shared_connection_the_run_opens_its_own(rig_vm, tmp_path):
    report = run_scenario(
        load_scenario(SCENARIO),
        [Target(f"local/{rig_vm.name}", rig_vm.uri, rig_vm.name)],
        artifact_dir=tmp_path,
        connections=lambda uri: None,
    )
    assert report.result == "passed", report.to_json()
