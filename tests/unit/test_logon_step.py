"""The ``logon`` step on a scripted display: with ``power_on`` on a VM that is off it times
power on and agent up before the login screen, credentials, desktop and first app; the phases
add up to the total; the password is typed but never shown; the hypervisor path is refused."""

import time

import numpy as np
from PIL import Image

from atp_core.orchestrator import ReferenceSpec
from atp_core.protocol.spice import Frame, SentInput, Update
from tests.unit.fake_vm import FakeRig, run_yaml

COLOURS = {"greeter": (58, 110, 165), "desktop": (46, 139, 87)}


class Desk:
    """Off until started; then the greeter, and after the password's Enter the desktop."""

    def __init__(self):
        self.screen = "black"
        self.typed = ""
        self.sent = []
        self.updates = []
        self.agent_pings = 0

    def show(self, screen):
        self.screen = screen
        self.updates.append(Update(len(self.updates) + 1, time.monotonic(), 0, 0, 64, 48))

    def frame(self):
        pixels = np.zeros((48, 64, 3), np.uint8)
        if self.screen in COLOURS:
            pixels[:] = COLOURS[self.screen]
        last = self.updates[-1] if self.updates else Update(0, 0.0, 0, 0, 0, 0)
        return Frame(pixels, last.time, last.seq)

    def wait_update(self, after=None, region=None, timeout=5.0, cancel=None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for u in self.updates:
                if u.time > after:
                    return u
            time.sleep(0.01)
        from atp_core.errors import OperationTimeout

        raise OperationTimeout("none")

    def send_text(self, text, interval_ms=None, hold_ms=None, cancel=None):
        for ch in text:
            self.sent.append(SentInput(time.monotonic(), "key_down"))
            self.typed += ch
        if self.typed.count("\n") == 2:
            self.show("desktop")

    def inputs_since(self, after):
        return [i for i in self.sent if i.time > after]


def _reference(tmp_path, name):
    path = tmp_path / f"{name}.png"
    Image.fromarray(np.full((48, 64, 3), COLOURS[name], np.uint8)).save(path)
    return ReferenceSpec(path=path, threshold=0.95)


def test_power_on_then_phases_in_order(tmp_path):
    rig = FakeRig()
    vm = rig.vm("a")
    vm.state = "shutoff"
    desk = vm.spice = Desk()

    class Power:
        def state(self):
            return vm.state

        def start(self, wait=True, timeout=120, cancel=None):
            vm.state = "running"
            desk.show("black")

        def wait_for_agent(self, timeout, cancel=None):
            time.sleep(0.2)  # the fake agent answers 0.2 s late (the phase it measures)
            desk.show("greeter")

    vm.power = Power()
    references = {n: _reference(tmp_path, n) for n in COLOURS}
    report, _, _ = run_yaml(
        """
name: l
steps:
  - type: logon
    username: atp
    password: s3cret
    power_on: true
    settle: 0.1
    login_screen: {reference: greeter}
    desktop: {reference: desktop}
    capture: phases
""",
        rig=rig,
        references=references,
    )
    (step,) = report.targets[0].steps
    assert step.status == "passed", step.error
    keys = [k for k in step.metrics if k.startswith("logon.")]
    assert keys == [
        "logon.power_on",
        "logon.agent",
        "logon.login_screen",
        "logon.credentials",
        "logon.desktop",
        "logon.total",
    ]
    assert step.metrics["logon.agent"] >= 0.19
    assert step.metrics["logon.credentials"] >= 0.1 + 0.5  # settle + the pause between fields
    total = sum(step.metrics[k] for k in keys[:-1])
    assert abs(total - step.metrics["logon.total"]) < 0.005
    assert desk.typed == "atp\ns3cret\n"
    assert "s3cret" not in step.output and "s3cret" not in report.to_json()
    assert report.to_dict()["logon"]["total"]["count"] == 1


def test_logon_needs_the_spice_display():
    report, _, _ = run_yaml(
        "name: l\nsteps:\n  - type: logon\n    username: a\n    password: b\n"
        "    desktop: {text: Desktop}\n"
    )
    (step,) = report.targets[0].steps
    assert step.status == "error" and "display: spice" in step.error
