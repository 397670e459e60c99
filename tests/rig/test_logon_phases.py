"""Logon time by phase on the desktop guest, over SPICE: the ``logon`` step waits for xdm's login
screen, types the user and password, and times login screen shown → credentials sent → desktop
shown → first app ready (the session's ``keylog`` terminal), each phase from the display
client's own update stamps; the phases add up to the total, and the guest really logged in."""

import numpy as np
import pytest
from PIL import Image

from atp_core.orchestrator import ReferenceSpec, Target, load_scenario, run_scenario
from tests.rig.spice_helpers import DESKTOP_BACKGROUND, GREETER_BACKGROUND

pytestmark = pytest.mark.rig

SCENARIO = """
name: logon-phases
display: spice
steps:
  - type: logon
    username: atp
    password: atp
    login_screen: {reference: greeter}
    desktop: {reference: desktop}
    app: {reference: keylog}
    timeout: 280s
"""


def _reference(tmp_path, name, colour, area) -> ReferenceSpec:
    image = np.zeros((768, 1024, 3), np.uint8)
    x, y, w, h = area
    image[y : y + h, x : x + w] = colour
    path = tmp_path / f"{name}.png"
    Image.fromarray(image).save(path)
    return ReferenceSpec(path=path, areas=[area], threshold=0.95)


def test_logon_phases_are_timed_on_the_desktop_guest(desktop_vm, tmp_path):
    vm = desktop_vm
    references = {
        "greeter": _reference(tmp_path, "greeter", GREETER_BACKGROUND, (0, 0, 1024, 100)),
        "desktop": _reference(tmp_path, "desktop", DESKTOP_BACKGROUND, (0, 300, 1024, 400)),
        # the keylog terminal's empty lower right (white, 10x20 font on white)
        "keylog": _reference(tmp_path, "keylog", (255, 255, 255), (420, 100, 160, 40)),
    }
    report = run_scenario(
        load_scenario(SCENARIO),
        [Target("desk", vm.uri, vm.name)],
        artifact_dir=tmp_path / "artifacts",
        references=references,
    )
    (step,) = report.targets[0].steps
    assert step.status == "passed", step.error
    metrics = step.metrics
    phases = ["login_screen", "credentials", "desktop", "app"]
    assert [k for k in metrics if k.startswith("logon.")] == [f"logon.{p}" for p in phases] + [
        "logon.total"
    ]
    assert all(metrics[f"logon.{p}"] >= 0 for p in phases)
    assert metrics["logon.credentials"] >= 1.0, "the settle pause and the typing are in it"
    assert abs(sum(metrics[f"logon.{p}"] for p in phases) - metrics["logon.total"]) < 0.01
    assert "power_on" not in step.output, "a running VM has no power-on phase"
    code, out, _ = vm.shell("cat /run/atp-session")
    assert (code, out.strip()) == (0, vm.user)
    assert vm.marker("/tmp/atp-desktop")
    summary = report.to_dict()["logon"]
    assert summary["total"]["count"] == 1
    assert summary["desktop"]["median"] == metrics["logon.desktop"]
    print({p: metrics[f"logon.{p}"] for p in [*phases, "total"]})
