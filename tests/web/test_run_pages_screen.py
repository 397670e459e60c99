"""The VM-screen endpoint of the live view captures each VM's screen at most once per
SCREEN_MIN_INTERVAL (under half a second: >= 2 frames/s), however many viewers ask, serves it
full size on ``?full=1``, and says why when there is no screen."""

from __future__ import annotations

import threading

import pytest

from runs import views
from tests.fixtures.web import make_user
from tests.web import run_pages_data as data

pytestmark = pytest.mark.django_db


@pytest.fixture
def screenshots(monkeypatch):
    calls = []

    def fake(host, vm_name):
        calls.append((host.name, vm_name))
        return data.png_bytes(size=(1600, 900))

    monkeypatch.setattr("hosts.services.take_screenshot", fake)
    views._screens.clear()
    return calls


@pytest.mark.django_db(transaction=True)  # the viewer threads must see the committed rows
def test_one_screenshot_per_interval_for_many_viewers(client, screenshots, monkeypatch):
    client.force_login(make_user("vera", "viewer"))
    sc, rev = data.scenario("demo")
    run = data.new_run(sc, rev)
    target = run.run_targets.get()
    url = f"/runs/{run.pk}/targets/{target.pk}/screen.png"

    clock = [1000.0]
    monkeypatch.setattr(views.time, "monotonic", lambda: clock[0])
    responses = []

    def viewer():
        from django.db import connection

        try:
            responses.append(client.get(url))
        finally:
            connection.close()

    threads = [threading.Thread(target=viewer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in responses] == [200] * 8
    assert screenshots == [("local", "demo-1")]
    png = responses[0].content
    assert png.startswith(b"\x89PNG")
    import io

    from PIL import Image

    with Image.open(io.BytesIO(png)) as img:
        assert img.width == views.SCREEN_MAX_WIDTH  # shrunk for the page

    clock[0] += views.SCREEN_MIN_INTERVAL / 2
    client.get(url)
    assert len(screenshots) == 1
    full = client.get(url + "?full=1")  # the same capture, full size
    assert len(screenshots) == 1
    with Image.open(io.BytesIO(full.content)) as img:
        assert img.size == (1600, 900)
    clock[0] += views.SCREEN_MIN_INTERVAL
    client.get(url)
    assert len(screenshots) == 2
    assert views.SCREEN_MIN_INTERVAL <= 0.5  # the page refreshes at >= 2 frames/s


def test_no_screen_is_explained(client, monkeypatch):
    from atp_core.errors import InfrastructureError

    def broken(host, vm_name):
        raise InfrastructureError(f"domain {vm_name} is not running")

    monkeypatch.setattr("hosts.services.take_screenshot", broken)
    views._screens.clear()
    client.force_login(make_user("vera", "viewer"))
    sc, rev = data.scenario("demo")
    run = data.new_run(sc, rev)
    target = run.run_targets.get()
    response = client.get(f"/runs/{run.pk}/targets/{target.pk}/screen.png")
    assert response.status_code == 503
    assert b"domain demo-1 is not running" in response.content
    other = data.new_run(sc, rev)
    assert client.get(f"/runs/{other.pk}/targets/{target.pk}/screen.png").status_code == 404
