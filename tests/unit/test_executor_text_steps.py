"""verify_text / wait_text / read_text through the executor with the real tesseract: a pass
says what was found and where; a failure says what was read, in which area, and keeps the
area as an artifact; read_text captures into a variable the next step uses."""

import importlib.util
from pathlib import Path

import pytest

from tests.prereq import require
from tests.unit.fake_vm import FakeRig, run_yaml
from tests.unit.ocr_images import text_screen


@pytest.fixture(autouse=True)
def _tesseract():
    require(importlib.util.find_spec("tesserocr") is not None, "tesserocr (OCR)")


BOOTING = text_screen([((20, 30), "Starting services ...")])
READY = text_screen([((20, 30), "Starting services ..."), ((20, 60), "login: ready")])


def rig_with(frames) -> FakeRig:
    rig = FakeRig()
    rig.vm("a").screen.frames = frames
    return rig


def test_verify_text_passes_and_says_where(tmp_path):
    report, _, _ = run_yaml(
        """
name: t
steps:
  - type: verify_text
    text: "login: ready"
    capture: seen
""",
        rig=rig_with([READY]),
        artifact_dir=tmp_path,
    )
    (step,) = report.targets[0].steps
    assert step.status == "passed", step.error
    assert "found text 'login: ready' on the screen at (" in step.output


def test_verify_text_failure_shows_what_was_read_and_where(tmp_path):
    report, _, _ = run_yaml(
        """
name: t
steps:
  - type: verify_text
    text: "login: ready"
    area: {x: 0, y: 0, width: 400, height: 50}
""",
        rig=rig_with([READY]),
        artifact_dir=tmp_path,
    )
    (step,) = report.targets[0].steps
    assert step.status == "failed"
    assert "text 'login: ready' is not on the screen in area (0, 0, 400, 50)" in step.error
    assert "read: 'Starting services" in step.error and "closest" not in step.error
    (artifact,) = step.artifacts
    assert artifact["name"].endswith("ocr-area.png")
    assert Path(artifact["path"]).read_bytes()[:4] == b"\x89PNG"


def test_wait_text_polls_until_the_text_appears(tmp_path):
    rig = rig_with([BOOTING, BOOTING, READY])
    report, _, _ = run_yaml(
        """
name: t
steps:
  - type: wait_text
    regex: "login: \\\\w+"
    interval: 100ms
    timeout: 20s
""",
        rig=rig,
        artifact_dir=tmp_path,
    )
    (step,) = report.targets[0].steps
    assert step.status == "passed", step.error
    assert "(3 read(s))" in step.output and rig.vm("a").screen.taken == 3


def test_wait_text_times_out_with_the_closest_read(tmp_path):
    report, _, _ = run_yaml(
        """
name: t
steps:
  - type: wait_text
    text: "Starting servers"
    interval: 200ms
    timeout: 2s
""",
        rig=rig_with([BOOTING]),
        artifact_dir=tmp_path,
    )
    (step,) = report.targets[0].steps
    assert step.status == "failed"
    assert "did not appear within 2 s" in step.error
    assert "closest 'Starting services'" in step.error


def test_read_text_captures_into_a_variable(tmp_path):
    screen = text_screen(
        [((30, 40), "Total: 15 items")], background="white", color="black", font_size=24
    )
    report, _, rig = run_yaml(
        """
name: t
steps:
  - type: read_text
    area: {x: 10, y: 20, width: 300, height: 60}
    capture: sum
  - type: send_text
    text: "${sum}"
""",
        rig=rig_with([screen]),
        artifact_dir=tmp_path,
    )
    assert [s.status for s in report.targets[0].steps] == ["passed", "passed"]
    assert rig.vm("a").typed == "Total: 15 items"
