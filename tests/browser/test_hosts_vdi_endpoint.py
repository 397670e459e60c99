"""In a real browser: an admin adds a VDI endpoint (the simulator over HTTP), login is tested
on save, a sync fills the VM table; the password never appears in the page. Test and sync run
as tasks on the real worker; the endpoint page shows their outcome once they are done."""

from __future__ import annotations

import pytest

from tests.fixtures.web import ARTIFACTS, browser_login, make_user
from tests.waiting import wait_for

pytestmark = pytest.mark.browser


def reload_until(page, selector: str, deadline: float = 120.0) -> None:
    """Reload the page until ``selector`` matches (the task's outcome is stored, not pushed)."""

    def shown() -> int:
        page.reload()
        return page.locator(selector).count()

    if not page.locator(selector).count():
        wait_for(shown, deadline, f"{selector!r} on the page", interval=0.5)


def test_add_vdi_endpoint_and_sync(live_server, celery_worker_process, page, vdisim_memory):
    make_user("adam", "admin")
    browser_login(page, live_server, "adam")
    page.goto(live_server + "/vdi/")
    page.get_by_role("link", name="Add endpoint").click()
    page.fill("input[name=name]", "sim")
    page.fill("input[name=url]", vdisim_memory.base_url)
    page.fill("input[name=username]", vdisim_memory.username)
    page.fill("input[name=password]", vdisim_memory.password)
    page.get_by_role("button", name="Add endpoint").click()
    reload_until(page, "text=login works")
    assert page.locator("h1 .health").inner_text() == "ok"

    page.get_by_role("button", name="Sync VMs").click()
    reload_until(page, "table.vms tr[data-vm]")
    assert page.locator("table.vms tr[data-vm]").count() > 3
    assert vdisim_memory.password not in page.content()
    page.screenshot(path=str(ARTIFACTS / "vdi-endpoint-synced.png"), full_page=True)
    page.goto(live_server + "/vdi/1/edit".replace("1", page.url.rstrip("/").rsplit("/", 1)[-1]))
    assert page.input_value("input[name=password]") == ""
