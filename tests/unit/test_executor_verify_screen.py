"""verify_screen through the executor: polls screenshots until the reference matches; on a
timeout the step fails with the best score, and the best screenshot, the reference as it was
checked and a diff image are artifacts (events and report)."""

from pathlib import Path

from atp_core.orchestrator import ReferenceSpec, screen_match
from tests.unit.fake_vm import FakeRig, run_yaml
from tests.unit.test_screen_match import screen

SCENARIO = """
name: screen
steps:
  - type: screenshot
    label: first
    capture: shot
  - type: verify_screen
    reference: ready
    timeout: 1500ms
    interval: 100ms
"""


def rig_with(frames) -> FakeRig:
    rig = FakeRig()
    rig.vm("a").screen.frames = frames
    return rig


def references(tmp_path: Path) -> dict:
    path = tmp_path / "ready.png"
    path.write_bytes(screen("READY 42"))
    return {"ready": ReferenceSpec(path=path, areas=[(8, 18, 60, 16)], threshold=0.95)}


def test_polls_until_the_screen_matches(tmp_path):
    frames = [screen("booting"), screen("booting"), screen("READY 42", at=(50, 100))]
    rig = rig_with(frames)
    report, events, _ = run_yaml(
        SCENARIO, rig=rig, references=references(tmp_path), artifact_dir=tmp_path / "art"
    )
    steps = report.targets[0].steps
    assert [s.status for s in steps] == ["passed", "passed"], steps[1].error
    assert rig.vm("a").screen.taken == 3
    assert "after 2 screenshot(s)" in steps[1].output
    (shot,) = [e for e in events if e.type == "artifact"]
    assert shot.data["kind"] == "screenshot" and Path(shot.data["path"]).is_file()


def test_never_matching_fails_with_best_score_and_diff(tmp_path):
    rig = rig_with([screen("ERROR 17")])
    report, events, _ = run_yaml(
        SCENARIO, rig=rig, references=references(tmp_path), artifact_dir=tmp_path / "art"
    )
    step = report.targets[0].steps[1]
    assert step.status == "failed"
    assert "best template score" in step.error and "< threshold 0.95" in step.error
    kinds = [(a["kind"], a["name"]) for a in step.artifacts]
    assert kinds == [
        ("screenshot", "2-ready-best.png"),
        ("screenshot", "2-ready-reference.png"),
        ("diff", "2-ready-diff.png"),
    ]
    assert all(Path(a["path"]).read_bytes()[:4] == b"\x89PNG" for a in step.artifacts)
    checked = screen_match.load_image(Path(step.artifacts[1]["path"]).read_bytes())
    assert (checked == screen_match.load_image(screen("READY 42"))).all(), "the reference image"
    assert [e.data["name"] for e in events if e.type == "artifact"][-1].endswith("ready-diff.png")


def test_unknown_reference_is_an_error(tmp_path):
    rig = rig_with([screen("x")])
    report, _, _ = run_yaml(SCENARIO, rig=rig, artifact_dir=tmp_path)
    step = report.targets[0].steps[1]
    assert step.status == "error" and "unknown reference image 'ready'" in step.error
