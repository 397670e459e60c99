"""In a real browser, developer mode end to end: a run launched from the API with
``pause_on: mismatch`` pauses on a screen check that does not match; the live view shows the
paused step with the best match and the diff; "Update reference … from the current screen"
opens the reference editor on the VM's screen with the failed reference's areas drawn; saving
returns to the run, "Retry step" retries against the fixed reference, and the run passes."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from atp_core.status import Result
from hosts.models import Host, VirtualMachine
from runs.models import Run
from runs.pausing import current_pause
from runs.services import launch_run
from scenarios.models import ReferenceImage
from scenarios.services import create_scenario, save_reference_image
from tests.fixtures.web import browser_login, in_thread, make_user
from tests.rig.protocol_helpers import poll

pytestmark = [pytest.mark.browser, pytest.mark.rig]

SCENARIO = """version: 1
name: fix-the-reference
pause_on: mismatch
steps:
  - type: verify_screen
    name: the banner is on the screen
    reference: banner
    timeout: 3s
  - type: guest_ping
"""
AREA = {"x": 0, "y": 0, "width": 240, "height": 48, "type": "match"}


def _png(color) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (240, 48), color).save(buf, "PNG")
    return buf.getvalue()


def test_fix_the_reference_from_the_paused_screen_and_retry(
    live_server, celery_worker_process, page, rig_vm
):
    # a known screen: the console cleared, a banner on its first lines
    rig_vm.shell("printf '\\033[2J\\033[HATP PAUSE TEST BANNER\\nsecond line\\n' > /dev/tty1")
    host = Host.objects.create(name="local", uri=rig_vm.uri)
    VirtualMachine.objects.create(host=host, name=rig_vm.name, state="running")
    user = make_user("olga", "operator")
    save_reference_image(name="banner", png=_png((200, 30, 30)), areas=[AREA], user=user)
    scenario = create_scenario(SCENARIO, user)
    run = in_thread(
        launch_run, scenario.current_revision, [{"vm": rig_vm.name, "host": "local"}], {}, user
    )
    target = run.run_targets.get()
    pause = poll(lambda: in_thread(current_pause, run.pk, target.name), bool, timeout=180)
    assert pause and pause["data"]["reason"] == "mismatch"

    browser_login(page, live_server, "olga")
    page.goto(f"{live_server}/runs/{run.pk}/")
    panel = page.locator(".pause-panel")
    panel.wait_for(timeout=60_000)
    assert "Paused at step 1 the banner is on the screen" in panel.inner_text()
    assert "best template score" in panel.inner_text()
    for caption in ("reference banner", "best screenshot", "diff"):
        image = panel.get_by_role("img", name=caption)
        image.wait_for()
        page.wait_for_function(
            "(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )

    page.screenshot(path="test-artifacts/pause-paused-live-view.png", full_page=True)
    panel.get_by_role("link", name="Update reference banner from the current screen").click()
    page.wait_for_function("document.getElementById('ref-canvas').width > 240")
    assert "match 240×48 at (0, 0)" in page.locator("#area-list").inner_text()
    assert page.input_value("input[name=name]") == "banner"
    page.screenshot(path="test-artifacts/pause-fix-reference-editor.png", full_page=True)
    page.get_by_role("button", name="Save reference").click()
    page.wait_for_url(f"{live_server}/runs/{run.pk}/")
    ref = ReferenceImage.objects.get(name="banner")
    assert (ref.width, ref.height) != (240, 48)  # now the VM's screen, areas kept
    assert ref.areas == [AREA]

    page.locator(".pause-panel").get_by_role("button", name="Retry step").click()
    page.wait_for_selector("#run-done:not([hidden])", timeout=180_000)
    done = Run.objects.get(pk=run.pk)
    assert done.result == Result.PASSED, done.reason
    statuses = dict(done.steps.values_list("step_id", "status"))
    assert statuses == {"1": "passed", "2": "passed"}
    assert page.locator(".pause-panel").count() == 0
    assert "target resumed" in page.locator("#run-log").inner_text()
