"""Session-wide fixtures: the rig's guests, Redis, PostgreSQL.

Rig guests are named ``$ATP_RIG_PREFIX<n>`` (default ``atp-test-``); ``$ATP_RIG_VMS`` of them
(default 2) boot on first use and are destroyed at the end of the session. One desktop guest,
``$ATP_RIG_PREFIXdesktop``, boots on first use of ``desktop_vm``/``desktop_session``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.prereq import require, tcp_port_open  # noqa: E402

pytest_plugins = ["tests.fixtures.vdi", "tests.fixtures.web"]

RIG_PREFIX = os.environ.get("ATP_RIG_PREFIX", "atp-test-")
RIG_SIZE = int(os.environ.get("ATP_RIG_VMS", "2"))


@pytest.fixture(scope="session")
def libvirt_uri() -> str:
    from tests.vm_pool import LIBVIRT_URI, libvirtd_reachable

    require(libvirtd_reachable(), f"libvirtd at {LIBVIRT_URI} (run rig/start-daemons.sh)")
    return LIBVIRT_URI


@pytest.fixture(scope="session")
def vm_pool(libvirt_uri):
    """Boots the session's guests once; tests borrow them through ``rig_vm``/``rig_vms``."""
    from tests.vm_pool import VmPool, guest_built

    require(guest_built(), "the test guest (run guest/build.sh)")
    pool = VmPool(RIG_SIZE, RIG_PREFIX, libvirt_uri)
    pool.boot()
    yield pool
    pool.close()


@pytest.fixture
def rig_vm(vm_pool):
    """One booted guest with a live agent, for this test alone."""
    with vm_pool.lend(1) as vms:
        yield vms[0]


@pytest.fixture
def rig_vms(vm_pool):
    """Every guest of the pool, for tests that need several."""
    with vm_pool.lend(len(vm_pool.vms)) as vms:
        yield vms


@pytest.fixture(scope="session")
def desktop_guest(libvirt_uri):
    """The session's one desktop guest (SPICE, Xorg, xdm), booted once."""
    from tests.vm_pool import DesktopVm, desktop_built

    require(desktop_built(), "the desktop guest (run guest/build-desktop.sh)")
    import libvirt

    conn = libvirt.open(libvirt_uri)
    vm = DesktopVm(f"{RIG_PREFIX}desktop", libvirt_uri, conn)
    vm.boot()
    yield vm
    vm.remove()
    conn.close()


@pytest.fixture
def desktop_vm(desktop_guest):
    """The desktop guest at its login screen (any session ended)."""
    desktop_guest.to_greeter()
    return desktop_guest


@pytest.fixture
def desktop_session(desktop_guest):
    """The desktop guest logged in as atp, with the key recorder's terminal mapped."""
    desktop_guest.log_in()
    return desktop_guest


@pytest.fixture(scope="session")
def remote_hosts():
    """The rig's two remote libvirt hosts (rig/remote-hosts.sh), tcp, ssh and tls answering."""
    from tests.remote_hosts import HOSTS_FILE, answers, load_remote_hosts

    hosts = load_remote_hosts()
    require(len(hosts) >= 2, f"the remote libvirt hosts ({HOSTS_FILE}; run rig/remote-hosts.sh)")
    for host in hosts:
        host.link_up()  # an interrupted earlier session may have left a link down
        require(
            bool(host.tls_uri), f"qemu+tls on remote host {host.name} (see rig/remote-hosts.sh)"
        )
        for uri in (host.tcp_uri, host.ssh_uri, host.tls_uri):
            require(answers(uri), f"remote libvirt host {host.name} at {uri}")
    return hosts


@pytest.fixture(scope="session")
def remote_vm_pools(remote_hosts):
    """One booted text guest on each remote host (defined over qemu+tcp), for the session.

    Their VNC listens on the host's own address with a password of the session
    (``vm.domain_options["vnc_password"]``), as a lab's remote console needs
    (docs/console.md)."""
    import secrets

    from guest.domain import define_guest
    from tests.vm_pool import VmPool, guest_built

    require(guest_built(), "the test guest (run guest/build.sh)")
    pools = [
        VmPool(
            1,
            f"{RIG_PREFIX}r{i}-",
            h.tcp_uri,
            vnc_listen=h.address,
            vnc_password=secrets.token_hex(4),
        )
        for i, h in enumerate(remote_hosts, 1)
    ]
    for pool in pools:  # both boot at once
        for vm in pool.vms:
            vm.remove()
            define_guest(pool.conn, vm.name, **vm.domain_options).create()
    for pool in pools:
        for vm in pool.vms:
            vm.wait_agent()
    yield pools
    for pool in pools:
        pool.close()


@pytest.fixture
def remote_vms(remote_vm_pools):
    """The remote hosts' guests (one each, booted, agent answering), in remote_hosts order."""
    import contextlib

    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(pool.lend(1))[0] for pool in remote_vm_pools]


@pytest.fixture
def remote_host_records(db, remote_hosts):
    """The remote hosts registered as Host rows: ``<name>-tcp``, ``-ssh`` and ``-tls`` each."""
    from hosts.services import add_host

    return {
        f"{host.name}-{transport}": add_host(
            f"{host.name}-{transport}", host.uri(transport), slots=2, tags=["remote", transport]
        )
        for host in remote_hosts
        for transport in ("tcp", "ssh", "tls")
    }


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("ATP_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    require(tcp_port_open("127.0.0.1", 6379), "Redis on 127.0.0.1:6379")
    return url


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    require(tcp_port_open("127.0.0.1", 5432), "PostgreSQL on 127.0.0.1:5432")
    return True


def pytest_collection_modifyitems(config, items):
    """Browser tests run last.

    Playwright's sync API keeps an event loop running in the main thread for as long as the
    session-wide browser lives, and ``async_to_sync`` (Channels, Celery tasks run inline)
    refuses to run beside it; so every test that does not need the browser runs first.
    """
    needs_browser = [item for item in items if "browser" in getattr(item, "fixturenames", ())]
    others = [item for item in items if "browser" not in getattr(item, "fixturenames", ())]
    items[:] = others + needs_browser


def pytest_runtest_setup(item):
    """The guard of that order: a test without the browser that would run once the browser has
    started (another plugin reordered the tests) fails with the reason, not an obscure
    "You cannot use AsyncToSync in the same thread as an async event loop"."""
    from tests.fixtures.web import browser_order_problem

    problem = browser_order_problem(getattr(item, "fixturenames", ()))
    if problem:
        pytest.fail(f"{item.nodeid}: {problem}", pytrace=False)


@pytest.fixture(autouse=True)
def _fresh_live_view_memos():
    """Each test starts with no run kept by the live view's writer (``runs.live_updates``):
    a test database gives the next test's run the same id, which no real database does."""
    yield
    live_updates = sys.modules.get("runs.live_updates")
    if live_updates is not None:
        with live_updates._MEMOS_LOCK:
            live_updates._MEMOS.clear()
