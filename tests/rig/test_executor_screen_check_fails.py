"""On a real guest, a verify_screen whose reference is not on the screen fails the run: the step
is ``failed`` (a product failure, not ``error``) with the best score against the threshold, the
best screenshot, the reference as checked and a diff are stored as artifacts, the later step is
skipped and teardown runs."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from atp_core.orchestrator import ReferenceSpec, Target, load_scenario, run_scenario

pytestmark = pytest.mark.rig

SCENARIO = """
name: screen-check-fails
steps:
  - type: verify_screen
    name: the red box is on the screen
    reference: red-box
    timeout: 3s
  - type: guest_ping
finally:
  - type: guest_ping
"""


def _red_box() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (160, 90), (220, 20, 20)).save(buf, "PNG")  # the text console has none
    return buf.getvalue()


def test_a_screen_that_does_not_match_fails_the_run_with_its_evidence(rig_vm, tmp_path):
    events = []
    report = run_scenario(
        load_scenario(SCENARIO),
        [Target(f"local/{rig_vm.name}", rig_vm.uri, rig_vm.name)],
        sink=events.append,
        artifact_dir=tmp_path,
        references={"red-box": ReferenceSpec(_red_box(), threshold=0.95)},
    )
    steps = report.targets[0].steps
    assert [(s.id, s.status) for s in steps] == [
        ("1", "failed"),
        ("2", "skipped"),
        ("F1", "passed"),
    ]
    assert report.result == "failed"
    check = steps[0]
    assert "screen did not match 'red-box' within 3 s" in check.error, check.error
    assert "< threshold 0.95" in check.error, check.error
    stored = {e.data["name"]: e.data for e in events if e.type == "artifact"}
    assert set(stored) == {"1-red-box-best.png", "1-red-box-reference.png", "1-red-box-diff.png"}
    assert stored["1-red-box-diff.png"]["kind"] == "diff"
    with Image.open(stored["1-red-box-best.png"]["path"]) as best:  # the guest's whole screen
        assert best.width > 160 and best.height > 90
    with Image.open(stored["1-red-box-reference.png"]["path"]) as reference:
        assert reference.size == (160, 90) and reference.getpixel((80, 45))[:3] == (220, 20, 20)
