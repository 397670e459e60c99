"""In a real browser: the navigation's Matrix shows scenarios × builds with each cell's newest
result; a cell opens its run, the count opens the runs of that build; × hosts shows the targets
of one build by host."""

import pytest

from tests.fixtures.web import browser_login, in_thread, make_user
from tests.web.test_runs_builds_matrix import _runs_of_builds

pytestmark = pytest.mark.browser


def test_matrix_by_builds_and_by_hosts(live_server, page):
    user = make_user("vera", "viewer")
    made = in_thread(_runs_of_builds, user)
    browser_login(page, live_server, "vera")
    page.get_by_role("link", name="Matrix").click()
    page.wait_for_url(f"{live_server}/runs/matrix")
    table = page.locator("#matrix")
    heads = table.locator("thead th").all_inner_texts()
    assert heads == ["scenario", "4.2", "4.1"]
    login = table.locator("tr[data-scenario=login]")
    assert login.locator("td[data-column='4.2'] .badge").inner_text() == "passed"
    assert login.locator("td[data-column='4.2'] .matrix-count").inner_text() == (
        "2 runs: 1 passed, 1 failed"
    )
    desk = table.locator("tr[data-scenario=desktop]")
    assert desk.locator("td[data-column='4.2'] .badge").inner_text() == "failed"
    assert desk.locator("td[data-column='4.1']").inner_text().strip() == "—"
    page.screenshot(path="test-artifacts/matrix-builds.png", full_page=True)

    desk.locator("td[data-column='4.2'] .badge").click()
    page.wait_for_url(f"{live_server}/runs/{made['desk-4.2'].pk}/")
    assert page.locator("#run-build").inner_text() == "4.2"
    page.go_back()
    login.locator("td[data-column='4.2'] .matrix-count").click()
    page.wait_for_url("**/runs/?scenario=login&build=4.2")
    rows = page.locator("#runs-table tbody tr")
    assert rows.count() == 2
    assert page.locator("#run-filters input[name=build]").input_value() == "4.2"

    page.goto(f"{live_server}/runs/matrix")
    page.locator("#by-host").click()
    page.locator("#matrix-build").select_option("4.2")
    page.wait_for_url("**/runs/matrix?by=host&build=4.2")
    heads = page.locator("#matrix thead th").all_inner_texts()
    assert heads == ["scenario", "local", "rack2"]
    desk = page.locator("#matrix tr[data-scenario=desktop]")
    assert desk.locator("td[data-column=local] .badge").inner_text() == "failed"
    assert desk.locator("td[data-column=rack2] .badge").inner_text() == "passed"
    page.screenshot(path="test-artifacts/matrix-hosts.png", full_page=True)
