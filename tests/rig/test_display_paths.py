"""One set of steps over both display paths: the same scenario (mouse, text, keys, screenshot)
runs over ``display: hypervisor`` and ``display: spice`` on the desktop guest; the text typed
arrives exactly (the guest's key recorder) and the report says which path was used."""

import json
import string

import pytest

from atp_core.orchestrator import Target, load_scenario, run_scenario
from tests.rig.protocol_helpers import poll
from tests.rig.spice_helpers import KEYLOG_TEXT_AREA

pytestmark = pytest.mark.rig

TEXT = string.ascii_letters + string.digits + string.punctuation

SCENARIO = f"""
name: both-display-paths
display: DISPLAY
steps:
  - type: mouse_move
    x: {KEYLOG_TEXT_AREA[0]}
    y: {KEYLOG_TEXT_AREA[1]}
  - type: wait
    name: twm moves the keyboard focus to the window under the pointer
    duration: 1s
  - type: send_key
    name: drop whatever an earlier test left half-typed on the keylog line (a late esc)
    key: ctrl+u
  - type: send_text
    text: {json.dumps(TEXT)}
  - type: send_key
    key: ret
  - type: mouse_click
    x: 700
    y: 600
    button: right
  - type: send_key
    key: esc
  - type: screenshot
    label: desktop
"""


@pytest.mark.parametrize("display", ["hypervisor", "spice"])
def test_the_same_steps_run_over_both_display_paths(desktop_session, display, tmp_path):
    vm = desktop_session
    vm.shell("rm -f /tmp/keys.log")
    scenario = load_scenario(SCENARIO.replace("DISPLAY", display))
    report = run_scenario(
        scenario, [Target("desk", vm.uri, vm.name)], artifact_dir=tmp_path / "artifacts"
    )
    target = report.targets[0]
    assert target.result == "passed", [(s.type, s.status, s.error) for s in target.steps]
    assert target.display == display
    assert report.to_dict()["targets"][0]["display"] == display
    log = poll(lambda: vm.shell("cat /tmp/keys.log 2>/dev/null; true")[1], bool, timeout=60)
    assert log == TEXT + "\n"
    shots = list((tmp_path / "artifacts").rglob("*.png"))
    assert shots and shots[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_target_can_override_the_scenarios_display(desktop_session, tmp_path):
    vm = desktop_session
    scenario = load_scenario(SCENARIO.replace("DISPLAY", "hypervisor"))
    report = run_scenario(
        scenario,
        [Target("desk", vm.uri, vm.name, display="spice")],
        artifact_dir=tmp_path / "artifacts",
    )
    assert report.targets[0].display == "spice"
    assert report.targets[0].result == "passed"


def test_unknown_display_is_a_validation_error_naming_the_line():
    from atp_core.orchestrator import ScenarioValidationError

    with pytest.raises(ScenarioValidationError) as info:
        load_scenario("name: x\ndisplay: vnc\nsteps:\n  - type: screenshot\n")
    text = str(info.value)
    assert "display" in text and ":2:" in text and "spice" in text
