"""ConnectionPool on the local libvirtd: strategies with real in-use accounting, idle timeout,
metrics that move."""

import threading

import pytest

from atp_core.errors import InvalidInput
from atp_core.transport import ConnectionConfig, ConnectionPool, ConnectionState
from tests.rig.libvirt_proxy import LibvirtProxy
from tests.waiting import wait_for

LOST = ConnectionState.DISCONNECTED

pytestmark = pytest.mark.rig


@pytest.fixture
def proxy(libvirt_uri):
    p = LibvirtProxy()
    yield p
    p.close()


def test_least_connections_uses_in_use_counts(libvirt_uri):
    pool = ConnectionPool(libvirt_uri, min_size=1, max_size=3, strategy="least_connections").open()
    try:
        with pool.acquire() as a:
            assert pool.metrics().in_use == 1
            with pool.acquire() as b:
                assert b is not a  # a is busy: a second connection is opened
                with pool.acquire() as c:
                    assert c not in (a, b)
                    m = pool.metrics()
                    assert (m.total, m.in_use) == (3, 3)
                    with pool.acquire() as d:  # at max: shares the least used one
                        assert d in (a, b, c)
                        assert pool.metrics().in_use == 4
            assert pool.metrics().in_use == 1
            # a is still held; b and c are free, so the next borrower gets one of them
            with pool.acquire() as e:
                assert e in (b, c)
        assert pool.metrics().in_use == 0
        # everything free: the least used is picked, no new connection
        with pool.acquire():
            assert pool.metrics().total == 3
    finally:
        pool.close()


def test_in_use_counts_across_threads(libvirt_uri):
    pool = ConnectionPool(libvirt_uri, min_size=1, max_size=2, strategy="least_connections").open()
    inside = threading.Barrier(3)
    leave = threading.Event()

    def borrower():
        with pool.acquire() as conn:
            conn.call(lambda c: c.getLibVersion())
            inside.wait(10)
            leave.wait(10)

    threads = [threading.Thread(target=borrower) for _ in range(2)]
    try:
        for t in threads:
            t.start()
        inside.wait(10)
        m = pool.metrics()
        assert (m.in_use, m.total) == (2, 2)
        leave.set()
        for t in threads:
            t.join(10)
        assert pool.metrics().in_use == 0
        assert pool.metrics().calls == 2
    finally:
        leave.set()
        pool.close()


def test_round_robin_cycles(libvirt_uri):
    pool = ConnectionPool(libvirt_uri, min_size=3, max_size=3, strategy="round_robin").open()
    try:
        seen = []
        for _ in range(6):
            with pool.acquire() as conn:
                seen.append(id(conn))
        assert len(set(seen)) == 3 and seen[:3] == seen[3:]
    finally:
        pool.close()


def test_random_spreads_over_the_pool(libvirt_uri):
    pool = ConnectionPool(libvirt_uri, min_size=3, max_size=3, strategy="random").open()
    try:
        seen = set()
        for _ in range(60):
            with pool.acquire() as conn:
                seen.add(id(conn))
        assert len(seen) == 3  # (1/3)^60-ish chance of missing one
    finally:
        pool.close()


def test_metrics_move(proxy):
    config = ConnectionConfig(heartbeat_interval=0, reconnect_base=0.05, jitter=0)
    pool = ConnectionPool(proxy.uri, min_size=1, max_size=2, config=config).open()
    try:
        m = pool.metrics()
        assert (m.total, m.in_use, m.calls, m.failures, m.reconnects) == (1, 0, 0, 0, 0)
        for _ in range(5):
            assert pool.call(lambda c: c.getLibVersion()) > 0
        m = pool.metrics()
        assert m.calls == 5 and m.average_call_ms > 0
        proxy.drop()
        wait_for(lambda: pool.primary().state == LOST, 30, "the pool to see the drop")
        assert pool.call(lambda c: c.getLibVersion()) > 0
        m = pool.metrics()
        assert m.reconnects == 1 and m.calls == 6
        proxy.refuse = True
        proxy.drop()
        wait_for(lambda: pool.primary().state == LOST, 30, "the pool to see the drop")
        with pytest.raises(Exception, match="reconnect failed"):
            pool.call(lambda c: c.getLibVersion())
        assert pool.metrics().failures == config.reconnect_attempts
        assert pool.metrics().in_use == 0  # released even though the call failed
    finally:
        pool.close()


def test_idle_connections_above_the_minimum_are_closed(libvirt_uri):
    config = ConnectionConfig(idle_timeout=0.3, heartbeat_interval=0)
    pool = ConnectionPool(
        libvirt_uri, min_size=1, max_size=3, strategy="least_connections", config=config
    ).open()
    try:
        first = pool.primary()
        with pool.acquire(), pool.acquire(), pool.acquire():
            assert pool.metrics().total == 3

        def idle_closed():  # an acquire closes the connections idle past idle_timeout
            with pool.acquire() as conn:
                return pool.metrics().total == 1 and conn

        conn = wait_for(idle_closed, 30, "two idle connections to be closed", interval=0.1)
        assert conn is first and conn.is_alive()  # the minimum kept
    finally:
        pool.close()


def test_bad_settings_are_refused(libvirt_uri):
    with pytest.raises(InvalidInput, match="allowed round_robin, least_connections, random"):
        ConnectionPool(libvirt_uri, strategy="fastest")
    with pytest.raises(InvalidInput, match=r"need 1 <= min \(3\) <= max \(2\)"):
        ConnectionPool(libvirt_uri, min_size=3, max_size=2)
