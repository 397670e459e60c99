"""In a real browser: the trends page shows the window's failed runs per scenario split by
failure label, with the counts and a bar of the split."""

import pytest

from tests.fixtures.web import browser_login, in_thread, make_user
from tests.web.test_trends_by_label import labelled_failures

pytestmark = pytest.mark.browser


def test_trends_split_by_label(live_server, page):
    user = make_user("olga", "operator")
    in_thread(labelled_failures, user)
    browser_login(page, live_server, "olga")
    page.locator(".mainnav").get_by_role("link", name="Trends", exact=True).click()
    card = page.locator("#by-label")
    heads = card.locator("thead th").all_inner_texts()
    assert heads == [
        "Scenario",
        "failed runs",
        "product bug",
        "test bug",
        "infrastructure",
        "not labelled",
        "split",
    ]
    login = card.locator("tr[data-scenario=login]").inner_text().split("\t")
    assert login[:6] == ["login", "3", "0", "1", "1", "1"]
    total = card.locator("tr.total-row").inner_text().split("\t")
    assert total[:6] == ["all scenarios", "4", "1", "1", "1", "1"]
    bar = card.locator("tr[data-scenario=login] .label-split span")
    assert bar.count() == 3 and bar.first.bounding_box()["width"] > 50
    card.screenshot(path="test-artifacts/trends-by-label.png")
