"""In a real browser: the report plays a target's video (WebM, VP9) with its markers; input
ticks and step bands are on the timeline, clicking a step seeks the video to that step's
start, and the step on screen is highlighted as the video plays."""

from __future__ import annotations

import json
import shutil
import subprocess
import time

import pytest
from django.core.files.base import ContentFile

from runs.models import Artifact, Run
from tests.fixtures.web import ARTIFACTS, browser_login, in_thread, make_user
from tests.web import run_pages_data as data

pytestmark = [pytest.mark.browser]

MARKERS = {
    "video": "video.webm",
    "seconds": 6.0,
    "markers": [
        {"t": 0.0, "kind": "step_start", "step": "1", "label": "1 guest ping"},
        {"t": 1.9, "kind": "step_end", "step": "1", "label": "1 guest ping"},
        {"t": 2.0, "kind": "step_start", "step": "2", "label": "2 type hello"},
        {"t": 2.2, "kind": "input", "label": "key"},
        {"t": 2.4, "kind": "input", "label": "key"},
        {"t": 3.9, "kind": "step_end", "step": "2", "label": "2 type hello"},
        {"t": 4.0, "kind": "step_start", "step": "3", "label": "3 check"},
        {"t": 5.9, "kind": "step_end", "step": "3", "label": "3 check"},
    ],
}


def _webm(tmp_path) -> bytes:
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg, "ffmpeg (Debian package, rig/install.sh) is needed to make the test video"
    out = tmp_path / "v.webm"
    subprocess.run(
        [
            ffmpeg,
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=320x240:rate=5:duration=6",
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-threads",
            "1",
            "-pix_fmt",
            "yuv420p",
            "-y",
            str(out),
        ],  # fmt: skip
        check=True,
        timeout=120,
    )
    return out.read_bytes()


def _attach(run, target, name, body, mime):
    art = Artifact(
        run=run, target=run.run_targets.get(name=target), name=name, kind="file", mime=mime
    )
    art.file.save(f"run{run.pk}-{name}", ContentFile(body), save=False)
    art.size = len(body)
    art.save()


def test_player_seeks_to_a_clicked_step_and_highlights_it(live_server, page, tmp_path):
    user = make_user("vera", "operator")
    sc, rev = data.scenario("video")
    run = data.new_run(sc, rev, user)
    target = run.run_targets.get().name
    in_thread(data.play, run)
    Run.objects.filter(pk=run.pk).update(state="finished", result="passed")
    _attach(run, target, "video.webm", _webm(tmp_path), "video/webm")
    _attach(run, target, "video-markers.json", json.dumps(MARKERS).encode(), "application/json")

    page.set_viewport_size({"width": 1280, "height": 1000})
    browser_login(page, live_server, "vera")
    page.goto(f"{live_server}/runs/{run.pk}/report")
    player = page.locator(".video-player.ready")
    player.wait_for(timeout=60_000)
    assert player.locator(".video-input").count() == 2
    assert player.locator(".video-step").count() == 3
    state = """() => {const v = document.querySelector('video.run-video'); return {ready:
        v.readyState, network: v.networkState, error: v.error && v.error.message, src: v.src}}"""
    deadline = time.monotonic() + 60
    while page.evaluate(state)["ready"] < 1 and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    assert page.evaluate(state)["ready"] >= 1, page.evaluate(state)
    duration = page.evaluate("document.querySelector('video.run-video').duration")
    assert 5.5 <= duration <= 6.5, duration

    page.locator('li.step[data-step="2"] summary').click()
    page.wait_for_function(
        "() => Math.abs(document.querySelector('video.run-video').currentTime - 2.0) < 0.3",
        timeout=60_000,
    )
    page.wait_for_selector('li.step.on-screen[data-step="2"]', timeout=60_000)
    assert page.locator("li.step.on-screen").count() == 1
    assert page.locator('.video-step.on-screen[data-step="2"]').count() == 1
    page.locator(".video-player").screenshot(path=str(ARTIFACTS / "run-report-video.png"))
    page.screenshot(path=str(ARTIFACTS / "run-report-video-page.png"), full_page=True)

    page.evaluate("document.querySelector('video.run-video').currentTime = 4.5")
    page.wait_for_selector('li.step.on-screen[data-step="3"]', timeout=60_000)
