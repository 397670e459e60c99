"""wait_screen_change passes at the first change (in its area; changes elsewhere do not
count); wait_screen_still passes after a quiet stretch, with a blinking cursor allowed by a
threshold or an exclude area, and fails while the screen keeps changing."""

import io

from PIL import Image, ImageDraw

from tests.unit.fake_vm import FakeRig, run_yaml


def frame(cursor: bool = False, banner: str = "", clock: str = "") -> bytes:
    image = Image.new("RGB", (320, 200), "black")
    draw = ImageDraw.Draw(image)
    draw.text((10, 10), "$ ", fill="white")
    if cursor:
        draw.rectangle((22, 10, 28, 22), fill="white")
    if banner:
        draw.text((10, 100), banner, fill="white")
    if clock:
        draw.text((250, 180), clock, fill="white")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def run(text: str, frames: list[bytes], tmp_path):
    rig = FakeRig()
    rig.vm("a").screen.frames = frames
    report, _, _ = run_yaml(text, rig=rig, artifact_dir=tmp_path)
    return report.targets[0].steps[0], rig


def test_change_in_the_area(tmp_path):
    step, rig = run(
        """
name: s
steps:
  - type: wait_screen_change
    area: {x: 0, y: 90, width: 320, height: 40}
    interval: 50ms
    timeout: 5s
""",
        [frame(), frame(clock="12:01"), frame(clock="12:02"), frame(banner="Welcome")],
        tmp_path,
    )
    assert step.status == "passed", step.error
    assert rig.vm("a").screen.taken == 4  # the clock outside the area did not count
    assert "changed in area (0, 90, 320, 40)" in step.output


def test_no_change_fails_with_how_much_changed(tmp_path):
    step, _ = run(
        """
name: s
steps:
  - type: wait_screen_change
    threshold: 0.01
    interval: 50ms
    timeout: 1s
""",
        [frame(), frame(cursor=True)],
        tmp_path,
    )
    assert step.status == "failed"
    assert "did not change on the screen within 1 s" in step.error
    assert "needed > 0.01" in step.error


STILL = """
name: s
steps:
  - type: wait_screen_still
    duration: 400ms
    interval: 50ms
    timeout: 3s
"""


def blinking(count: int = 200) -> list[bytes]:
    return [frame(cursor=bool(i % 2)) for i in range(count)]


def test_blinking_cursor_keeps_a_strict_check_from_passing(tmp_path):
    step, _ = run(STILL, blinking(), tmp_path)
    assert step.status == "failed"
    assert "did not stay still on the screen for 0.4 s" in step.error


def test_blinking_cursor_allowed_by_threshold_or_exclude(tmp_path):
    step, _ = run(
        STILL.replace("timeout: 3s", "timeout: 3s\n    threshold: 0.01"), blinking(), tmp_path
    )
    assert step.status == "passed", step.error
    masked = STILL.replace(
        "timeout: 3s", "timeout: 3s\n    exclude: [{x: 20, y: 8, width: 12, height: 16}]"
    )
    step, _ = run(masked, blinking(), tmp_path)
    assert step.status == "passed", step.error


def test_still_after_the_screen_settles(tmp_path):
    frames = [frame(banner=f"loading {i}") for i in range(5)] + [frame(banner="done")]
    step, rig = run(STILL, frames, tmp_path)
    assert step.status == "passed", step.error
    assert "5 change(s) before" in step.output
