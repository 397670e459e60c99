"""What the worker hands the engine: a Target per RunTarget (host URI from the Host), VDI
settings from the first enabled endpoint (password decrypted), references with match areas."""

from __future__ import annotations

import io

import pytest
from django.core.files.base import ContentFile

from hosts.models import VdiEndpoint
from runs.engine_runner import build_references, build_targets, build_vdi
from runs.services import launch_run
from scenarios.models import ReferenceImage
from tests.web.runs_core_data import inventory, revision

pytestmark = pytest.mark.django_db


def test_targets_follow_the_host_uri(monkeypatch):
    monkeypatch.setattr("runs.services.send_run", lambda run: None)
    host, _ = inventory()
    run = launch_run(revision(), [{"tag": "demo"}, {"vm": "fresh", "host": "local"}], {}, None)
    host.uri = "qemu+ssh://root@hv1/system"  # the host moved after launch: its URI now counts
    host.save()
    targets = build_targets(run)
    assert [(t.name, t.vm, t.host_uri, t.host_name) for t in targets] == [
        ("local/demo-1", "demo-1", "qemu+ssh://root@hv1/system", "local"),
        ("local/demo-2", "demo-2", "qemu+ssh://root@hv1/system", "local"),
        ("local/fresh", "fresh", "qemu+ssh://root@hv1/system", "local"),
    ]


def test_vdi_settings_from_the_first_enabled_endpoint():
    assert build_vdi() is None
    off = VdiEndpoint(name="off", url="https://off.example", username="x", enabled=False)
    off.set_password("nope")
    off.save()
    on = VdiEndpoint(name="lab", url="https://vdi.example", username="admin", verify_tls=False)
    on.set_password("s3cret-pw")
    on.save()
    vdi = build_vdi()
    assert (vdi.url, vdi.username, vdi.password, vdi.verify_tls) == (
        "https://vdi.example",
        "admin",
        "s3cret-pw",
        False,
    )


def test_references_with_match_areas(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 20, 30)).save(buf, "PNG")
    ref = ReferenceImage(
        name="login-box",
        width=64,
        height=48,
        threshold=0.9,
        areas=[
            {"x": 1, "y": 2, "width": 30, "height": 20, "type": "match"},
            {"x": 40, "y": 0, "width": 10, "height": 10, "type": "exclude"},
        ],
    )
    ref.image.save("login-box.png", ContentFile(buf.getvalue()))
    refs = build_references()
    (spec,) = refs["login-box"]
    assert spec.path == ref.image.path and spec.threshold == 0.9
    assert spec.areas == [(1, 2, 30, 20)], "exclude areas are not match areas"
    assert spec.label == "login-box"
