"""Input-to-display latency of input steps (engine side, on a scripted display client): measured
from the acting input to the first update (in the area), judged against ``max_latency`` (step or
defaults), summarised per action kind; the hypervisor path says it does not measure; bad
values are schema errors with line and column."""

import time
from dataclasses import dataclass, field

import numpy as np
import pytest
from PIL import Image

from atp_core.errors import OperationTimeout
from atp_core.orchestrator import ReferenceSpec, ScenarioValidationError, load_scenario
from atp_core.orchestrator.latency import percentile, summarize
from atp_core.protocol.spice import Frame, SentInput, Update
from tests.unit.fake_vm import FakeRig, run_yaml


@dataclass
class ScriptedDisplay:
    """Answers every key or button press with a display update ``delay`` seconds later in
    ``region`` (and a stray update elsewhere at once)."""

    delay: float = 0.05
    region: tuple = (100, 100, 50, 20)  # also drawn on frame() as the answer
    sent: list = field(default_factory=list)
    updates: list = field(default_factory=list)

    def input(self, kind: str) -> None:
        now = time.monotonic()
        self.sent.append(SentInput(now, kind))
        if kind in ("key_down", "button_down"):
            self.updates.append(Update(len(self.updates), now + 0.001, 900, 700, 10, 10))
            x, y, w, h = self.region
            self.updates.append(Update(len(self.updates), now + self.delay, x, y, w, h))

    def frame(self):
        """The screen: grey, with a chequered box once the answering update has arrived."""
        now = time.monotonic()
        arrived = [u for u in self.updates if u.time <= now]
        pixels = np.full((120, 200, 3), 90, np.uint8)
        last = max(arrived, key=lambda u: u.time, default=None)
        if any((u.x, u.y) == self.region[:2] for u in arrived):
            pixels[40:80, 60:140] = 255
            pixels[50:70, 70:100] = 0
        return Frame(pixels, last.time if last else 0.0, len(arrived))

    def inputs_since(self, after):
        return [i for i in self.sent if i.time > after]

    def wait_update(self, after=None, region=None, timeout=5.0, cancel=None):
        deadline = time.monotonic() + timeout
        while True:
            for u in sorted(self.updates, key=lambda u: u.time):
                if u.time > after and u.intersects(region) and u.time <= time.monotonic():
                    return u
            if time.monotonic() >= deadline:
                raise OperationTimeout("no display update")
            time.sleep(0.005)


def spice_rig(delay: float) -> tuple[FakeRig, ScriptedDisplay]:
    rig = FakeRig()
    vm = rig.vm("a")
    display = ScriptedDisplay(delay=delay)
    vm.spice = display
    keyboard = vm.keyboard

    class Keys:
        def send_key(self, key, hold_ms=None):
            display.input("key_down")
            keyboard.send_key(key, hold_ms)
            display.input("key_up")

        def send_text(self, text, interval_ms=None, hold_ms=None, cancel=None):
            for _ in text:
                display.input("key_down")
                display.input("key_up")
            keyboard.send_text(text, interval_ms, hold_ms, cancel)

    class Mouse:
        def click(self, x=None, y=None, button="left", double=False):
            if x is not None:
                display.input("move")
            display.input("button_down")
            display.input("button_up")

    vm.keyboard = Keys()
    vm.mouse = Mouse()
    return rig, display


AREA = "area: {x: 100, y: 100, width: 50, height: 20}"


def test_key_latency_is_input_to_first_update_in_the_area():
    rig, _ = spice_rig(0.12)
    report, events, _ = run_yaml(
        f"""
name: l
steps:
  - type: send_key
    key: a
    {AREA}
  - type: send_key
    key: b
""",
        rig=rig,
    )
    in_area, anywhere = report.targets[0].steps
    assert in_area.status == "passed", in_area.error
    # the scripted display stamps its answer 120 ms after the press: the measure is exact
    assert in_area.metrics["latency"] == pytest.approx(0.12, abs=0.001)
    assert in_area.metrics["action"] == "key"
    assert in_area.metrics["latency_to"] == "first display update in area"
    assert "latency 12" in in_area.output
    # without an area the stray update elsewhere (1 ms) is the first one
    assert anywhere.metrics["latency"] == pytest.approx(0.001, abs=0.001)
    finished = [e for e in events if e.type == "step_finished"]
    assert finished[0].data["metrics"]["latency"] == in_area.metrics["latency"]


def test_max_latency_fails_with_the_measured_value():
    rig, _ = spice_rig(0.2)
    report, _, _ = run_yaml(
        f"""
name: l
steps:
  - type: mouse_click
    x: 120
    y: 110
    {AREA}
    max_latency: 50ms
""",
        rig=rig,
    )
    (step,) = report.targets[0].steps
    assert step.status == "failed"
    assert step.error.startswith("latency 2")
    assert "> max_latency 50 ms" in step.error
    assert step.metrics["latency"] >= 0.195 and step.metrics["action"] == "click"


