"""The live score refuses what it cannot answer with a clear message: 400 for bad input (what,
where, what is allowed; sizes bounded), 404 for an unknown VM, artifact or reference, 403
without a role; never a traceback."""

from __future__ import annotations

import base64
import io
import json

import pytest
from django.core.files.base import ContentFile
from PIL import Image

from hosts.models import Host, VirtualMachine
from runs.models import Artifact
from scenarios import scoring
from tests.fixtures.web import make_user
from tests.web import run_pages_data as data

pytestmark = pytest.mark.django_db

AREA = {"x": 0, "y": 0, "width": 20, "height": 10, "type": "match"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _png(size=(64, 40)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (40, 90, 160)).save(buf, "PNG")
    return buf.getvalue()


IMAGE = "data:image/png;base64," + base64.b64encode(_png()).decode()


def _post(client, body, raw=False):
    text = body if raw else json.dumps(body)
    return client.post("/references/score", text, content_type="application/json")


@pytest.fixture
def operator(client):
    client.force_login(make_user("olga", "operator"))
    return client


@pytest.fixture
def artifact():
    sc, rev = data.scenario("demo")
    run = data.new_run(sc, rev)
    art = Artifact(run=run, name="log.txt", kind="log", mime="text/plain", size=5)
    art.file.save("log.txt", ContentFile(b"hello"), save=False)
    art.save()
    return art


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("not json", "the body is not JSON"),
        ([1, 2], "expected a JSON object"),
        ({"image": IMAGE, "areas": [AREA]}, "give the screen to score against: 'vm'"),
        ({"image": IMAGE, "areas": [AREA], "vm": 1, "artifact": 2}, "one of them"),
        ({"image": IMAGE, "areas": [AREA], "vm": "x"}, "vm: 'x' is not an id"),
        ({"areas": [AREA], "vm": 1}, "give the reference picture: 'reference'"),
        ({"image": "data:image/gif;base64,AAAA", "areas": [AREA], "vm": 1}, "image: expected"),
        ({"image": "data:image/png;base64,@@", "areas": [AREA], "vm": 1}, "image: not base64"),
        (
            {"image": "data:image/png;base64,aGVsbG8=", "areas": [AREA], "vm": 1},
            "the reference picture (image) is not a readable image",
        ),
        ({"image": IMAGE, "areas": [], "vm": 1}, "areas: give at least one area"),
        ({"image": IMAGE, "areas": [AREA] * 33, "vm": 1}, "areas: 33 given; the limit is 32"),
        (
            {"image": IMAGE, "areas": [{**AREA, "x": 60}], "vm": 1},
            "areas[0]: 20x10+60+0 is not inside the 64x40 screenshot",
        ),
        (
            {"image": IMAGE, "areas": [{**AREA, "type": "maybe"}], "vm": 1},
            "areas[0].type: 'maybe'; allowed match, exclude",
        ),
        ({"image": IMAGE, "areas": [AREA], "vm": 1, "threshold": 2}, "threshold: 2; allowed"),
        ({"image": IMAGE, "areas": [AREA], "vm": 1, "threshold": "hi"}, "is not a number"),
    ],
)
def test_bad_input_is_a_clear_400(operator, body, message):
    response = _post(operator, body, raw=isinstance(body, str))
    assert response.status_code == 400, response.content
    answer = response.json()
    assert answer["ok"] is False and message in answer["error"], answer


def test_too_many_pixels_is_refused_from_the_header(operator, settings, monkeypatch):
    from PIL import Image as PilImage

    settings.ATP_IMAGE_MAX_PIXELS = 2000
    monkeypatch.setattr(PilImage, "MAX_IMAGE_PIXELS", 2000)  # as the middleware sets it
    response = _post(operator, {"image": IMAGE, "areas": [AREA], "vm": 1})
    assert response.status_code == 400
    assert "64x40 = 2,560 pixels; the limit is 2,000 pixels" in response.json()["error"]
    big = "data:image/png;base64," + base64.b64encode(_png((100, 50))).decode()
    response = _post(operator, {"image": big, "areas": [AREA], "vm": 1})
    assert response.status_code == 400  # past twice the limit Pillow itself refuses it
    assert "too many pixels; the limit is 2,000 pixels" in response.json()["error"]


def test_an_image_over_the_byte_limit_is_refused(operator, monkeypatch):
    monkeypatch.setattr(scoring, "MAX_REFERENCE_BYTES", 100)
    response = _post(operator, {"image": IMAGE, "areas": [AREA], "vm": 1})
    assert response.status_code == 400
    assert "the limit is 100" in response.json()["error"]


def test_unknown_sources_are_404_and_a_non_png_artifact_400(operator, artifact):
    for body, message in (
        ({"image": IMAGE, "areas": [AREA], "vm": 999999}, "no VM with id 999999"),
        ({"image": IMAGE, "areas": [AREA], "artifact": 999999}, "no run artifact with id 999999"),
        ({"reference": "nope", "areas": [AREA], "vm": 1}, "no reference image named 'nope'"),
    ):
        response = _post(operator, body)
        assert response.status_code == 404, response.content
        assert response.json() == {"ok": False, "error": message}
    response = _post(operator, {"image": IMAGE, "areas": [AREA], "artifact": artifact.pk})
    assert response.status_code == 400
    assert "artifact log.txt: text/plain, not a PNG screenshot" in response.json()["error"]


def test_a_vdi_only_vm_has_no_screen_to_score(operator):
    vm = VirtualMachine.objects.create(host=None, name="desk-7", source="vdi")
    response = _post(operator, {"image": IMAGE, "areas": [AREA], "vm": vm.pk})
    assert response.status_code == 409
    assert "known only from a VDI platform" in response.json()["error"]


def test_a_hanging_capture_is_cut_at_the_timeout(operator, settings, monkeypatch):
    import threading

    release = threading.Event()
    monkeypatch.setattr("hosts.services.take_screenshot", lambda host, name: release.wait(30))
    settings.ATP_SCORE_CAPTURE_TIMEOUT = 0.2
    host = Host.objects.create(name="slow", uri="test:///default")
    vm = VirtualMachine.objects.create(host=host, name="hangs", state="running")
    try:
        response = _post(operator, {"image": IMAGE, "areas": [AREA], "vm": vm.pk})
    finally:
        release.set()
    assert response.status_code == 504
    assert response.json()["error"] == "no screenshot of hangs on slow within 0.2 s"


def test_a_person_without_a_role_is_refused(client):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.create_user("nobody", password="x"))
    assert _post(client, {"image": IMAGE, "areas": [AREA], "vm": 1}).status_code == 403
    assert client.get("/references/score").status_code == 405
