"""Developer mode in the engine: ``pause_on`` pauses a target on a failed step, a screen
mismatch or before a step; retry (with the references read again), skip, continue, the pause
budget running out (continues as failed, saying so), a cancel while paused, and the pause not
counting against the run's timeout."""

from __future__ import annotations

import io
import threading
import time

import pytest
from PIL import Image

from atp_core.cancel import CancelToken
from atp_core.orchestrator import ReferenceSpec
from atp_core.orchestrator.pause import Decision
from tests.unit.fake_vm import FakeRig, run_yaml, statuses


def _png(color) -> bytes:
    buf = io.BytesIO()
    img = Image.new("RGB", (120, 90), "black")
    img.paste(Image.new("RGB", (60, 40), color), (30, 20))
    img.save(buf, "PNG")
    return buf.getvalue()


class ScriptedPauser:
    """Answers each pause with the next action (after ``delay`` s); ``on_pause`` runs first."""

    def __init__(self, actions, *, delay=0.0, references=None, on_pause=None):
        self.actions = list(actions)
        self.delay = delay
        self.refs = references
        self.on_pause = on_pause
        self.asked: dict[str, float] = {}
        self.reloads = 0

    def decision(self, target, pause_id):
        first = self.asked.setdefault(pause_id, time.monotonic())
        if time.monotonic() - first < self.delay or not self.actions:
            return None
        if self.on_pause is not None:
            self.on_pause()
        return Decision(self.actions.pop(0), by="olga")

    def references(self):
        self.reloads += 1
        return self.refs


SCREEN_CHECK = """
name: p
{extra}
steps:
  - type: verify_screen
    reference: box
    timeout: 1s
    interval: 200ms
  - type: guest_ping
finally:
  - type: guest_ping
"""


@pytest.fixture
def box(tmp_path):
    path = tmp_path / "box.png"
    path.write_bytes(_png("red"))
    return {"box": ReferenceSpec(path=path, areas=[(30, 20, 60, 40)], threshold=0.95)}


def _rig(color="blue") -> FakeRig:
    rig = FakeRig()
    rig.vm("a").screen.frames = [_png(color)]
    return rig


def _paused(events):
    return [e for e in events if e.type == "target_paused"]


def test_a_mismatch_pauses_with_the_best_match_and_a_retry_after_the_fix_passes(box, tmp_path):
    rig = _rig("blue")
    fixed = tmp_path / "fixed.png"
    fixed.write_bytes(_png("blue"))
    new_refs = {"box": ReferenceSpec(path=fixed, areas=[(30, 20, 60, 40)], threshold=0.95)}
    pauser = ScriptedPauser(["retry"], references=new_refs)
    report, events, _ = run_yaml(
        SCREEN_CHECK.format(extra="pause_on: mismatch"),
        rig=rig,
        references=box,
        pauser=pauser,
        artifact_dir=tmp_path / "art",
    )
    assert statuses(report)[:2] == [("1", "passed"), ("2", "passed")]
    assert report.result == "passed"
    (paused,) = _paused(events)
    assert paused.step_id == "1" and paused.data["reason"] == "mismatch"
    check = paused.data["check"]
    assert check["reference"] == "box" and check["score"] < check["threshold"]
    assert check["best"].endswith(".png") and check["diff"].endswith(".png")
    assert check["areas"][0]["area"] == [30, 20, 60, 40]
    resumed = [e for e in events if e.type == "target_resumed"]
    assert [(e.data["decision"], e.data["by"]) for e in resumed] == [("retry", "olga")]
    assert report.targets[0].steps[0].attempts == 2 and pauser.reloads == 1


def test_skip_marks_the_step_skipped_and_the_target_goes_on(box, tmp_path):
    report, events, _ = run_yaml(
        SCREEN_CHECK.format(extra="pause_on: failure"),
        rig=_rig(),
        references=box,
        pauser=ScriptedPauser(["skip"]),
        artifact_dir=tmp_path,
    )
    assert statuses(report)[:2] == [("1", "skipped"), ("2", "passed")]
    assert "skipped by olga while paused" in report.targets[0].steps[0].error
    assert report.result == "passed"


def test_continue_keeps_the_failure_and_teardown_runs(box, tmp_path):
    report, events, _ = run_yaml(
        SCREEN_CHECK.format(extra="pause_on: failure"),
        rig=_rig(),
        references=box,
        pauser=ScriptedPauser(["continue"]),
        artifact_dir=tmp_path,
    )
    assert statuses(report) == [("1", "failed"), ("2", "skipped"), ("F1", "passed")]
    assert report.result == "failed"


def test_the_pause_budget_runs_out_and_the_target_continues_as_failed(box, tmp_path):
    report, events, _ = run_yaml(
        SCREEN_CHECK.format(extra="pause_on: failure"),
        rig=_rig(),
        references=box,
        pauser=ScriptedPauser([]),
        pause_max=0.6,
        artifact_dir=tmp_path,
    )
    step = report.targets[0].steps[0]
    assert step.status == "failed"
    assert "ATP_PAUSE_MAX" in step.error and "continued as failed" in step.error
    (resumed,) = [e for e in events if e.type == "target_resumed"]
    assert resumed.data["decision"] == "timeout" and resumed.data["waited"] >= 0.6


def test_cancel_while_paused_cancels_the_target(box, tmp_path):
    token = CancelToken()
    threading.Timer(1.0, token.cancel).start()
    report, events, _ = run_yaml(
        SCREEN_CHECK.format(extra="pause_on: failure"),
        rig=_rig(),
        references=box,
        pauser=ScriptedPauser([]),
        cancel=token,
        artifact_dir=tmp_path,
    )
    assert report.result == "cancelled"
    (resumed,) = [e for e in events if e.type == "target_resumed"]
    assert resumed.data["decision"] == "cancelled"
    assert statuses(report)[-1] == ("F1", "passed")  # teardown still runs


def test_a_mismatch_rule_does_not_pause_on_other_failures(tmp_path):
    rig = FakeRig()
    rig.vm("a").agent.answers = False
    report, events, _ = run_yaml(
        "name: p\npause_on: mismatch\nsteps:\n  - type: guest_ping\n",
        rig=rig,
        pauser=ScriptedPauser(["retry"]),
        artifact_dir=tmp_path,
    )
    assert report.result == "error" and not _paused(events)


def test_pause_at_a_step_waits_before_it_and_does_not_count_against_the_timeout(tmp_path):
    text = "name: p\ntimeout: 2s\nsteps:\n  - type: guest_ping\n  - type: guest_ping\n"
    pauser = ScriptedPauser(["continue"], delay=2.5)
    report, events, _ = run_yaml(text, pauser=pauser, pause_on="step:2", artifact_dir=tmp_path)
    assert report.result == "passed", [(s.id, s.status, s.error) for s in report.targets[0].steps]
    (paused,) = _paused(events)
    assert paused.step_id == "2" and paused.data["reason"] == "step"
    kinds = [(e.type, e.step_id) for e in events if e.type in ("target_paused", "step_started")]
    assert kinds == [("step_started", "1"), ("target_paused", "2"), ("step_started", "2")]


def test_without_a_pauser_pause_on_changes_nothing(box, tmp_path):
    report, events, _ = run_yaml(
        SCREEN_CHECK.format(extra="pause_on: failure"),
        rig=_rig(),
        references=box,
        artifact_dir=tmp_path,
    )
    assert report.result == "failed" and not _paused(events)
