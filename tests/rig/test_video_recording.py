"""Each SPICE target's video: a WebM (VP9) made from the frames the display client received,
frames only on change under a frame-rate cap, with the input events and the step boundaries
as markers on its timeline (artifacts of the target)."""

import json
import subprocess
from pathlib import Path

import pytest

from atp_core.orchestrator import Target, load_scenario, run_scenario
from tests.rig.spice_helpers import KEYLOG_TEXT_AREA

pytestmark = pytest.mark.rig

SCENARIO = f"""
name: video
display: spice
steps:
  - type: mouse_move
    x: {KEYLOG_TEXT_AREA[0]}
    y: {KEYLOG_TEXT_AREA[1]}
  - type: wait
    duration: 1s
  - type: send_key
    key: ctrl+u
  - type: send_text
    text: "video marks"
  - type: send_key
    key: ctrl+u
  - type: wait
    name: a still screen adds no frames
    duration: 3s
"""


def _probe(path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-count_frames", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    return json.loads(out)["streams"][0]


def test_target_video_has_frames_on_change_and_markers(desktop_session, tmp_path):
    vm = desktop_session
    events = []
    report = run_scenario(
        load_scenario(SCENARIO),
        [Target("desk", vm.uri, vm.name)],
        artifact_dir=tmp_path,
        sink=events.append,
        video=True,
    )
    target = report.targets[0]
    assert target.result == "passed", [(s.id, s.status, s.error) for s in target.steps]
    video = target.video
    assert video and video["error"] is None, video
    files = {e.data["name"]: e.data for e in events if e.type == "artifact"}
    assert files["video.webm"]["mime"] == "video/webm"
    stream = _probe(files["video.webm"]["path"])
    assert stream["codec_name"] == "vp9"
    assert (stream["width"], stream["height"]) == (1024, 768)
    frames = int(stream["nb_read_frames"])
    # frames only on change: as many as were kept, fewer than the cap would give
    # (the concat list repeats the last frame once, to give it its duration)
    assert frames in (video["frames"], video["frames"] + 1), (frames, video)
    assert 2 <= frames < video["checks"], video
    doc = json.loads(Path(files["video-markers.json"]["path"]).read_text())
    kinds = [m["kind"] for m in doc["markers"]]
    assert kinds.count("step_start") == len(target.steps) == kinds.count("step_end")
    # two ctrl+u presses and the text (typed in flow-controlled batches: a stamp per batch)
    assert kinds.count("input") >= 3
    times = [m["t"] for m in doc["markers"]]
    assert times == sorted(times) and times[0] >= 0 and times[-1] <= video["seconds"] + 1
    print(video)
