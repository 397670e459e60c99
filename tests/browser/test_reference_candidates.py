"""In a real browser: an operator adds a candidate image to a reference on its page, sees it
listed beside the reference's own image, and removes it."""

from __future__ import annotations

import pytest
from PIL import Image

from scenarios import services
from scenarios.models import ReferenceCandidate
from tests.fixtures.web import ARTIFACTS, browser_login, make_user

pytestmark = pytest.mark.browser

AREA = [{"x": 40, "y": 30, "width": 120, "height": 60, "type": "match"}]


def _shot(path, colour) -> bytes:
    Image.new("RGB", (400, 300), colour).save(path)
    return path.read_bytes()


def test_add_and_remove_a_candidate_on_the_reference_page(live_server, page, tmp_path):
    user = make_user("olga", "operator")
    services.save_reference_image(
        name="login-box", png=_shot(tmp_path / "own.png", "navy"), areas=AREA, user=user
    )
    _shot(tmp_path / "dark.png", "black")
    browser_login(page, live_server, "olga")
    page.goto(live_server + "/references/login-box/")
    candidates = page.locator("#candidates")
    assert candidates.locator("figure").count() == 1  # the reference's own image

    page.fill("#candidate-form input[name=label]", "dark-theme")
    page.set_input_files("#candidate-form input[name=image]", str(tmp_path / "dark.png"))
    page.get_by_role("button", name="Add candidate").click()
    page.wait_for_url(live_server + "/references/login-box/")
    assert "Added candidate dark-theme to login-box" in page.content()
    figure = candidates.locator("figure[data-candidate=dark-theme]")
    assert "400×300" in figure.inner_text()
    page.wait_for_function(
        "document.querySelector('figure[data-candidate=dark-theme] img').naturalWidth === 400"
    )
    page.screenshot(path=str(ARTIFACTS / "reference-candidates.png"), full_page=True)
    assert ReferenceCandidate.objects.filter(label="dark-theme").exists()

    page.get_by_role("button", name="Remove candidate dark-theme").click()
    page.wait_for_url(live_server + "/references/login-box/")
    assert "Removed candidate dark-theme from login-box" in page.content()
    assert candidates.locator("figure").count() == 1
    assert not ReferenceCandidate.objects.exists()
