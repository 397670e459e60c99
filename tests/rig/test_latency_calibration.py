"""Calibration of the input-to-display latency on the real SPICE path: a guest app on the desktop
answers a key after a known delay (0, 100, 250, 500 ms); the engine's measured latency of each
``send_key`` step tracks the app's delay within one display refresh + 20 ms.

The app is an xterm (cursor hidden) running a shell loop that reads one key, sleeps the key's
delay ("0" 0 ms, "1" 100 ms, "2" 250 ms, "5" 500 ms), then redraws its line in one write and
logs how long it really waited (guest clock, ``adjtimex``: a TCG guest's ``sleep`` overshoots
under load, and that is the delay its user sees). Each key waits until the last answer was
written (the app's counter file, read through the agent) and drawn, so late redraws of the last
answer are not taken for this one. Per sample, the measured latency less the app's own delay is
what the input and display path added; its median for each delay must be within the tolerance of
the 0 ms one, and the app must have waited at least the delay. 7 samples per delay, interleaved.
The app is started through the guest agent and closed at the end.
"""

import statistics

import pytest

from atp_core.orchestrator import Target, load_scenario, run_scenario
from tests.rig.protocol_helpers import poll

pytestmark = pytest.mark.rig

DELAYS = {"0": 0.0, "1": 0.1, "2": 0.25, "5": 0.5}
SAMPLES = 7
# QEMU's display refresh interval (GUI_REFRESH_INTERVAL_DEFAULT, 30 ms) + the 20 ms allowance
TOLERANCE = 0.030 + 0.020

APP = r"""#!/bin/sh
now() { adjtimex | { while read a b; do case $a in time.tv_sec:) s=$b;; time.tv_usec:) u=$b;;
  esac; done; echo $((s * 1000000 + u)); }; }
stty -echo -icanon
printf '\033[?25l'
n=0
while read -rn1 k; do
  t1=$(now)
  case "$k" in 1) sleep 0.1;; 2) sleep 0.25;; 5) sleep 0.5;; q) exit 0;; esac
  t2=$(now)
  n=$((n+1))
  printf '\rkey %s answer %04d ' "$k" "$n"
  echo "$n $k $((t2 - t1))" >> /tmp/atp-answer.log
  echo "$n" > /tmp/atp-answer.n
done
"""
X = "DISPLAY=:0 XAUTHORITY=$(ls /var/lib/xdm/authdir/authfiles/* | head -n1)"


def _geometry(vm) -> tuple[int, int, int, int] | None:
    code, out, _ = vm.shell(f"{X} xwininfo -name atp-answer 2>/dev/null")
    if code != 0 or "IsViewable" not in out:
        return None
    values = {}
    for line in out.splitlines():
        key, _, value = line.strip().partition(":")
        values[key] = value.strip()
    return (
        int(values["Absolute upper-left X"]),
        int(values["Absolute upper-left Y"]),
        int(values["Width"]),
        int(values["Height"]),
    )


@pytest.fixture
def answer_app(desktop_session):
    vm = desktop_session
    vm.shell(f"cat > /tmp/atp-answer.sh <<'EOF'\n{APP}EOF\nchmod +x /tmp/atp-answer.sh")
    vm.shell("pkill -f atp-answer 2>/dev/null; rm -f /tmp/atp-answer.n /tmp/atp-answer.log; true")
    vm.shell(
        f"{X} setsid xterm -geometry 24x2+420+330 -title atp-answer -e /tmp/atp-answer.sh "
        ">/dev/null 2>&1 </dev/null &"
    )
    box = poll(lambda: _geometry(vm), bool, timeout=90)
    assert box, "the answering app's window was not mapped within 90 s"
    yield vm, box
    vm.shell("pkill -f atp-answer 2>/dev/null; true")


def test_measured_latency_tracks_the_apps_delay(answer_app, tmp_path):
    vm, (x, y, w, h) = answer_app
    keys = [k for _ in range(SAMPLES) for k in DELAYS]
    steps = [
        f"  - type: mouse_move\n    x: {x + w // 2}\n    y: {y + h // 2}",
        "  - type: wait\n    name: twm gives the focus to the window under the pointer\n"
        "    duration: 1s",
    ]
    area = f"{{x: {x}, y: {y}, width: {w}, height: {h}}}"
    for n, key in enumerate(keys):
        # the last answer written (the app's counter, read through the agent) and drawn (a
        # pause) before the next key: its late redraws must not count as this key's answer
        steps.append(
            "  - type: wait_until\n    timeout: 60s\n    interval: 100ms\n    check:\n"
            "      type: verify_command\n"
            f"      command: grep -qx {n} /tmp/atp-answer.n || [ {n} = 0 ]"
        )
        steps.append("  - type: wait\n    duration: 300ms")
        steps.append(f"  - type: send_key\n    key: '{key}'\n    area: {area}\n    timeout: 20s")
    text = "name: latency-calibration\ndisplay: spice\nsteps:\n" + "\n".join(steps) + "\n"
    report = run_scenario(
        load_scenario(text), [Target("desk", vm.uri, vm.name)], artifact_dir=tmp_path
    )
    target = report.targets[0]
    assert target.result == "passed", [(s.id, s.status, s.error) for s in target.steps]
    answered = {}  # the app's own delay per answer (guest clock, microseconds)
    for line in vm.shell("cat /tmp/atp-answer.log")[1].split("\n"):
        if line.strip():
            number, key, usec = line.split()
            answered[int(number)] = (key, int(usec) / 1e6)
    sent = [s for s in target.steps if s.type == "send_key"]
    assert len(sent) == len(keys) == len(answered), (len(sent), len(answered))
    pipeline: dict[str, list[float]] = {k: [] for k in DELAYS}
    waited: dict[str, list[float]] = {k: [] for k in DELAYS}
    for n, (key, step) in enumerate(zip(keys, sent, strict=True), start=1):
        assert step.metrics["action"] == "key"
        assert step.metrics["latency_to"] == "first display update in area", step.metrics
        assert answered[n][0] == key
        waited[key].append(answered[n][1])
        # what the display path added to what the app itself waited
        pipeline[key].append(step.metrics["latency"] - answered[n][1])
    shown = {k: [round(v * 1000) for v in vs] for k, vs in pipeline.items()}
    print(f"latency less the app's own delay, ms, by delay key: {shown}")
    own = {k: [round(v * 1000) for v in vs] for k, vs in waited.items()}
    print(f"the app's own delays, ms: {own}")
    baseline = statistics.median(pipeline["0"])
    for key, delay in DELAYS.items():
        assert statistics.median(waited[key]) >= delay - 0.005, (key, waited[key])
        off = statistics.median(pipeline[key]) - baseline
        assert abs(off) <= TOLERANCE, (
            f"delay {delay * 1000:.0f} ms: the measured latency less the app's delay is "
            f"{off * 1000:.0f} ms off the 0 ms baseline ({baseline * 1000:.0f} ms); ms {shown}"
        )
    summary = report.to_dict()["latency"]["key"]
    assert summary["count"] == len(keys)
    assert summary["max"] >= max(waited["5"])
