"""Every example in examples/ runs green from the command line on the rig, and its JSON report
lists every planned step (the VDI one against the libvirt-backed simulator)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from atp_core.orchestrator import load_scenario_file, plan_steps

pytestmark = pytest.mark.rig

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
VDI = ("11_vdi_desk_pool.yaml", "12_vdi_domain_lifecycle.yaml")
TWO_VMS = "08_parallel.yaml"
# on the desktop guest: tests/rig/test_examples_desktop.py
DESKTOP = ("13_desktop_gui.yaml", "14_logon_time.yaml")


def run_cli(args: list[str], tmp_path: Path, env: dict | None = None) -> tuple[int, dict, str]:
    report = tmp_path / "report.json"
    junit = tmp_path / "junit.xml"
    proc = subprocess.run(
        [sys.executable, "-m", "atp_core", "run", *args, "--json", str(report)]
        + ["--junit", str(junit), "--artifacts", str(tmp_path / "artifacts")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, **(env or {})},
    )
    output = proc.stdout + proc.stderr
    assert report.exists(), output
    assert junit.read_text().startswith("<?xml")
    return proc.returncode, json.loads(report.read_text()), output


def assert_every_step_passed(path: Path, report: dict, output: str) -> None:
    planned = {p.id for p in plan_steps(load_scenario_file(path))}
    for target in report["targets"]:
        ids = {s["id"] for s in target["steps"]}
        assert ids == planned, f"{target['name']}: {sorted(planned - ids)} missing\n{output}"
        bad = [
            (s["id"], s["status"], s["error"]) for s in target["steps"] if s["status"] != "passed"
        ]
        assert not bad, f"{path.name} on {target['name']}: {bad}\n{output}"


def test_there_are_at_least_ten_examples_covering_every_step_kind():
    from atp_core.orchestrator.schema import STEP_KINDS

    assert len(EXAMPLES) >= 10
    used: set[str] = set()

    def walk(steps):
        for step in steps:
            used.add(step.type)
            walk(getattr(step, "steps", None) or [])
            walk(getattr(step, "finally_", None) or [])
            if step.type == "wait_until":
                used.add(step.check.type)

    for path in EXAMPLES:
        scenario = load_scenario_file(path)
        walk(scenario.steps)
        walk(scenario.finally_)
    assert sorted(set(STEP_KINDS) - used) == []


@pytest.mark.parametrize(
    "path", [p for p in EXAMPLES if p.name not in (*VDI, TWO_VMS, *DESKTOP)], ids=lambda p: p.stem
)
def test_example_runs_green_on_one_vm(path, rig_vm, tmp_path):
    code, report, output = run_cli([str(path), "--host", rig_vm.uri, "--vm", rig_vm.name], tmp_path)
    assert code == 0, output
    assert report["result"] == "passed"
    assert_every_step_passed(path, report, output)


def test_parallel_example_on_two_vms(rig_vms, tmp_path):
    path = ROOT / "examples" / TWO_VMS
    a, b = rig_vms[:2]
    code, report, output = run_cli(
        [str(path), "--host", a.uri, "--vm", a.name, "--vm", b.name]
        + ["--var", f"peers=[{a.name}, {b.name}]"],
        tmp_path,
    )
    assert code == 0, output
    assert [t["name"] for t in report["targets"]] == [f"local/{a.name}", f"local/{b.name}"]
    assert_every_step_passed(path, report, output)
    branches = {s["branch"] for s in report["targets"][0]["steps"] if s["id"] == "3.1"}
    assert branches == {a.name, b.name}


def run_vdi_example(name: str, sim, libvirt_uri: str, tmp_path: Path) -> tuple[dict, Path]:
    path = ROOT / "examples" / name
    code, report, output = run_cli(
        [str(path), "--host", libvirt_uri, "--vdi", sim.base_url, "--vdi-user", sim.username]
        + ["--var", f"prefix={sim.prefix}ex-"],
        tmp_path,
        env={"ATP_VDI_PASSWORD": sim.password},
    )
    assert code == 0, output
    assert_every_step_passed(path, report, output)
    return report, path


def libvirt_names(uri: str, prefix: str) -> list[str]:
    import libvirt

    conn = libvirt.open(uri)
    try:
        return [d.name() for d in conn.listAllDomains(0) if d.name().startswith(prefix)]
    finally:
        conn.close()


def test_vdi_lifecycle_example(vdisim_libvirt, libvirt_uri, tmp_path):
    run_vdi_example(VDI[1], vdisim_libvirt, libvirt_uri, tmp_path)
    assert libvirt_names(libvirt_uri, f"{vdisim_libvirt.prefix}ex-") == []


def test_vdi_example_against_the_libvirt_simulator(vdisim_libvirt, libvirt_uri, tmp_path):
    report, _ = run_vdi_example(VDI[0], vdisim_libvirt, libvirt_uri, tmp_path)
    steps = report["targets"][0]["steps"]
    typed = sorted(s["branch"] for s in steps if s["id"] == "6.3")
    assert typed == [f"{vdisim_libvirt.prefix}ex-001", f"{vdisim_libvirt.prefix}ex-002"]
    # the teardown deleted the pool and its VMs
    assert libvirt_names(libvirt_uri, f"{vdisim_libvirt.prefix}ex-") == []
