"""In a real browser, as an admin (the longest navigation: 14 links): the nav's search field
keeps a usable width at laptop (1280 px), narrow desktop (1024 px) and phone (390 px) widths,
sits inside the window, overlaps no link, every link shows, and the page does not scroll
sideways; typing in it and pressing Enter opens the search."""

from __future__ import annotations

import pytest

from tests.fixtures.web import ARTIFACTS, browser_login, make_user

pytestmark = pytest.mark.browser

WIDTHS = {"laptop": 1280, "narrow": 1024, "phone": 390, "wide": 1920}
MIN_SEARCH_WIDTH = 120  # "Search runs" and a few typed characters show


def _overlaps(a: dict, b: dict) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_nav_search_keeps_its_width(live_server, page, width):
    make_user("ada", "admin")
    page.set_viewport_size({"width": WIDTHS[width], "height": 800})
    browser_login(page, live_server, "ada")
    page.goto(live_server + "/capacity/")
    search = page.locator(".nav-search input[name=find]")
    box = search.bounding_box()
    page.screenshot(path=str(ARTIFACTS / f"nav-search-{width}.png"))
    assert box["width"] >= MIN_SEARCH_WIDTH, box
    assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTHS[width], box
    links = page.locator("nav.mainnav > a")
    assert links.count() == 14
    for i in range(links.count()):
        link = links.nth(i).bounding_box()
        assert link and link["width"] > 0 and link["x"] + link["width"] <= WIDTHS[width]
        assert not _overlaps(link, box), (links.nth(i).inner_text(), link, box)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    search.fill("ATP-1")
    search.press("Enter")
    page.wait_for_url("**/search?find=ATP-1")
    assert page.locator("h1").count() == 1
