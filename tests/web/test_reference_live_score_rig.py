"""The reference editor's live score against real screens: the areas being edited (not saved)
are searched on a rig VM's screen now, through the inventory's capture path, and on a run's
screenshot artifact, by the engine's matcher: which area matches, its score, where it was found;
a VM that is not running answers a plain 409."""

from __future__ import annotations

import base64
import io
import json
import os

import pytest
from django.core.files.base import ContentFile
from PIL import Image

from hosts.models import Host, VirtualMachine
from hosts.services import take_screenshot
from runs.models import Artifact
from scenarios.services import save_reference_image
from tests.fixtures.web import make_user
from tests.rig.protocol_helpers import poll
from tests.web import run_pages_data as data

pytestmark = [pytest.mark.rig, pytest.mark.django_db]

LINE = 16  # the text console's character cell is 9x16
MARK = {"x": 0, "y": 0, "width": 15 * 9, "height": LINE, "type": "match"}  # LIVE SCORE MARK
OTHER = {"x": 0, "y": LINE, "width": 13 * 9, "height": LINE, "type": "match"}  # OTHER TEXT 42
# the cursor's cell after the text: left out, as a reference would leave out a clock
CURSOR = {"x": 0, "y": 2 * LINE, "width": 18, "height": LINE, "type": "exclude"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _console(rig_vm, text: str) -> None:
    rig_vm.shell(f"printf '\\033[2J\\033[H{text}' > /dev/tty1")


def _data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def _score(client, **body):
    return client.post("/references/score", json.dumps(body), content_type="application/json")


def test_areas_scored_on_a_vm_screen_and_a_run_screenshot(client, rig_vm):
    host = Host.objects.create(name="local", uri=rig_vm.uri)
    vm = VirtualMachine.objects.create(host=host, name=rig_vm.name, state="running")
    user = make_user("olga", "operator")
    client.force_login(user)

    # the reference picture: both lines at the top, taken through the inventory's capture path
    _console(rig_vm, "LIVE SCORE MARK\\nOTHER TEXT 42\\n")
    picture = poll(
        lambda: take_screenshot(host, rig_vm.name),
        lambda png: _has_text(png, MARK) and _has_text(png, OTHER),
        timeout=30,
    )
    assert _has_text(picture, MARK) and _has_text(picture, OTHER)
    # the screen now: the mark five lines down, the other line gone
    _console(rig_vm, "\\n\\n\\n\\n\\nLIVE SCORE MARK\\n")
    lower = {**MARK, "y": 5 * LINE}
    now = poll(
        lambda: take_screenshot(host, rig_vm.name),
        lambda png: _has_text(png, lower) and not _has_text(png, OTHER),
        timeout=30,
    )
    assert _has_text(now, lower) and not _has_text(now, OTHER)

    answer = _score(
        client,
        image=_data_url(picture),
        areas=[MARK, OTHER, CURSOR],
        threshold=0.95,
        vm=vm.pk,
    )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["ok"] and body["method"] == "template" and body["threshold"] == 0.95
    assert body["source"].startswith(f"local/{rig_vm.name} at ")
    assert (body["screen"]["width"], body["screen"]["height"]) == (720, 400)
    assert body["screen"]["image"].startswith("data:image/png;base64,")
    mark, other = body["areas"]  # the exclude area is not scored
    assert (mark["index"], other["index"]) == (0, 1)
    assert mark["matched"] and mark["score"] >= 0.95, mark
    assert mark["found"] == [0, 5 * LINE], mark  # searched over the whole screen, found lower
    assert not other["matched"] and other["score"] < 0.95, other
    assert not body["matched"] and body["score"] == other["score"]  # the worst area decides

    # a run's screenshot of that screen scores the same way; a saved reference by its name
    shot = take_screenshot(host, rig_vm.name)
    sc, rev = data.scenario("screen", user)
    run = data.new_run(sc, rev, user, targets=(("local", rig_vm.name),))
    art = Artifact(run=run, target=run.run_targets.get(), step_id="3", name="3-desk.png")
    art.kind, art.mime, art.size = "screenshot", "image/png", len(shot)
    art.file.save("desk.png", ContentFile(shot), save=False)
    art.save()
    save_reference_image(name="mark", png=picture, areas=[MARK], user=user, threshold=0.97)
    answer = _score(client, reference="mark", areas=[MARK], threshold=0.97, artifact=art.pk)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["matched"], body["areas"]
    assert body["source"] == f"run {run.pk} local/{rig_vm.name} step 3 3-desk.png"
    assert body["areas"][0]["found"] == [0, 5 * LINE]

    # the editor offers both sources
    page = client.get(f"/references/new?vm={vm.pk}")
    html = page.content.decode()
    assert f'value="vm:{vm.pk}" selected' in html
    assert f'value="artifact:{art.pk}"' in html


def _has_text(png: bytes, area: dict) -> bool:
    """Light pixels (console text) in ``area`` of the screenshot."""
    with Image.open(io.BytesIO(png)) as img:
        box = (area["x"], area["y"], area["x"] + area["width"], area["y"] + area["height"])
        return img.convert("L").crop(box).getextrema()[1] > 128


def test_a_vm_that_is_not_running_answers_plainly(client, rig_vm, libvirt_uri):
    import libvirt

    from guest.domain import define_guest

    name = os.environ.get("ATP_RIG_PREFIX", "atp-test-") + "stopped"
    conn = libvirt.open(libvirt_uri)
    define_guest(conn, name)  # defined, never started
    try:
        host = Host.objects.create(name="local", uri=rig_vm.uri)
        vm = VirtualMachine.objects.create(host=host, name=name, state="running")  # stale row
        client.force_login(make_user("vera", "viewer"))  # a viewer may score: it writes nothing
        picture = take_screenshot(host, rig_vm.name)
        answer = _score(client, image=_data_url(picture), areas=[MARK], vm=vm.pk)
        assert answer.status_code == 409, answer.content
        assert answer.json() == {
            "ok": False,
            "error": f"local/{name} has no screen now: domain {name!r} is not running",
        }
    finally:
        conn.lookupByName(name).undefine()
        conn.close()
