"""The desktop example (examples/13_desktop_gui.yaml) runs green on the desktop guest from its
login screen, over both display paths: log on, open a terminal with the mouse, read a
command's output by OCR, 7 + 8 = 15 in xcalc by clicking buttons found by image, drag the
calculator by its title bar and find it (by OCR and by image) at its new place; the report
names the path. Each run starts at the login screen and ends its session afterwards (one
desktop guest boot for both)."""

from __future__ import annotations

import pytest

from tests.rig.test_examples_run import ROOT, assert_every_step_passed, run_cli

pytestmark = pytest.mark.rig

PATH = ROOT / "examples" / "13_desktop_gui.yaml"


@pytest.fixture
def desktop_at_login(desktop_vm):
    """The desktop guest at its login screen; afterwards the session the example opened (its
    terminal over the keylog window, the calculator, a black background) is ended, so the
    next test's ``desktop_session`` logs in to a fresh desktop."""
    yield desktop_vm
    desktop_vm.to_greeter()


@pytest.mark.parametrize("display", ["hypervisor", "spice"])
def test_desktop_example_over_both_display_paths(display, desktop_at_login, tmp_path):
    vm = desktop_at_login
    code, report, output = run_cli(
        [str(PATH), "--host", vm.uri, "--vm", vm.name, "--display", display], tmp_path
    )
    assert_every_step_passed(PATH, report, output)
    assert code == 0, output
    target = report["targets"][0]
    assert target["display"] == display
    steps = {s["name"]: s for s in target["steps"]}
    assert "ATP-42" in steps["the terminal's first lines"]["output"]  # read_text by OCR
    assert "clicked left at" in steps["click_image 'desktop-xcalc-equals'"]["output"]
    assert "15" in steps["the calculator shows 15"]["output"]
    moved = steps["the title bar is now at the new place too"]["output"]
    assert "desktop-xcalc-title matched" in moved, moved
    # its finally logged off: the next run of the example starts at the login screen again
    code, out, _ = vm.shell("test -f /run/atp-greeter && test ! -e /run/atp-session; echo $?")
    assert out.strip() == "0", out


def test_logon_example_times_its_phases_over_spice(desktop_at_login, tmp_path):
    path = ROOT / "examples" / "14_logon_time.yaml"
    vm = desktop_at_login
    code, report, output = run_cli([str(path), "--host", vm.uri, "--vm", vm.name], tmp_path)
    assert_every_step_passed(path, report, output)
    assert code == 0, output
    # the logon reached the desktop (its step waits for the session's keylog terminal), and
    # the example's finally logged off again: the guest is back at its login screen
    code, out, _ = vm.shell("test -f /run/atp-greeter && test ! -e /run/atp-session; echo $?")
    assert out.strip() == "0", out
