"""Uploads are bounded before they are read whole and images have a pixel cap, each refused
with a clear error naming the limit, never a 500 (issue 11 item 11)."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from atp_core.errors import InvalidInput
from atp_site.uploads import read_upload
from scenarios.models import ReferenceImage
from tests.fixtures.web import make_user

pytestmark = pytest.mark.django_db

AREAS = json.dumps([{"x": 0, "y": 0, "width": 5, "height": 5}])


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _png(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.new("1", (width, height)).save(buf, "PNG", optimize=True)
    return buf.getvalue()


def test_content_length_over_the_limit_is_refused_before_reading(client, settings):
    settings.ATP_REQUEST_MAX_BYTES = 1000
    client.force_login(make_user("olga", "operator"))
    answer = client.post(
        "/references/new", {"areas": AREAS, "screenshot": SimpleUploadedFile("s.png", b"x" * 5000)}
    )
    assert answer.status_code == 400
    assert "the limit is 1,000 bytes (ATP_REQUEST_MAX_BYTES)" in answer.content.decode()
    api = client.post("/api/scenarios/validate/", {"text": "x" * 5000}, "application/json")
    assert api.status_code == 400 and "ATP_REQUEST_MAX_BYTES" in api.json()["detail"]


def test_an_upload_is_read_in_chunks_and_cut_at_the_limit(settings):
    settings.ATP_UPLOAD_MAX_BYTES = 100_000

    unsized = SimpleUploadedFile("big.png", b"x" * 300_000)
    unsized.size = None  # a size nobody declared: only the streamed read can stop it
    with pytest.raises(InvalidInput, match=r"larger than 100,000 bytes.*ATP_UPLOAD_MAX_BYTES"):
        read_upload(unsized, "screenshot big.png")
    with pytest.raises(InvalidInput, match=r"300,000 bytes; the limit is 100,000"):
        read_upload(SimpleUploadedFile("big.png", b"x" * 300_000), "screenshot big.png")
    assert read_upload(SimpleUploadedFile("ok.png", b"y" * 10)) == b"y" * 10


def test_an_oversized_upload_is_refused_naming_the_limit(client, settings):
    settings.ATP_UPLOAD_MAX_BYTES = 2000
    client.force_login(make_user("olga", "operator"))
    answer = client.post(
        "/references/new",
        {"name": "r", "areas": AREAS, "screenshot": SimpleUploadedFile("s.png", b"x" * 5000)},
        HTTP_ACCEPT="application/json",
    )
    assert answer.status_code == 400
    assert "the limit is 2,000 bytes (ATP_UPLOAD_MAX_BYTES)" in answer.json()["error"]


@pytest.mark.parametrize(
    ("side", "said"),
    [
        (5000, "5000x5000 = 25,000,000 pixels"),  # over the cap: the explicit check
        (6000, "decompresses to too many pixels"),  # over twice the cap: Pillow's bomb guard
    ],
)
def test_an_image_over_the_pixel_cap_is_a_clear_400(client, settings, side, said):
    settings.ATP_IMAGE_MAX_PIXELS = 16_000_000
    client.force_login(make_user("olga", "operator"))
    bomb = _png(side, side)  # tens of megapixels in a few kilobytes
    assert len(bomb) < 100_000
    answer = client.post(
        "/references/new",
        {"name": "bomb", "areas": AREAS, "screenshot": SimpleUploadedFile("b.png", bomb)},
        HTTP_ACCEPT="application/json",
    )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert said in error
    assert "the limit is 16,000,000 pixels (ATP_IMAGE_MAX_PIXELS)" in error
    assert ReferenceImage.objects.count() == 0
