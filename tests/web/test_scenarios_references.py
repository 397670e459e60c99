"""Reference images: a screenshot plus match/exclude areas checked against the image size."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from scenarios.models import ReferenceImage
from tests.fixtures.web import make_user

pytestmark = pytest.mark.django_db


def _png(width=200, height=100) -> bytes:
    img = Image.new("RGB", (width, height), "white")
    for x in range(20, 80):
        for y in range(10, 40):
            img.putpixel((x, y), (0, 0, 0))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


AREAS = [
    {"x": 20, "y": 10, "width": 60, "height": 30, "type": "match", "threshold": 0.9},
    {"x": 100, "y": 50, "width": 20, "height": 20, "type": "exclude"},
]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def operator_client(client):
    client.force_login(make_user("olga", "operator"))
    return client


def _save(client, areas, name="login-button", **extra):
    return client.post(
        "/references/new",
        {
            "name": name,
            "screenshot": SimpleUploadedFile("s.png", _png(), "image/png"),
            "areas": json.dumps(areas),
            "threshold": "0.95",
            "tags": "login, win10",
            **extra,
        },
        HTTP_X_REQUESTED_WITH="fetch",
    )


def test_save_reference_with_areas_and_serve_it(operator_client):
    response = _save(operator_client, AREAS)
    assert response.json() == {
        "ok": True,
        "url": "/references/login-button/",
        "name": "login-button",
    }
    ref = ReferenceImage.objects.get(name="login-button")
    assert (ref.width, ref.height) == (200, 100)
    assert ref.areas == AREAS and ref.threshold == 0.95 and ref.tags == ["login", "win10"]
    assert ref.created_by.username == "olga"
    served = operator_client.get("/references/login-button/image.png")
    image = Image.open(io.BytesIO(b"".join(served.streaming_content)))
    assert image.size == (200, 100) and image.getpixel((30, 20)) == (0, 0, 0)
    api = operator_client.get("/api/references/login-button/").json()
    assert api["areas"] == AREAS and api["image_url"] == "/references/login-button/image.png"
    assert "login-button" in operator_client.get("/references/").content.decode()


def test_saving_again_replaces_areas(operator_client):
    _save(operator_client, AREAS)
    _save(operator_client, AREAS[:1])
    assert ReferenceImage.objects.get(name="login-button").areas == AREAS[:1]
    assert ReferenceImage.objects.count() == 1


@pytest.mark.parametrize(
    ("areas", "message"),
    [
        ([], "at least one area"),
        ([{"x": 190, "y": 0, "width": 20, "height": 10}], "not inside the 200x100 screenshot"),
        ([{"x": 0, "y": 0, "width": 10, "height": 10, "type": "ocr"}], "allowed match, exclude"),
        (
            [{"x": 0, "y": 0, "width": 10, "height": 10, "type": "exclude"}],
            "must be of type 'match'",
        ),
        ([{"x": "a", "y": 0, "width": 10, "height": 10}], "must be integers"),
        ([{"x": 0, "y": 0, "width": 10, "height": 10, "threshold": 2}], "allowed 0 < t <= 1"),
    ],
)
def test_bad_areas_are_clear_errors(operator_client, areas, message):
    response = _save(operator_client, areas)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert not ReferenceImage.objects.exists()


def test_not_an_image_is_refused(operator_client):
    response = operator_client.post(
        "/references/new",
        {
            "name": "x",
            "screenshot": SimpleUploadedFile("s.png", b"not a png"),
            "areas": json.dumps(AREAS),
        },
        HTTP_X_REQUESTED_WITH="fetch",
    )
    assert response.status_code == 400 and "not a readable image" in response.json()["error"]


def test_viewer_cannot_create(client):
    client.force_login(make_user("vera", "viewer"))
    assert client.get("/references/new").status_code == 403


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
def test_reference_page_opens_for_every_role(client, role):
    """The saved reference's page renders (it was a 500 for operators and admins: the editor
    form resolved a context variable the page did not have)."""
    owner = Client()
    owner.force_login(make_user("olga", "operator"))
    assert _save(owner, AREAS).status_code == 200
    client.force_login(make_user(f"u-{role}", role))
    page = client.get("/references/login-button/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Reference login-button" in html
    assert ("Save reference" in html) == (role != "viewer")
    assert 'value="upload s.png"' in html or role == "viewer"
