"""Developer mode on the real stack (daphne, a Celery worker, a rig guest): a run launched with
``pause_on: mismatch`` pauses its target on a failing screen check with the best match and the
diff stored; while paused the worker keeps the heartbeat and the reaper leaves the run alone;
"continue" lets it finish failed; a cancel while paused ends it cancelled."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image

from atp_core.status import Result, RunState
from hosts.models import Host, VirtualMachine
from runs import reaper
from runs.models import Artifact, Run, RunEvent
from runs.pausing import current_pause, request_resume
from runs.services import launch_run, request_cancel
from scenarios.services import create_scenario, save_reference_image
from tests.fixtures.web import make_user

pytestmark = pytest.mark.rig

SCENARIO = """version: 1
name: pause-on-mismatch
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
    Image.new("RGB", (160, 90), (220, 20, 20)).save(buf, "PNG")
    return buf.getvalue()


def _wait(read, done, timeout=180.0, every=0.5):
    deadline = time.monotonic() + timeout
    value = read()
    while not done(value) and time.monotonic() < deadline:
        time.sleep(every)
        value = read()
    return value


def _launch(rig_vm, libvirt_uri):
    host = Host.objects.create(name="local", uri=libvirt_uri)
    VirtualMachine.objects.create(host=host, name=rig_vm.name)
    user = make_user("olga", "operator")
    save_reference_image(
        name="red-box",
        png=_red_box(),
        areas=[{"x": 0, "y": 0, "width": 160, "height": 90, "type": "match"}],
        user=user,
        threshold=0.95,
    )
    scenario = create_scenario(SCENARIO, user)
    revision = scenario.current_revision
    run = launch_run(
        revision, [{"vm": rig_vm.name, "host": "local"}], {}, user, pause_on="mismatch"
    )
    target = run.run_targets.get()
    pause = _wait(lambda: current_pause(run.pk, target.name), lambda p: p is not None)
    assert pause is not None, [e.type for e in RunEvent.objects.filter(run=run)]
    return user, run, target, pause


def _finished(run) -> Run:
    return _wait(
        lambda: Run.objects.get(pk=run.pk), lambda r: r.state == RunState.FINISHED, timeout=120
    )


def test_a_failing_screen_check_pauses_until_continue(
    live_server, celery_worker_process, rig_vm, libvirt_uri
):
    user, run, target, pause = _launch(rig_vm, libvirt_uri)
    data = pause["data"]
    assert pause["step_id"] == "1" and data["reason"] == "mismatch"
    check = data["check"]
    assert check["reference"] == "red-box" and check["score"] < check["threshold"]
    stored = set(Artifact.objects.filter(run=run).values_list("name", flat=True))
    assert {check["best"], check["diff"]} <= stored

    first = Run.objects.get(pk=run.pk).heartbeat
    later = _wait(
        lambda: Run.objects.get(pk=run.pk).heartbeat, lambda hb: hb and hb > first, timeout=60
    )
    assert later > first, "a paused run's worker keeps the heartbeat"
    reaper.reap()
    assert Run.objects.get(pk=run.pk).state == RunState.RUNNING
    assert current_pause(run.pk, target.name) is not None

    request_resume(run, target, "continue", user)
    done = _finished(run)
    assert done.result == Result.FAILED
    resumed = RunEvent.objects.get(run=run, type="target_resumed")
    assert resumed.payload["decision"] == "continue" and resumed.payload["by"] == "olga"
    assert current_pause(run.pk, target.name) is None
    steps = dict(done.steps.values_list("step_id", "status"))
    assert steps["1"] == "failed" and steps["2"] == "skipped" and steps["F1"] == "passed"


def test_cancel_while_paused(live_server, celery_worker_process, rig_vm, libvirt_uri):
    user, run, target, _ = _launch(rig_vm, libvirt_uri)
    request_cancel(run, user)
    done = _finished(run)
    assert done.result == Result.CANCELLED
    resumed = RunEvent.objects.get(run=run, type="target_resumed")
    assert resumed.payload["decision"] == "cancelled"
