"""The VDI platform's Chinese messages (``5099 密码错误``) render as characters, not as boxes:
the rig installs a CJK font (rig/install.sh) and Chromium uses it.

A missing glyph is drawn as the same empty box whatever the character, so four different
characters drawn alike mean "no font"; characters no font covers (private use area) are the
control that shows the check can fail."""

from __future__ import annotations

import pytest

from atp_core.vdiplatform.errors import VdiAuthError
from hosts.models import VdiEndpoint
from tests.fixtures.web import ARTIFACTS, browser_login, make_user

pytestmark = pytest.mark.browser

# The glyphs of each character drawn in the element's own font: how many different pictures.
DISTINCT_GLYPHS = """([el, chars]) => {
  const font = getComputedStyle(el).font;
  const seen = new Set();
  for (const ch of chars) {
    const c = document.createElement("canvas");
    c.width = 64; c.height = 64;
    const g = c.getContext("2d");
    g.font = font.replace(/\\d+(\\.\\d+)?px/, "48px");
    g.fillStyle = "#000";
    g.fillText(ch, 4, 52);
    seen.add(c.toDataURL());
  }
  return seen.size;
}"""


def test_vendor_message_in_chinese_is_readable(live_server, page):
    make_user("vera", "viewer")
    wrong = VdiAuthError(5099, "密码错误", method="POST", path="/ocloud/v1/login")
    endpoint = VdiEndpoint.objects.create(
        name="lab", url="https://vdi.example", username="admin", last_error=str(wrong)
    )
    browser_login(page, live_server, "vera")
    page.goto(f"{live_server}/vdi/{endpoint.pk}/")
    error = page.locator("p.error")
    assert "密码错误" in error.inner_text()
    handle = error.element_handle()
    assert page.evaluate(DISTINCT_GLYPHS, [handle, "\ue000\ue001\ue002\ue003"]) == 1, (
        "control: characters without a glyph are drawn alike"
    )
    assert page.evaluate(DISTINCT_GLYPHS, [handle, "密码错误"]) == 4, (
        "密码错误 is drawn as boxes: no CJK font (rig/install.sh installs fonts-wqy-microhei)"
    )
    error.screenshot(path=str(ARTIFACTS / "vdi-error-cjk.png"))