def test_defaults_max_latency_applies_to_every_input_step():
    rig, _ = spice_rig(0.15)
    report, _, _ = run_yaml(
        f"""
name: l
defaults:
  max_latency: 100ms
  continue_on_error: true
steps:
  - type: send_text
    text: hi
    {AREA}
  - type: send_key
    key: ret
    {AREA}
    max_latency: 1s
""",
        rig=rig,
    )
    text, key = report.targets[0].steps
    assert text.status == "failed" and "max_latency 100 ms" in text.error
    assert key.status == "passed", key.error
    assert report.to_dict()["latency"]["text"]["count"] == 1
    junit = report.to_junit_xml()
    assert '<property name="latency.key.count" value="1"' in junit
    assert '<property name="action" value="text"' in junit


def test_hypervisor_path_is_not_measured_and_max_latency_there_is_an_error():
    report, _, _ = run_yaml(
        """
name: l
defaults:
  continue_on_error: true
steps:
  - type: send_key
    key: a
  - type: send_key
    key: a
    max_latency: 100ms
"""
    )
    plain, limited = report.targets[0].steps
    assert plain.status == "passed"
    assert plain.metrics == {
        "latency": None,
        "latency_note": "not measured on the hypervisor display path",
    }
    assert limited.status == "error"
    assert "display: spice" in limited.error


def test_no_update_at_all_is_noted_and_fails_only_with_max_latency():
    rig, display = spice_rig(0.05)
    display.region = (0, 0, 1, 1)
    report, _, _ = run_yaml(
        f"""
name: l
defaults:
  continue_on_error: true
steps:
  - type: send_key
    key: a
    {AREA}
    timeout: 1s
  - type: send_key
    key: a
    {AREA}
    max_latency: 100ms
    timeout: 2s
""",
        rig=rig,
    )
    quiet, limited = report.targets[0].steps
    assert quiet.status == "passed" and quiet.metrics["latency"] is None
    assert "no display update in area" in quiet.metrics["latency_note"]
    assert limited.status == "failed" and "no display update in area" in limited.error


def test_until_reference_ends_at_the_update_that_shows_it(tmp_path):
    rig, display = spice_rig(0.15)
    answer = np.full((120, 200, 3), 90, np.uint8)
    answer[40:80, 60:140] = 255
    answer[50:70, 70:100] = 0
    Image.fromarray(answer).save(tmp_path / "answer.png")
    refs = {"answer": ReferenceSpec(tmp_path / "answer.png", areas=[(55, 35, 90, 50)])}
    report, _, _ = run_yaml(
        """
name: l
defaults:
  continue_on_error: true
steps:
  - type: send_key
    key: a
    until: {reference: answer}
    timeout: 5s
  - type: send_key
    key: a
    until: {reference: nowhere}
""",
        rig=rig,
        references=refs,
    )
    shown, unknown = report.targets[0].steps
    assert shown.status == "passed", shown.error
    assert shown.metrics["latency"] == pytest.approx(0.15, abs=0.001), shown.metrics
    assert shown.metrics["latency_to"] == "reference 'answer' shown"
    assert unknown.status == "error" and "unknown reference image 'nowhere'" in unknown.error


def test_summary_per_action_kind():
    @dataclass
    class Row:
        metrics: dict

    rows = [Row({"action": "key", "latency": v / 1000}) for v in range(1, 101)]
    rows += [Row({"action": "click", "latency": 0.2}), Row({"latency": None}), Row({})]
    summary = summarize(rows)
    assert summary["key"] == {"count": 100, "p50": 0.0505, "p95": 0.095, "max": 0.1}
    assert summary["click"]["count"] == 1 and summary["click"]["p95"] == 0.2
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0


@pytest.mark.parametrize(
    ("text", "where", "says"),
    [
        (
            "name: l\nsteps:\n  - type: send_key\n    key: a\n    max_latency: 0ms\n",
            "<scenario>:5:18: steps[0].max_latency",
            "max_latency must be longer than 0",
        ),
        (
            "name: l\ndefaults:\n  max_latency: fast\nsteps: []\n",
            "<scenario>:3:16: defaults.max_latency",
            "expected a duration",
        ),
        (
            "name: l\nsteps:\n  - type: send_key\n    key: a\n    until: {reference: a, text: b}\n",
            "<scenario>:5:12: steps[0].until",
            "exactly one of 'reference' or 'text'",
        ),
    ],
)
def test_bad_latency_fields_are_schema_errors_with_a_position(text, where, says):
    with pytest.raises(ScenarioValidationError) as info:
        load_scenario(text)
    message = str(info.value)
    assert where in message and says in message, message
