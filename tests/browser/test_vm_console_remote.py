"""In a real browser: an operator opens the console of a VM on a remote libvirt host (the rig's
atp-rh1 over qemu+tls) from the VMs page and types into it. QEMU there listens for VNC on the
host's address with a password; the site's proxy answers the password challenge, so the page
connects without asking for one (docs/console.md "Remote hosts")."""

import secrets

import pytest

from hosts.services import add_host, sync_host
from tests.browser.test_vm_console_takeover import _keylog, _open_console
from tests.fixtures.web import ARTIFACTS, browser_login, in_thread, make_user
from tests.rig.protocol_helpers import poll

pytestmark = [pytest.mark.browser, pytest.mark.rig]


def test_operator_types_into_a_remote_hosts_vm(live_server, page, remote_vms, remote_hosts):
    guest, rig_host = remote_vms[0], remote_hosts[0]
    host = add_host(f"{rig_host.name}-tls", rig_host.tls_uri, slots=1, tags=["remote"])
    assert in_thread(sync_host, host, thumbnails=False)["ok"]
    make_user("olga", "operator")
    browser_login(page, live_server, "olga")
    _open_console(page, live_server, guest.name)
    mark = secrets.token_hex(3)

    page.locator("#console-screen canvas").click()
    page.keyboard.press("Enter")
    page.keyboard.type(f"remote{mark}", delay=40)
    page.keyboard.press("Enter")
    log = poll(lambda: _keylog(guest), lambda text: f"remote{mark}" in text, timeout=60)
    assert f"remote{mark}" in log.splitlines()
    page.screenshot(path=str(ARTIFACTS / "vm-console-remote.png"), full_page=True)
