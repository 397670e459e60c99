"""verify_screen and click_image read references only from the reference store: a scenario
naming an image file on the worker gets "unknown reference", never that file (issue 11 item 12)."""

import pytest

from tests.unit.fake_vm import FakeRig, run_yaml
from tests.unit.test_screen_match import screen


@pytest.mark.parametrize("kind", ["verify_screen", "click_image"])
def test_a_filesystem_path_is_not_a_reference(tmp_path, kind):
    image = tmp_path / "on-the-worker.png"
    image.write_bytes(screen("READY 42"))
    rig = FakeRig()
    rig.vm("a").screen.frames = [screen("READY 42")]
    text = f"name: s\nsteps:\n  - {{type: {kind}, reference: '{image}', timeout: 300ms}}\n"
    report, _, _ = run_yaml(text, rig=rig, artifact_dir=tmp_path / "art")
    step = report.targets[0].steps[0]
    assert step.status == "error"
    assert f"unknown reference image {str(image)!r}" in step.error
    assert rig.vm("a").screen.taken == 0
