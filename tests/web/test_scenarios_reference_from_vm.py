"""A reference image can start from a running VM's screen, taken at full resolution now."""

from __future__ import annotations

import base64
import io
import json

import pytest
from PIL import Image

from hosts.models import Host, VirtualMachine
from scenarios.models import ReferenceImage
from tests.fixtures.web import make_user

pytestmark = [pytest.mark.rig, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_reference_from_live_vm_screen(client, rig_vm):
    host = Host.objects.create(name="local", uri=rig_vm.uri)
    vm = VirtualMachine.objects.create(host=host, name=rig_vm.name, state="running")
    client.force_login(make_user("olga", "operator"))

    page = client.get(f"/references/new?vm={vm.pk}")
    data_url = page.context["image_data"]
    png = base64.b64decode(data_url.split(",", 1)[1])
    width, height = Image.open(io.BytesIO(png)).size
    assert width > 320 and height > 200, (width, height)  # the screen itself, not a thumbnail

    response = client.post(
        "/references/new",
        {
            "name": "console",
            "image_data": data_url,
            "areas": json.dumps([{"x": 0, "y": 0, "width": 100, "height": 20, "type": "match"}]),
            "source": page.context["source"],
        },
        HTTP_X_REQUESTED_WITH="fetch",
    )
    assert response.json()["ok"], response.content
    ref = ReferenceImage.objects.get(name="console")
    assert (ref.width, ref.height) == (width, height)
    assert ref.source.startswith(f"screenshot of local/{rig_vm.name}")
