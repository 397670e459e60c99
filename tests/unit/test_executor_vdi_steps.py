"""VDI steps through the executor against the in-memory simulator: a desk pool's life, batch
power operations with wait, captures of platform data, polled platform checks; refusals and a
missing VDI endpoint are clear errors."""

from atp_core.orchestrator import VdiSettings
from tests.unit.fake_vm import run_yaml

LIFECYCLE = """
name: vdi
steps:
  - type: vdi_login
    capture: who
  - type: vdi_create_desk_pool
    name: unit-pool
    template: win10-template
    count: 2
    prefix: unit-
    capture: pool
  - type: vdi_disable_desk_pool
    pool: ${pool}
  - type: vdi_enable_desk_pool
    pool: unit-pool
  - type: vdi_get_desk_pool_domains
    pool: ${pool.id}
    capture: vms
  - type: vdi_bind_user
    domain: ${vms[0].id}
    user: alice
  - type: vdi_start_domain
    domain: ${vms}
    wait: true
  - type: verify_vdi_domains_running
    pool: unit-pool
    timeout: 10s
  - type: vdi_suspend_domain
    domain: [unit-001]
    wait: true
  - type: verify_vdi_domain_status
    domain: unit-001
    expected: suspended
    timeout: 10s
    interval: 100ms
  - type: vdi_resume_domain
    domain: unit-001
    wait: true
  - type: vdi_reboot_domain
    domain: ${vms[1].name}
    wait: true
  - type: vdi_shutdown_domain
    domain: ${vms}
    force: true
    wait: true
  - type: verify_vdi_domain_status
    domain: ${vms[1]}
    expected: "off"
    timeout: 10s
    interval: 100ms
  - type: vdi_delete_domain
    domain: ${vms[1].id}
  - type: vdi_get_desk_pool_domains
    pool: unit-pool
    capture: left
  - type: set
    values: {count_left: "${left.length}", who_name: "${who.username}"}
finally:
  - type: vdi_delete_desk_pool
    pool: unit-pool
"""


def settings(sim) -> VdiSettings:
    return VdiSettings(sim.base_url, sim.username, sim.password)


def test_desk_pool_lifecycle(vdisim_memory):
    report, events, _ = run_yaml(LIFECYCLE, vms=("",), vdi=settings(vdisim_memory))
    steps = report.targets[0].steps
    assert report.result == "passed", [(s.id, s.status, s.error) for s in steps if s.error]
    assert steps[1].output.startswith("desk pool unit-pool (")
    assert "unit-001, unit-002" in steps[4].output
    client = vdisim_memory.client()
    assert client.desk_pools.find("unit-pool") is None
    assert all(not d.name.startswith("unit-") for d in client.domains.list())
    assert events[-1].data["totals"]["passed"] == len(steps)


def test_refused_and_unknown_are_errors(vdisim_memory):
    report, _, _ = run_yaml(
        """
name: refused
defaults: {continue_on_error: true}
steps:
  - type: vdi_start_domain
    domain: no-such-vm
  - type: vdi_create_desk_pool
    name: p
    template: no-such-template
  - type: verify_vdi_domains_running
    pool: no-such-pool
    timeout: 1s
""",
        vms=("",),
        vdi=settings(vdisim_memory),
    )
    steps = report.targets[0].steps
    assert [s.status for s in steps] == ["error", "error", "error"]
    assert "refused start for no-such-vm" in steps[0].error
    assert "no template (model) called 'no-such-template'" in steps[1].error


def test_no_vdi_endpoint_is_a_clear_error():
    report, _, _ = run_yaml("name: x\nsteps:\n  - type: vdi_login\n", vms=("",))
    step = report.targets[0].steps[0]
    assert step.status == "error" and "the run has no VDI endpoint" in step.error


def test_a_vm_step_on_a_target_without_vm_names_the_fix():
    report, _, _ = run_yaml("name: x\nsteps:\n  - type: guest_ping\n", vms=("",))
    step = report.targets[0].steps[0]
    assert step.status == "error" and "give the step a 'target:'" in step.error
