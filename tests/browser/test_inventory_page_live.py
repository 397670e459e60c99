"""In a real browser: log in, see the rig VM running, ping its agent, see the result arrive live."""

import pytest

from hosts.models import Host
from hosts.services import sync_host
from tests.fixtures.web import browser_login, make_user

pytestmark = [pytest.mark.browser, pytest.mark.rig]


def test_ping_result_arrives_without_reload(live_server, celery_worker_process, page, rig_vm):
    host = Host.objects.create(name="local", uri=rig_vm.uri)
    assert sync_host(host, thumbnails=False)["ok"]  # the page shows what the sync stored
    make_user("bob", "operator")
    browser_login(page, live_server, "bob")
    page.goto(live_server + "/hosts/")
    row = page.locator(f'tr[data-vm="{rig_vm.name}"]')
    assert row.locator(".state").inner_text() == "running"
    page.wait_for_selector("#ws-status[data-state=open]")
    page.evaluate("window.__marker = 'same page'")

    row.get_by_role("button", name="Ping agent").click()

    page.wait_for_function(
        f"""document.querySelector('tr[data-vm="{rig_vm.name}"] .ping-result')
             .textContent.startsWith('ok (')""",
        timeout=60_000,
    )
    assert page.evaluate("window.__marker") == "same page"
