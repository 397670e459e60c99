"""click_image and reference candidates: a reference name holds several images; the check
passes when any matches and the report names that candidate; the click lands on the match
area's centre plus the offset; no candidate matching fails with the closest one."""

import io
from pathlib import Path

from PIL import Image, ImageDraw

from atp_core.orchestrator import ReferenceSpec
from tests.unit.fake_vm import FakeRig, run_yaml


def button(label: str, at: tuple[int, int], size=(640, 480)) -> bytes:
    image = Image.new("RGB", size, (200, 200, 200))
    draw = ImageDraw.Draw(image)
    x, y = at
    draw.rectangle((x, y, x + 60, y + 30), fill="white", outline="black", width=2)
    draw.text((x + 12, y + 9), label, fill="black")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def references(tmp_path: Path) -> dict:
    candidates = []
    for label in ("OK", "Okay"):
        path = tmp_path / f"ok-{label}.png"
        path.write_bytes(button(label, (100, 100)))
        candidates.append(
            ReferenceSpec(path=path, areas=[(100, 100, 61, 31)], threshold=0.99, label=label)
        )
    return {"ok": candidates}


CLICK = """
name: c
steps:
  - type: click_image
    reference: ok
    offset: [5, -3]
    interval: 100ms
    timeout: 5s
    capture: where
  - type: verify_screen
    reference: ok
    timeout: 5s
"""


def test_second_candidate_matches_elsewhere_and_is_clicked(tmp_path):
    rig = FakeRig()
    rig.vm("a").screen.frames = [button("Okay", (400, 300))]
    report, _, _ = run_yaml(CLICK, rig=rig, references=references(tmp_path), artifact_dir=tmp_path)
    click, verify = report.targets[0].steps
    assert click.status == "passed", click.error
    assert "matched by candidate 'Okay' of 2" in click.output
    assert ("click", 400 + 30 + 5, 300 + 15 - 3, "left", False) in rig.vm("a").calls
    assert verify.status == "passed" and "by candidate 'Okay' of 2" in verify.output


def test_first_candidate_in_place(tmp_path):
    rig = FakeRig()
    rig.vm("a").screen.frames = [button("OK", (100, 100))]
    report, _, _ = run_yaml(CLICK, rig=rig, references=references(tmp_path), artifact_dir=tmp_path)
    click = report.targets[0].steps[0]
    assert click.status == "passed" and "by candidate 'OK' of 2" in click.output
    assert ("click", 135, 112, "left", False) in rig.vm("a").calls


def test_no_candidate_matches(tmp_path):
    rig = FakeRig()
    rig.vm("a").screen.frames = [button("Cancel", (100, 100))]
    report, _, _ = run_yaml(
        CLICK.replace("5s", "1s"), rig=rig, references=references(tmp_path), artifact_dir=tmp_path
    )
    click = report.targets[0].steps[0]
    assert click.status == "failed"
    assert "closest candidate" in click.error and "of 2" in click.error
    assert [a["kind"] for a in click.artifacts] == ["screenshot", "screenshot", "diff"]
    assert not [c for c in rig.vm("a").calls if c[0] == "click"]


def test_command_line_folder_names_candidates(tmp_path):
    from atp_core.orchestrator.cli_run import load_references

    (tmp_path / "ok.png").write_bytes(button("OK", (100, 100)))
    (tmp_path / "ok@okay.png").write_bytes(button("Okay", (100, 100)))
    (tmp_path / "other.png").write_bytes(button("X", (0, 0)))
    refs = load_references(tmp_path)
    assert sorted(refs) == ["ok", "other"]
    assert [s.label for s in refs["ok"]] == ["ok", "okay"]


def test_a_drag_starts_where_click_image_found_the_reference(tmp_path):
    rig = FakeRig()
    rig.vm("a").screen.frames = [button("Okay", (400, 300))]
    report, _, _ = run_yaml(
        """
name: drag
steps:
  - type: click_image
    reference: ok
    capture: where
  - type: mouse_drag
    from: ["${where.x}", "${where.y}"]
    to: [600, 500]
    moves: 40
    hold: 1s
""",
        rig=rig,
        references=references(tmp_path),
        artifact_dir=tmp_path,
    )
    assert [s.status for s in report.targets[0].steps] == ["passed", "passed"]
    assert ("drag", (430, 315), (600, 500), "left", 40) in rig.vm("a").calls
    assert ("drag-hold", 1.0) in rig.vm("a").calls


def test_a_drag_coordinate_must_be_a_number_or_a_variable():
    import pytest

    from atp_core.orchestrator import ScenarioValidationError, load_scenario

    with pytest.raises(ScenarioValidationError, match="whole number of pixels or a"):
        load_scenario(
            '{"name": "d", "steps": [{"type": "mouse_drag", "from": ["x", 1], "to": [1, 2]}]}'
        )
