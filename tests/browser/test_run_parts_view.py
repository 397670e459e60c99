"""The parts of a run on several hosts on its page, in a real browser: per part its host,
queue, state, attempt, the worker that claimed it and its times; a part no worker took says
"waiting for a worker on host.X since ..." with what to do; the table follows the parts live
(a part claimed and finished elsewhere shows up without a reload); a part started again as its
next attempt (its worker died) shows attempt 2 and why; the report keeps it."""

from __future__ import annotations

import pytest

from runs.models import RunPart
from tests.fixtures.web import ARTIFACTS, browser_login, make_user
from tests.web import run_pages_data as data

pytestmark = [
    pytest.mark.browser,
    # the demo VMs are no domains of libvirt's test driver: their live screens answer 503
    pytest.mark.allow_http(r"/targets/\d+/screen\.png"),
]


def _in_thread(fn, *args, **kwargs):
    """ORM code off Playwright's event-loop thread (as test_run_live_view.py)."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    def call():
        try:
            return fn(*args, **kwargs)
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(call).result(timeout=30)


def _parted_run():
    from runs import lifecycle

    sc, rev = data.scenario("parts-demo")
    run = data.new_run(sc, rev, None, targets=(("lab-a", "desk-a"), ("lab-b", "desk-b")))
    for target in run.run_targets.select_related("host"):
        part = RunPart.objects.create(
            run=run,
            host=target.host,
            host_name=target.host.name,
            queue=f"host.{target.host.name}",
            queued_at=run.created,
        )
        target.part = part
        target.save(update_fields=["part"])
    a = RunPart.objects.get(run=run, host_name="lab-a")
    assert lifecycle.claim_part(a.pk, worker="worker-a@lab-a", task_id="t-a").ok
    data.emit(run, "worker_started", {"worker": "worker-a@lab-a", "host": "lab-a"})
    return run


def _claim_and_finish_b(run):
    from runs import lifecycle

    b = RunPart.objects.get(run=run, host_name="lab-b")
    assert lifecycle.claim_part(b.pk, worker="worker-b@lab-b", task_id="t-b").ok
    data.emit(run, "worker_started", {"worker": "worker-b@lab-b", "host": "lab-b"})


def _retry_b(run):
    from runs import lifecycle

    b = RunPart.objects.get(run=run, host_name="lab-b")
    assert lifecycle.retry_part(b.pk, "worker worker-b@lab-b stopped sending heartbeats")
    assert lifecycle.claim_part(b.pk, worker="worker-b2@lab-b", task_id="t-b2").ok
    data.emit(run, "worker_started", {"worker": "worker-b2@lab-b", "host": "lab-b"})


def _finish_all(run):
    from runs import lifecycle

    for part in RunPart.objects.filter(run=run):
        lifecycle.finish_part(part.pk, "passed", close_open=True)


def test_the_run_page_shows_each_part_and_what_a_waiting_part_waits_for(live_server, page):
    make_user("vera", "viewer")
    run = _in_thread(_parted_run)
    run.max_attempts = 2
    _in_thread(run.save, update_fields=["max_attempts"])
    browser_login(page, live_server, "vera")
    page.goto(f"{live_server}/runs/{run.pk}/")
    page.wait_for_selector("#ws-status[data-state=open]")
    table = page.locator("#run-parts")
    a = table.locator('tr.part[data-host="lab-a"]')
    b = table.locator('tr.part[data-host="lab-b"]')
    assert a.get_attribute("data-state") == "running"
    assert "worker-a@lab-a" in a.inner_text() and "host.lab-a" in a.inner_text()
    assert b.get_attribute("data-waiting-for") == "worker"
    note = table.locator(".part-waiting").inner_text()
    assert "Waiting for a worker on host.lab-b since" in note, note
    assert "no worker has taken work from it yet" in note, note
    assert "celery -A atp_site worker -Q host.lab-b" in note, note
    page.screenshot(path=str(ARTIFACTS / "run-parts-waiting.png"), full_page=True)

    # a worker of lab-b claims its part: the table follows without a reload
    _in_thread(_claim_and_finish_b, run)
    page.wait_for_selector('#run-parts tr.part[data-host="lab-b"][data-state="running"]')
    row = page.locator('#run-parts tr.part[data-host="lab-b"]').inner_text()
    assert "worker-b@lab-b" in row, row
    assert page.locator("#run-parts .part-waiting").count() == 0

    # lab-b's worker died: its part starts again as attempt 2 on another worker of its queue
    _in_thread(_retry_b, run)
    page.wait_for_selector(
        '#run-parts tr.part[data-host="lab-b"][data-state="running"] >> text=worker-b2@lab-b'
    )
    page.wait_for_selector("#ws-status[data-state=open]")
    row = page.locator('#run-parts tr.part[data-host="lab-b"]').inner_text()
    assert "2/2" in row, row
    reason = page.locator("#run-parts .part-reason").inner_text()
    assert reason == "attempt 1: worker worker-b@lab-b stopped sending heartbeats", reason
    page.screenshot(path=str(ARTIFACTS / "run-parts-second-attempt.png"), full_page=True)

    _in_thread(_finish_all, run)
    page.wait_for_selector("#run-done:not([hidden])")
    page.wait_for_selector('#run-parts tr.part[data-host="lab-b"][data-state="finished"]')
    page.screenshot(path=str(ARTIFACTS / "run-parts-live-finished.png"), full_page=True)

    page.goto(f"{live_server}/runs/{run.pk}/report")
    rows = page.locator("#run-parts tr.part")
    assert rows.count() == 2
    assert "worker-b2@lab-b" in rows.nth(1).inner_text() and "2/2" in rows.nth(1).inner_text()
    assert "passed" in rows.nth(0).inner_text()
    page.screenshot(path=str(ARTIFACTS / "run-parts-report.png"), full_page=True)
