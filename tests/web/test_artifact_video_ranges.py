"""A run's video artifact answers byte ranges (a browser seeks a <video> by them): 206 with
Content-Range, at most 8 MiB per answer, 416 for a range past the end; other artifacts and a
plain GET answer whole."""

import pytest
from django.core.files.base import ContentFile

from runs.models import Artifact
from tests.fixtures.web import make_user
from tests.web import run_pages_data as data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_video_byte_ranges(client):
    user = make_user("vera", "operator")
    client.force_login(user)
    sc, rev = data.scenario("v")
    run = data.new_run(sc, rev, user)
    body = bytes(range(256)) * 40  # 10240 bytes
    art = Artifact(run=run, target=run.run_targets.get(), name="video.webm", kind="file")
    art.mime = "video/webm"
    art.file.save("v.webm", ContentFile(body), save=False)
    art.size = len(body)
    art.save()
    url = f"/runs/{run.pk}/artifacts/{art.pk}"

    part = client.get(url, HTTP_RANGE="bytes=100-299")
    assert part.status_code == 206
    assert part["Content-Range"] == "bytes 100-299/10240"
    assert part.content == body[100:300]
    tail = client.get(url, HTTP_RANGE="bytes=-40")
    assert tail.status_code == 206 and tail.content == body[-40:]
    open_end = client.get(url, HTTP_RANGE="bytes=10000-")
    assert open_end["Content-Range"] == "bytes 10000-10239/10240"
    past = client.get(url, HTTP_RANGE="bytes=20000-20010")
    assert past.status_code == 416 and past["Content-Range"] == "bytes */10240"
    whole = client.get(url)
    assert whole.status_code == 200 and whole["Accept-Ranges"] == "bytes"
    assert b"".join(whole.streaming_content) == body
