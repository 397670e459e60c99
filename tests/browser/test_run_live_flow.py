"""Acceptance, in a real browser against the whole stack (daphne, a Celery worker on queue
host.local, a rig guest): write a scenario in the editor, see the inline error of a typo, fix
it, run it on the guest, watch the steps turn green without reloading, reload mid-run and find
no step missing or twice, open the report with its screenshot, run again and compare with the
previous run. Page screenshots go to test-artifacts/run-flow-*.png."""

from __future__ import annotations

import pytest

from hosts.models import Host, VirtualMachine
from runs.models import Run
from tests.fixtures.web import ARTIFACTS, browser_login, make_user

pytestmark = [pytest.mark.browser, pytest.mark.rig]

NAME = "live-flow"
SCENARIO = f"""version: 1
name: {NAME}
steps:
  - type: guest_ping
  - type: exec_command
    name: say hello
    command: echo hello-from-browser
    expect: {{stdout_contains: hello-from-browser}}
  - type: wait
    name: give the watcher time
    duration: 6s
  - type: screenshot
    label: console
  - type: exec_command
    name: uptime
    command: cat /proc/uptime
"""
STEP_IDS = ["1", "2", "3", "4", "5"]
RUN_TIMEOUT = 240_000  # ms: a TCG guest is slow, the worker may be busy with other sessions


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"run-flow-{name}.png"), full_page=True)


def _rows(page, step_id: str):
    return page.locator(f'#run section.target li.step[data-step="{step_id}"]')


def _wait_status(page, step_id: str, status: str, timeout: int = RUN_TIMEOUT) -> None:
    page.wait_for_selector(
        f'#run li.step[data-step="{step_id}"][data-iter="-1"][data-status="{status}"]',
        timeout=timeout,
    )


def _each_step_once(page) -> dict[str, str]:
    statuses = {}
    for step_id in STEP_IDS:
        assert _rows(page, step_id).count() == 1, (
            f"step {step_id} shown {_rows(page, step_id).count()} times"
        )
        statuses[step_id] = _rows(page, step_id).get_attribute("data-status")
    seqs = page.eval_on_selector_all("#run [data-seq]", "els => els.map(e => e.dataset.seq)")
    assert len(seqs) == len(set(seqs)), f"a log line shown twice: {seqs}"
    return statuses


def _write_scenario(page, live_server) -> None:
    page.goto(live_server + "/scenarios/new")
    page.wait_for_selector(".CodeMirror")
    page.evaluate("window.atpEditor.setValue('')")
    page.click(".CodeMirror-code")
    page.keyboard.insert_text(SCENARIO.replace("type: guest_ping", "type: guest_pnig"))
    page.wait_for_selector("#validation-state[data-state=invalid]", timeout=15_000)
    page.wait_for_selector(".CodeMirror-lint-marker-error")
    assert "guest_pnig" in page.locator(".CodeMirror-lint-mark-error").first.inner_text()
    _shot(page, "1-editor-typo")
    page.evaluate(
        """() => { const cm = window.atpEditor;
                   for (let line = 0; line < cm.lineCount(); line++) {
                     const ch = cm.getLine(line).indexOf('guest_pnig');
                     if (ch >= 0) { cm.setSelection({line, ch}, {line, ch: ch + 10}); break; }
                   }
                   cm.focus(); }"""
    )
    page.keyboard.type("guest_ping")
    page.wait_for_selector("#validation-state[data-state=valid]", timeout=15_000)
    page.fill("#revision-message", "browser flow")
    page.click("#save-button")
    page.wait_for_url(f"{live_server}/scenarios/{NAME}/")


def _watch_run(page, *, reload_midway: bool) -> int:
    """On a live run page: every step turns passed without a reload (one reload mid-run when
    asked). Returns the run id."""
    page.wait_for_selector("#run")
    run_id = int(page.get_attribute("#run", "data-run"))
    page.wait_for_selector("#ws-status[data-state=open]")
    _wait_status(page, "1", "passed")
    _wait_status(page, "2", "passed")
    assert "hello-from-browser" in _rows(page, "2").text_content()
    if reload_midway:
        _wait_status(page, "3", "running")
        before = _each_step_once(page)
        assert before["4"] == "pending" and before["5"] == "pending", before
        _shot(page, "3-live-before-reload")
        page.reload()
        page.wait_for_selector("#ws-status[data-state=open]")
        after = _each_step_once(page)
        assert after["1"] == after["2"] == "passed", after
        assert after["3"] in ("running", "passed"), after
        # the live screen refreshes while the page is open
        page.wait_for_function(
            "() => { const i = document.querySelector('img.live-screen');"
            " return i && !i.hidden && i.naturalWidth > 0; }",
            timeout=30_000,
        )
        # a click opens the screen full size (same capture, not shrunk)
        href = page.get_attribute("a.live-screen-full", "href")
        assert href.endswith("/screen.png?full=1")
        full = page.request.get(page.url.split("/runs/")[0] + href)
        assert full.status == 200 and full.body()[:8] == b"\x89PNG\r\n\x1a\n"
    for step_id in STEP_IDS:
        _wait_status(page, step_id, "passed")
    page.wait_for_selector("#run-done:not([hidden])", timeout=60_000)
    assert page.inner_text("#run-state") == "passed"
    final = _each_step_once(page)
    assert set(final.values()) == {"passed"}, final
    run = Run.objects.get(pk=run_id)
    page.wait_for_function(f"window.atpRun.applied() === {run.last_seq}", timeout=20_000)
    assert page.locator("#run .sshots img.thumb").count() == 1
    return run_id


