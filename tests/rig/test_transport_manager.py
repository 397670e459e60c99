"""TransportManager on the local libvirtd: hosts by name, per-host results in input order,
a concurrency bound, and the caller's settings used as given."""

import threading
import time

import libvirt
import pytest

from atp_core.errors import ConnectionFailed, InfrastructureError, InvalidInput
from atp_core.transport import ConnectionConfig, TransportManager

pytestmark = pytest.mark.rig

BOGUS = "qemu+unix:///system?socket=/nonexistent/libvirt-sock"


@pytest.fixture
def manager():
    m = TransportManager(ConnectionConfig(heartbeat_interval=0, reconnect_attempts=1))
    yield m
    m.close()


def test_add_host_connects_now_or_reports_why(manager, libvirt_uri):
    pool = manager.add_host("local", libvirt_uri)
    assert pool.metrics().total == 1 and pool.primary().is_alive()
    with pytest.raises(ConnectionFailed, match="/nonexistent/libvirt-sock"):
        manager.add_host("bogus", BOGUS)
    assert manager.hosts() == ["local"]  # a host that failed to add is not registered


def test_execute_on_hosts_keeps_input_order_with_results_and_errors(manager, libvirt_uri):
    manager.add_host("a", libvirt_uri)
    manager.add_host("b", libvirt_uri)
    manager.add_host("bogus", BOGUS, wait=False)

    def slow_uri(conn: libvirt.virConnect) -> str:
        # the first host answers last: order must come from the input, not completion
        time.sleep(0.6 if conn is manager.connection("a").get() else 0.0)
        return conn.getURI()

    names = ["a", "bogus", "b", "unknown"]
    results = manager.execute_on_hosts(names, slow_uri, max_concurrency=4)
    assert [r.host for r in results] == names
    assert [r.ok for r in results] == [True, False, True, False]
    assert results[0].value == libvirt_uri and results[2].value == libvirt_uri
    assert isinstance(results[1].error, ConnectionFailed)
    assert "/nonexistent/libvirt-sock" in str(results[1].error)
    assert isinstance(results[3].error, InvalidInput)
    assert "unknown host 'unknown'" in str(results[3].error)


def test_an_error_inside_fn_is_that_host_s_error(manager, libvirt_uri):
    manager.add_host("a", libvirt_uri)
    manager.add_host("b", libvirt_uri)
    results = manager.execute_on_hosts(
        ["a", "b"], lambda c: c.lookupByName("atp-hp-no-such-domain").name()
    )
    assert [r.ok for r in results] == [False, False]
    # not a connection problem: the host answered, the domain is missing
    assert not isinstance(results[0].error, ConnectionFailed)
    assert isinstance(results[0].error, InfrastructureError)
    assert "atp-hp-no-such-domain" in str(results[0].error)

    def buggy(_conn):
        raise ValueError("bug in the caller's function")

    results = manager.execute_on_hosts(["a", "b"], buggy)
    assert [type(r.error) for r in results] == [ValueError, ValueError]


def test_concurrency_bound(manager, libvirt_uri):
    names = [f"h{i}" for i in range(6)]
    for name in names:
        manager.add_host(name, libvirt_uri)
    lock = threading.Lock()
    current = peak = 0

    def work(conn):
        nonlocal current, peak
        with lock:
            current += 1
            peak = max(peak, current)
        time.sleep(0.2)  # the call holds its slot a while, so the bound can be seen
        with lock:
            current -= 1
        return conn.getLibVersion()

    results = manager.execute_on_hosts(names, work, max_concurrency=2)
    assert all(r.ok for r in results)
    assert peak == 2
    with pytest.raises(InvalidInput, match="max_concurrency must be at least 1"):
        manager.execute_on_hosts(names, work, max_concurrency=0)


def test_caller_settings_are_honoured(libvirt_uri):
    default = ConnectionConfig(connect_timeout=7, heartbeat_interval=0, reconnect_attempts=2)
    mine = ConnectionConfig(connect_timeout=3, heartbeat_interval=0, reconnect_base=0.01)
    manager = TransportManager(default)
    try:
        pool = manager.add_host(
            "x", libvirt_uri, mine, pool_min=2, pool_max=5, strategy="least_connections"
        )
        assert pool.config is mine
        assert (pool.min_size, pool.max_size, pool.strategy) == (2, 5, "least_connections")
        assert pool.metrics().total == 2
        assert manager.connection("x").config is mine
        other = manager.add_host("y", libvirt_uri)
        assert other.config is default and manager.connection("y").config is default
    finally:
        manager.close()


def test_replace_and_remove_hosts(manager, libvirt_uri):
    old = manager.add_host("a", libvirt_uri)
    old_conn = old.primary()
    new = manager.add_host("a", libvirt_uri)
    assert manager.pool("a") is new and not old_conn.is_alive()  # the old pool was closed
    manager.remove_host("a")
    assert manager.hosts() == []
    with pytest.raises(InvalidInput, match=r"unknown host 'a' \(known: none\)"):
        manager.execute_on_host("a", lambda c: c.getURI())


def test_metrics_per_host(manager, libvirt_uri):
    manager.add_host("a", libvirt_uri)
    for _ in range(3):
        manager.execute_on_host("a", lambda c: c.getLibVersion())
    metrics = manager.metrics()
    assert list(metrics) == ["a"] and metrics["a"].calls == 3
