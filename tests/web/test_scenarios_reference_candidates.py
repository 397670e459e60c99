"""A reference name holds several candidate images: the reference page lists them, an
operator adds and removes one, a run from the web checks the screen against all of them and
its report names the candidate that matched; the examples' ``NAME@LABEL.png`` load as
candidates of ``NAME``."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

import atp_core.orchestrator as orchestrator
from atp_core.status import RunState
from runs.engine_runner import build_references, execute
from runs.models import Run, StepResult
from runs.services import launch_run
from scenarios import services
from scenarios.models import ReferenceCandidate, ReferenceImage
from tests.fixtures.web import make_user
from tests.unit.fake_vm import FakeRig
from tests.web.runs_core_data import inventory, revision

AREA = [{"x": 20, "y": 10, "width": 60, "height": 30, "type": "match"}]
ROOT = Path(__file__).resolve().parents[2]


def _png(ink="black", paper="white", size=(200, 100)) -> bytes:
    img = Image.new("RGB", size, paper)
    colour = Image.new("RGB", (1, 1), ink).getpixel((0, 0))
    for x in range(20, min(80, size[0])):
        for y in range(10, min(40, size[1])):
            if (x // 6 + y // 6) % 2:  # a checkered box: a pattern the match can find
                img.putpixel((x, y), colour)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _reference(user=None) -> ReferenceImage:
    return services.save_reference_image(
        name="login-box", png=_png(), areas=AREA, user=user, threshold=0.95
    )


def _add(client, label="dark", png=None):
    upload = SimpleUploadedFile("dark.png", png or _png("yellow", "navy"), "image/png")
    return client.post(
        "/references/login-box/candidates/add", {"label": label, "image": upload}, follow=True
    )


@pytest.mark.django_db
def test_an_operator_adds_lists_and_removes_a_candidate(client):
    client.force_login(make_user("olga", "operator"))
    _reference()
    page = _add(client).content.decode()
    assert "Added candidate dark to login-box" in page
    assert 'data-candidate="login-box"' in page and 'data-candidate="dark"' in page
    candidate = ReferenceCandidate.objects.get(reference__name="login-box", label="dark")
    assert (candidate.width, candidate.height, candidate.areas) == (200, 100, [])
    served = client.get("/references/login-box/candidates/dark/image.png")
    image = Image.open(io.BytesIO(b"".join(served.streaming_content)))
    assert image.getpixel((0, 0)) == (0, 0, 128)  # navy paper: the candidate, not the own image
    assert "2 candidates" in client.get("/references/").content.decode()
    api = client.get("/api/references/login-box/").json()
    assert api["candidates"] == [
        {
            "label": "dark",
            "width": 200,
            "height": 100,
            "areas": [],
            "image_url": "/references/login-box/candidates/dark/image.png",
        }
    ]

    page = client.post("/references/login-box/candidates/dark/remove", follow=True)
    assert "Removed candidate dark from login-box" in page.content.decode()
    assert not ReferenceCandidate.objects.exists()
    assert client.get("/references/login-box/candidates/dark/image.png").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("label", "png", "message"),
    [
        ("small", _png(size=(50, 30)), "the reference&#x27;s areas do not fit this 50x30 image"),
        ("login-box", None, "is the reference&#x27;s own image"),
        ("!!", None, "label: use letters, digits"),
        ("junk", b"not a png", "the screenshot is not a readable image"),
    ],
)
def test_a_bad_candidate_is_refused_with_a_clear_message(client, label, png, message):
    client.force_login(make_user("olga", "operator"))
    _reference()
    page = _add(client, label, png).content.decode()
    assert "Candidate not added: " in page and message in page, page
    assert not ReferenceCandidate.objects.exists()


@pytest.mark.django_db
def test_a_viewer_sees_candidates_but_cannot_change_them(client):
    ref = _reference()
    services.add_reference_candidate(ref, label="dark", png=_png("yellow", "navy"), user=None)
    client.force_login(make_user("vera", "viewer"))
    page = client.get("/references/login-box/").content.decode()
    assert 'data-candidate="dark"' in page and "Add candidate" not in page
    assert _add(client, "other").status_code == 403
    assert client.post("/references/login-box/candidates/dark/remove").status_code == 403
    assert ReferenceCandidate.objects.count() == 1


@pytest.mark.django_db
def test_the_engine_gets_every_candidate_labelled():
    ref = _reference()
    services.add_reference_candidate(ref, label="dark", png=_png("yellow", "navy"), user=None)
    own_areas = [{"x": 100, "y": 50, "width": 40, "height": 20, "type": "match"}]
    services.add_reference_candidate(ref, label="moved", png=_png(), user=None, areas=own_areas)
    specs = build_references()["login-box"]
    assert [s.label for s in specs] == ["login-box", "dark", "moved"]
    assert [s.areas for s in specs] == [[(20, 10, 60, 30)]] * 2 + [[(100, 50, 40, 20)]]
    assert all(s.threshold == 0.95 for s in specs)


@pytest.mark.django_db(transaction=True)
def test_a_web_run_reports_which_candidate_matched(client, monkeypatch):
    monkeypatch.setattr("runs.services.send_run", lambda run: None)
    monkeypatch.setattr("runs.event_store.broadcast", lambda run_id, payload: None)
    rig = FakeRig()
    rig.vm("demo-1").screen.frames = [_png("yellow", "navy")]  # the screen looks like 'dark'
    real = orchestrator.run_scenario
    monkeypatch.setattr(
        orchestrator, "run_scenario", lambda *a, **kw: real(*a, session_factory=rig, **kw)
    )
    inventory()
    ref = _reference()
    services.add_reference_candidate(ref, label="dark", png=_png("yellow", "navy"), user=None)
    text = "name: look\nsteps:\n  - {type: verify_screen, reference: login-box, timeout: 5s}\n"
    run = launch_run(revision("look", text=text), [{"vm": "demo-1", "host": "local"}], {}, None)
    Run.objects.filter(pk=run.pk).update(state=RunState.RUNNING)
    assert execute(run.pk, worker="test") == "passed"
    step = StepResult.objects.get(run=run, step_id="1")
    assert step.status == "passed"
    assert "login-box matched by candidate 'dark' of 2" in step.output
    client.force_login(make_user("vera", "viewer"))
    page = client.get(f"/runs/{run.pk}/").content.decode()
    assert "matched by candidate &#x27;dark&#x27; of 2" in page


@pytest.mark.django_db
def test_examples_load_name_at_label_files_as_candidates():
    loaded = services.load_examples(ROOT / "examples", make_user("ada", "admin"))
    assert not [e for e in loaded["errors"] if "references/" in e], loaded["errors"]
    assert "desktop-xcalc-title" in loaded["references"]
    assert not ReferenceImage.objects.filter(name__contains="focused").exists()
    candidate = ReferenceCandidate.objects.get(reference__name="desktop-xcalc-title")
    meta = json.loads((ROOT / "examples/references/desktop-xcalc-title@focused.json").read_text())
    assert candidate.label == "focused"
    assert candidate.areas == [
        {"x": x, "y": y, "width": w, "height": h, "type": "match"} for x, y, w, h in meta["areas"]
    ]
