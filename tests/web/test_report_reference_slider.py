"""A failed screen check on the report: its reference as the step checked it and the actual
screen (the engine's ``-reference`` and ``-best`` artifacts next to the ``-diff``) make a
reference/actual slider; the reference is not repeated as a thumbnail; a check without a stored
reference (runs from before it was kept) shows no slider."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from runs.models import Artifact, Run
from tests.fixtures.web import make_user
from tests.web import run_pages_data as data

pytestmark = pytest.mark.django_db

ERROR = "screen did not match 'login' within 3 s (4 screenshots): best template score 0.412"
REFERENCE_COLOUR, ACTUAL_COLOUR = (30, 90, 200), (230, 140, 20)


def _image(run, target, name, kind, colour):
    png = data.png_bytes(colour, size=(320, 200))
    art = Artifact(
        run=run, target=run.run_targets.get(name=target), step_id="2", name=name, kind=kind
    )
    art.mime = "image/png"
    art.file.save(f"run{run.pk}-{name}", ContentFile(png), save=False)
    art.size = len(png)
    art.save()
    data.emit(
        run,
        "artifact",
        {"artifact_id": art.pk, "name": name, "kind": kind, "mime": "image/png"},
        target,
        "2",
    )
    return art


def failed_screen_check(user, *, with_reference=True):
    """A run whose step 2 (a verify_screen of 'login') failed with the engine's artifacts."""
    sc, rev = data.scenario("screen-check", user)
    run = data.new_run(sc, rev, user)
    target = "local/demo-1"
    data.play(run, upto="step2")
    _image(run, target, "2-login-best.png", "screenshot", ACTUAL_COLOUR)
    if with_reference:
        _image(run, target, "2-login-reference.png", "screenshot", REFERENCE_COLOUR)
    _image(run, target, "2-login-diff.png", "diff", (90, 90, 90))
    data.emit(
        run,
        "step_finished",
        {
            "name": "check login",
            "type": "verify_screen",
            "status": "failed",
            "duration": 3.0,
            "error": ERROR,
            "output": "",
            "iteration": None,
        },  # fmt: skip
        target,
        "2",
    )
    data.emit(run, "target_finished", {"result": "failed", "duration": 3.4, "totals": {}}, target)
    data.emit(run, "run_finished", {"result": "failed", "duration": 3.5, "totals": {}})
    Run.objects.filter(pk=run.pk).update(finished=timezone.now())
    return run


def _step(html: str, step_id: str) -> str:
    part = html.split(f'data-step="{step_id}"', 1)[1]
    return part.split('<li class="step', 1)[0]


def test_the_failed_check_has_a_reference_actual_slider(client):
    user = make_user("vera", "viewer")
    run = failed_screen_check(user)
    client.force_login(user)
    html = client.get(f"/runs/{run.pk}/").content.decode()
    step = _step(html, "2")
    figure = step.split('<figure class="ref-slider"', 1)[1].split("</figure>", 1)[0]
    reference = Artifact.objects.get(run=run, name="2-login-reference.png")
    actual = Artifact.objects.get(run=run, name="2-login-best.png")
    assert f'class="slider-actual" src="/runs/{run.pk}/artifacts/{actual.pk}"' in figure
    assert f'class="slider-reference" src="/runs/{run.pk}/artifacts/{reference.pk}"' in figure
    assert 'type="range" class="slider-range" min="0" max="100" value="50"' in figure
    assert "Reference <code>login</code> as the step checked it" in figure
    assert step.count("2-login-reference.png") == 1, "the reference is in the slider only"
    assert 'class="shot" href="/runs/' in step and "2-login-best.png</span>" in step
    assert '<figure class="diff-figure"' in step, "the side-by-side diff stays"
    assert "runs/slider.js" in html
    assert "2-login-reference.png" not in html.split('data-step="3"')[1], "not under Artifacts"


def test_no_slider_without_a_stored_reference(client):
    user = make_user("vera", "viewer")
    run = failed_screen_check(user, with_reference=False)
    client.force_login(user)
    step = _step(client.get(f"/runs/{run.pk}/").content.decode(), "2")
    assert "ref-slider" not in step and '<figure class="diff-figure"' in step
