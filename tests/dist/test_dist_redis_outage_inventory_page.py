"""A Redis outage under a daphne serving an open inventory page (our own redis-server, stopped
and started again): daphne logs one warning when its channel layer loses Redis and one line
when it is back, no traceback; the page's websocket stays open, and what changed during the
outage (a guest-agent ping stored while its broadcast was lost) reaches the page: the layer
tells the page to re-read its state, and it converges."""

import time

import pytest

from hosts import services
from hosts.models import AgentPing, Host
from tests.dist.conftest import wait_for
from tests.fixtures.web import (
    ARTIFACTS,
    _child_env,
    browser_login,
    make_user,
    start_daphne,
    stop_process,
)

pytestmark = [pytest.mark.redis, pytest.mark.browser]

LOG = "daphne-redis-outage-inventory"


def test_an_outage_is_two_log_lines_and_the_inventory_page_converges(
    transactional_db, own_redis, page
):
    host = Host.objects.create(name="local", uri="test:///default")
    assert services.sync_host(host, thumbnails=False)["ok"], host.last_error
    vm = host.vms.get(name="test")  # the libvirt test driver's domain
    make_user("olga", "operator")

    log_path = ARTIFACTS / f"{LOG}.log"
    start = log_path.stat().st_size if log_path.exists() else 0
    daphne, base = start_daphne({**_child_env(), "REDIS_URL": own_redis.url}, log_name=LOG)
    try:
        browser_login(page, base, "olga")
        page.goto(base + "/hosts/")
        page.wait_for_selector('#ws-status[data-state="open"]', timeout=30_000)
        cell = page.locator('section[data-host="local"] tr[data-vm="test"] .ping-result')
        assert cell.inner_text() == "—"

        own_redis.stop()
        # a ping finishes while Redis is away: stored, its broadcast lost
        AgentPing.objects.create(vm=vm, ok=True, latency_ms=12.5)
        time.sleep(4)  # daphne's layer retries every second meanwhile
        own_redis.start()

        cell.filter(has_text="ok (12.5 ms)").wait_for(timeout=60_000)
        page.screenshot(path=str(ARTIFACTS / "inventory-after-redis-outage.png"), full_page=True)
        assert page.locator("#ws-status").get_attribute("data-state") == "open"

        def logged() -> str:
            return log_path.read_bytes()[start:].decode(errors="replace")

        wait_for(lambda: "is back after" in logged(), 30, "daphne's line that Redis is back")
        text = logged()
        assert text.count("channel layer: lost Redis") == 1, text
        assert text.count("is back after") == 1, text
        assert "Traceback" not in text and "Unexpected exception" not in text, text
    finally:
        page.goto("about:blank")  # no reconnecting page once daphne is gone
        stop_process(daphne)
