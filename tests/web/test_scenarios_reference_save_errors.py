"""A refused reference save (no areas, bad threshold) keeps the screenshot: the editor comes
back with the same image, what was typed, and the error, as a 400."""

import base64
import io
import json

import pytest
from PIL import Image

from scenarios.models import ReferenceImage
from tests.fixtures.web import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _png_data_url() -> str:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


@pytest.mark.parametrize(
    ("areas", "threshold", "message"),
    [
        ("[]", "0.9", "give at least one area"),
        (
            json.dumps([{"x": 1, "y": 1, "width": 5, "height": 5, "type": "exclude"}]),
            "0.9",
            "at least one area must be of type",
        ),
        (json.dumps([{"x": 1, "y": 1, "width": 5, "height": 5}]), "7", "threshold"),
    ],
)
def test_a_refused_save_stays_on_the_form_with_the_screenshot(client, areas, threshold, message):
    client.force_login(make_user("olga", "operator"))
    image = _png_data_url()
    response = client.post(
        "/references/new",
        {
            "name": "login-box",
            "tags": "ui, login",
            "threshold": threshold,
            "areas": areas,
            "image_data": image,
            "source": "upload shot.png",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="ref-form-error"' in html and "Not saved:" in html and message in html
    assert f'data-src="{image}"' in html, "the same screenshot is still on the canvas"
    assert 'value="login-box"' in html and 'value="ui, login"' in html
    assert ReferenceImage.objects.count() == 0