def test_write_run_watch_reload_report_rerun_compare(
    live_server, celery_worker_process, rig_vm, libvirt_uri, page
):
    host = Host.objects.create(name="local", uri=libvirt_uri)
    vm = VirtualMachine.objects.create(host=host, name=rig_vm.name, state="running")
    make_user("olga", "operator")
    browser_login(page, live_server, "olga")

    _write_scenario(page, live_server)
    page.check(f'#run-form input[name=vm][value="{vm.pk}"]')
    _shot(page, "2-run-form")
    page.click("#run-form button[type=submit]")
    page.wait_for_url(f"{live_server}/runs/*/")
    first = _watch_run(page, reload_midway=True)
    _shot(page, "4-live-finished")

    page.click("#open-report")
    page.wait_for_selector("#report")
    assert page.locator('#report li.step[data-status="passed"]').count() == len(STEP_IDS)
    thumb = page.locator('#report li.step[data-step="4"] img.thumb')
    assert thumb.count() == 1
    thumb.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle()
    )
    href = page.get_attribute('#report li.step[data-step="4"] a.shot', "href")
    full = page.request.get(page.url.split("/runs/")[0] + href)
    assert full.ok and full.body()[:8] == b"\x89PNG\r\n\x1a\n"
    assert page.request.get(f"{live_server}/runs/{first}/junit.xml").ok
    _shot(page, "5-report")

    # the screenshot goes to the reference-image editor in one click
    page.click('#report li.step[data-step="4"] button.use-ref')
    page.wait_for_url(f"{live_server}/references/new")
    src = page.get_attribute("#ref-canvas", "data-src")
    assert src.startswith("data:image/png;base64,")
    assert f"run {first}" in page.get_attribute("input[name=source]", "value")
    # pick an area on it and save: the save lands on the new reference's working page
    page.wait_for_function("document.getElementById('ref-canvas').width > 0")
    canvas = page.locator("#ref-canvas")
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + 120, box["y"] + 80, steps=5)
    page.mouse.up()
    page.fill("input[name=name]", "from-run-shot")
    page.get_by_role("button", name="Save reference").click()
    page.wait_for_url(f"{live_server}/references/from-run-shot/")
    assert page.inner_text("h1") == "Reference from-run-shot"
    page.wait_for_function("document.getElementById('ref-canvas').width > 0")
    assert "match" in page.inner_text("#area-list")
    assert f"run {first}" in page.input_value("input[name=source]")
    _shot(page, "5b-reference-from-run")
    page.goto(f"{live_server}/runs/{first}/")
    page.wait_for_selector("#report")

    page.click("#rerun-form button[type=submit]")
    page.wait_for_url(f"{live_server}/runs/*/")
    second = _watch_run(page, reload_midway=False)
    assert second != first
    assert Run.objects.get(pk=second).rerun_of_id == first

    page.click("#open-report")
    page.wait_for_selector("#report")
    page.click("#compare-prev")
    page.wait_for_selector("#compare-table")
    assert f"a={first}" in page.url and f"b={second}" in page.url
    changes = page.eval_on_selector_all(
        "#compare-table tbody tr", "rows => rows.map(r => [r.dataset.step, r.dataset.change])"
    )
    assert changes == [[s, "same"] for s in STEP_IDS], changes
    _shot(page, "6-compare")

    # the history pages list both runs
    page.goto(live_server + "/")
    recent = page.inner_text("#recent-runs")
    assert NAME in recent and str(first) in recent and str(second) in recent
    assert "2/2 runs passed" in page.inner_text("#pass-trend")
    _shot(page, "7-dashboard")
    page.goto(f"{live_server}/runs/?scenario={NAME}")
    assert page.locator("#runs-table tbody tr[data-run]").count() == 2
    _shot(page, "8-runs-list")
    page.goto(live_server + "/runs/trends")
    assert NAME in page.inner_text("#per-scenario")
    _shot(page, "9-trends")
