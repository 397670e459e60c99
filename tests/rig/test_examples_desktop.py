"""The desktop example (examples/13_desktop_gui.yaml) runs green on the desktop guest from its
login screen, over both display paths: log on, open a terminal with the mouse, read a
command's output by OCR, 7 + 8 = 15 in xcalc by clicking buttons found by image, drag the
calculator by its title bar and read it at its new place; the report names the path."""

from __future__ import annotations

import pytest

from tests.rig.test_examples_run import ROOT, assert_every_step_passed, run_cli

pytestmark = pytest.mark.rig

PATH = ROOT / "examples" / "13_desktop_gui.yaml"


@pytest.mark.parametrize("display", ["hypervisor", "spice"])
def test_desktop_example_over_both_display_paths(display, desktop_vm, tmp_path):
    code, report, output = run_cli(
        [str(PATH), "--host", desktop_vm.uri, "--vm", desktop_vm.name, "--display", display],
        tmp_path,
    )
    assert_every_step_passed(PATH, report, output)
    assert code == 0, output
    steps = {s["id"]: s for s in report["targets"][0]["steps"]}
    assert "ATP-42" in steps["12"]["output"]  # read_text of the terminal
    assert "clicked left at" in steps["15"]["output"]
    assert display in str(report["targets"][0])
