"""A desk pool of the VDI simulator spread over three libvirt hosts (the local libvirtd and the
rig's two remote ones) runs as ONE run with one part per host, each on its host's worker: the
simulator places the 4 desks over the hosts and names each desk's host, the endpoint sync maps
every desk to its registered Host, the pool's desks are the run's targets, every desk is
started through the platform, typed into and verified (the bench's scenario,
bench/p7_sixteen_desks.yaml), the event stream has no gap, and
deleting the pool removes every desk from every host. (The 16-desk run: bench/p7_sixteen_desks.py.)
"""

from __future__ import annotations

import pytest

from hosts import vdi as vdi_endpoints
from hosts.models import VirtualMachine
from hosts.services import add_host
from runs.models import Run
from runs.services import launch_run
from scenarios.services import create_scenario
from tests.dist.conftest import assert_full_event_sequence, wait_for
from tests.fixtures.web import ROOT
from tests.fixtures.vdi import VDI_TEST_PREFIX, SimProcess, _remove_prefixed_domains, VdiSim

pytestmark = [pytest.mark.rig, pytest.mark.redis, pytest.mark.long_once, pytest.mark.timeout(1500)]

PREFIX = f"{VDI_TEST_PREFIX}mh-"
POOL = "mh-pool"
DESKS = 4

# the scenario of the 16-desk bench, as it is (its own targets name another pool)
SCENARIO = ROOT / "bench" / "p7_sixteen_desks.yaml"


@pytest.fixture
def three_host_sim(libvirt_uri, remote_hosts, tmp_path):
    """The libvirt-backed simulator over the local libvirtd and both remote hosts (one platform
    host each, named by default: the local hostname and each remote's address)."""
    from tests.vm_pool import guest_built
    from tests.prereq import require

    require(guest_built(), "the test guest (run guest/build.sh)")
    uris = [libvirt_uri, *(h.tcp_uri for h in remote_hosts[:2])]
    for uri in uris:
        _remove_prefixed_domains(uri, PREFIX)
    args = ["--backend", "libvirt", "--prefix", PREFIX]
    for uri in uris:
        args += ["--libvirt-uri", uri]
    proc = SimProcess(args, tmp_path / "vdisim.log")
    try:
        proc.wait_ready()
        sim = VdiSim(proc.base_url, "libvirt", prefix=PREFIX)
        yield sim, uris
        sim.close_clients()
    finally:
        proc.stop()
        for uri in uris:
            _remove_prefixed_domains(uri, PREFIX)


def _names_on(uri: str) -> list[str]:
    import libvirt

    conn = libvirt.open(uri)
    try:
        return sorted(d.name() for d in conn.listAllDomains(0) if d.name().startswith(PREFIX))
    finally:
        conn.close()


def test_a_desk_pool_on_three_hosts_runs_as_one_run_with_a_part_per_host(
    dist_processes, three_host_sim, remote_hosts
):
    sim, (local_uri, rh1_uri, rh2_uri) = three_host_sim
    hosts = {
        "local": add_host("local", local_uri, slots=4),
        remote_hosts[0].name: add_host(remote_hosts[0].name, rh1_uri, slots=4),
        remote_hosts[1].name: add_host(remote_hosts[1].name, rh2_uri, slots=4),
    }
    endpoint = vdi_endpoints.add_endpoint(
        "mh-sim", sim.base_url, sim.username, sim.password, name_prefix=PREFIX
    )
    client = sim.client(timeout=30)
    platform_hosts = {h.id: h for h in client.hosts.all()}
    assert len(platform_hosts) == 3, platform_hosts
    template = client.models.find("atp-test-guest")
    client.events.wait(
        client.desk_pools.create(POOL, DESKS, template.id, domain_prefix=PREFIX), timeout=120
    )
    pool = client.desk_pools.find(POOL)
    desks = sorted(client.desk_pools.domains(pool.id), key=lambda d: d.name)
    assert [d.name for d in desks] == [f"{PREFIX}{i:03d}" for i in range(1, DESKS + 1)]
    # the fewest-first placement: 2 + 1 + 1, each desk on the libvirt host its record names
    placed = {uri: _names_on(uri) for uri in (local_uri, rh1_uri, rh2_uri)}
    assert sorted(len(v) for v in placed.values()) == [1, 1, 2], placed
    ip_of = {local_uri: "127.0.0.1", rh1_uri: remote_hosts[0].address}
    ip_of[rh2_uri] = remote_hosts[1].address
    for d in desks:
        (uri,) = [u for u, names in placed.items() if d.name in names]
        assert platform_hosts[d.host_id].ip == ip_of[uri], (d.name, d.host_id, uri)
        assert d.host_name == platform_hosts[d.host_id].name

    synced = vdi_endpoints.sync_endpoint(endpoint)
    assert synced["ok"] and synced["vms"] == DESKS and synced["on_hosts"] == DESKS, synced
    by_host = {
        vm.name: vm.host.name
        for vm in VirtualMachine.objects.filter(desk_pool=POOL).select_related("host")
    }
    for uri, names in placed.items():
        host_name = next(n for n, h in hosts.items() if h.uri == uri)
        assert all(by_host[n] == host_name for n in names), (by_host, placed)

    for name in hosts:
        dist_processes.worker(f"mh-{name}", f"host.{name}")
    scenario = create_scenario(SCENARIO.read_text(), None)
    scenario.refresh_from_db()
    run = launch_run(
        scenario.current_revision,
        [{"desk_pool": POOL}],
        {},
        None,
        vdi_endpoint=endpoint.name,
    )
    assert run.run_targets.count() == DESKS
    parts = {p.host_name: p for p in run.parts.all()}
    assert set(parts) == set(hosts), parts
    wait_for(lambda: Run.objects.get(pk=run.pk).state == "finished", 900, "the run to end")
    run.refresh_from_db()
    assert run.result == "passed", (run.result, run.reason)
    for part in run.parts.all():
        assert (part.state, part.result) == ("finished", "passed"), part.host_name
        assert part.worker.startswith(f"mh-{part.host_name}@"), (part.host_name, part.worker)
    for target in run.run_targets.select_related("host", "part"):
        assert target.result == "passed", (target.name, target.result)
        assert target.part.host_name == target.host.name == by_host[target.vm_name]
    for kind in ("vdi_start_domain", "send_text", "verify_input", "verify_command"):
        done = run.steps.filter(type=kind, status="passed").count()
        assert done == DESKS, (kind, done)
    types = [t for _, t in assert_full_event_sequence(run.pk)]  # 0 lost events
    assert types.count("part_finished") == len(hosts), types

    client.desk_pools.delete(pool.id)
    assert [_names_on(uri) for uri in (local_uri, rh1_uri, rh2_uri)] == [[], [], []]
    assert client.desk_pools.find(POOL) is None
