"""In a real browser, at desktop and phone width: the scenario library filtered by two tags
(both active in the tag cloud, both kept when searching), a bad filter value named above the
scenarios, reference images and VMs lists (their FilterSets), and the runs list filtered."""

from __future__ import annotations

import pytest

from scenarios import services
from tests.dist import factories as f
from tests.fixtures.web import ARTIFACTS, browser_login, make_user

pytestmark = pytest.mark.browser

WIDTHS = {"desktop": 1280, "phone": 390}
TEXT = "version: 1\nname: {name}\ntags: [{tags}]\nsteps:\n  - type: wait\n    duration: 1s\n"


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("width", list(WIDTHS))
def test_list_filters_in_the_browser(live_server, page, width):
    author = make_user("olga", "operator")
    for name, tags in [
        ("login-win10", "smoke, win10"),
        ("notepad", "win10"),
        ("pool-create", "vdi, smoke-test"),
    ]:
        services.create_scenario(TEXT.format(name=name, tags=tags), author)
    f.vm(f.host("rack1"), "win-1")
    page.set_viewport_size({"width": WIDTHS[width], "height": 800})
    browser_login(page, live_server, "olga")

    page.goto(live_server + "/scenarios/?tag=smoke&tag=win10")
    rows = page.locator("table.scenarios tbody tr[data-scenario]")
    assert rows.count() == 1 and rows.first.get_attribute("data-scenario") == "login-win10"
    active = page.locator("p.tags a.tag.active")
    assert sorted(active.all_inner_texts()) == ["smoke 1", "win10 2"]
    page.screenshot(path=str(ARTIFACTS / f"page-scenarios-two-tags-{width}.png"), full_page=True)
    assert _no_horizontal_scroll(page)
    page.fill("input[name=q]", "login")
    page.locator("form[role=search] button[type=submit]").click()
    page.wait_for_url("**q=login**")
    assert "tag=smoke" in page.url and "tag=win10" in page.url  # the search keeps both tags
    assert page.locator("tr[data-scenario]").count() == 1

    page.goto(live_server + "/scenarios/?archived=maybe&tag=vdi")
    assert "archived: 'maybe' is not one of" in page.locator("#filter-errors").inner_text()
    assert page.locator("tr[data-scenario]").all_inner_texts()[0].startswith("pool-create")
    page.screenshot(path=str(ARTIFACTS / f"page-scenarios-bad-filter-{width}.png"), full_page=True)
    assert _no_horizontal_scroll(page)

    page.goto(live_server + "/vms/?source=cloud")
    assert (
        "source: 'cloud' is not one of libvirt, vdi" in page.locator("#filter-errors").inner_text()
    )
    assert page.locator("tr[data-vm=win-1]").count() == 1  # the bad filter only is left out
    page.screenshot(path=str(ARTIFACTS / f"page-vms-bad-filter-{width}.png"), full_page=True)

    page.goto(live_server + "/references/?tag=" + "x" * 70)
    assert "at most 64" in page.locator("#filter-errors").inner_text()
    page.screenshot(path=str(ARTIFACTS / f"page-references-bad-filter-{width}.png"), full_page=True)
    assert _no_horizontal_scroll(page)
