"""In a real browser: an operator opens a rig VM's console from the VMs page (noVNC over the
site's websocket proxy to QEMU's VNC), types into it and presses the Ctrl+Alt+Del button (both
land in the guest's key recorder) and the Ctrl+Alt+F1 button (the guest switches to its first
virtual console), and the console closes cleanly, saying why, when the VM
stops. A viewer's console of the same VM is view only."""

import secrets

import pytest

from hosts.models import Host, VirtualMachine
from hosts.services import sync_host
from tests.fixtures.web import browser_login, in_thread, make_user
from tests.rig.protocol_helpers import poll

pytestmark = [pytest.mark.browser, pytest.mark.rig]


def _keylog(vm) -> str:
    return vm.shell("cat /tmp/keys.log 2>/dev/null; true")[1]


def _open_console(page, live_server, vm_name: str) -> None:
    page.goto(live_server + "/vms/")
    page.locator(f'tr[data-vm="{vm_name}"] a.console-link').click()
    page.wait_for_selector("#console-status[data-state=connected]", timeout=60_000)
    page.wait_for_selector("#console-screen canvas")


def test_operator_types_into_the_vm_and_the_console_ends_with_the_vm(live_server, page, rig_vm):
    host = Host.objects.create(name="local", uri=rig_vm.uri)
    assert in_thread(sync_host, host, thumbnails=False)["ok"]
    make_user("olga", "operator")
    browser_login(page, live_server, "olga")
    _open_console(page, live_server, rig_vm.name)
    mark = secrets.token_hex(3)

    page.locator("#console-screen canvas").click()
    page.keyboard.press("Enter")  # whatever an earlier test left on the recorder's line
    page.keyboard.type(f"browser{mark}", delay=40)
    page.keyboard.press("Enter")
    log = poll(lambda: _keylog(rig_vm), lambda text: f"browser{mark}" in text, timeout=60)
    assert f"browser{mark}" in log.splitlines()

    before = log.count("CTRL-ALT-DEL")
    page.get_by_role("button", name="Ctrl+Alt+Del").click()
    log = poll(lambda: _keylog(rig_vm), lambda text: text.count("CTRL-ALT-DEL") > before, 60)
    assert log.count("CTRL-ALT-DEL") == before + 1

    rig_vm.shell("chvt 2")  # away from the recorder's console; the button brings it back
    active = "cat /sys/class/tty/tty0/active"
    assert poll(lambda: rig_vm.shell(active)[1].strip(), lambda vt: vt == "tty2", 30) == "tty2"
    page.get_by_role("button", name="Ctrl+Alt+F1").click()
    assert poll(lambda: rig_vm.shell(active)[1].strip(), lambda vt: vt == "tty1", 60) == "tty1"

    rig_vm.domain.destroy()  # the pool boots it again for the next test
    page.wait_for_selector("#console-status[data-state=closed]", timeout=60_000)
    assert "not running" in page.locator("#console-status").inner_text()
    assert page.get_by_role("button", name="Reconnect").is_visible()


def test_a_viewer_watches_without_the_keys(live_server, page, rig_vm):
    host = Host.objects.create(name="local", uri=rig_vm.uri)
    assert in_thread(sync_host, host, thumbnails=False)["ok"]
    make_user("vera", "viewer")
    browser_login(page, live_server, "vera")
    _open_console(page, live_server, rig_vm.name)
    assert "view only" in page.locator("#console-status").inner_text()
    assert page.get_by_role("button", name="Ctrl+Alt+Del").count() == 0
    vm = VirtualMachine.objects.get(host=host, name=rig_vm.name)
    assert page.url.endswith(f"/vms/{vm.pk}/console")
